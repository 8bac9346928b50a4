// `serve [<project>] [--port P] [--lan] [--invite NAME …]`: browser mode until Ctrl-C.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Services } from '../../api/services.js';
import { defaultDataDir } from '../../api/settings.js';
import { appVersion } from '../../app-version.js';
import { startServer } from '../../server.js';
import type { Command } from '../command.js';
import { InputError } from '../../shared/errors.js';

/** With no project named: the demo, else the last project, else a scratch project. */
function openDefault(services: Services, dataDir: string): void {
  if (services.demoPath()) {
    services.openDemo();
    return;
  }
  const last = services.settings.get().lastProject;
  if (last && existsSync(last)) {
    services.openProject(last);
    return;
  }
  const scratch = join(dataDir, 'scratch.rlhf');
  services.openProject(scratch, { create: !existsSync(scratch) });
}

export const serveCommand: Command = {
  name: 'serve',
  usage: 'serve [<project>] [--port P] [--lan] [--invite NAME …]',
  summary: 'browser mode on 127.0.0.1 (all interfaces with --lan; --invite prints an invite link per teammate)',
  async run(argv, io) {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          port: { type: 'string', default: '5170' },
          lan: { type: 'boolean', default: false },
          invite: { type: 'string', multiple: true, default: [] },
          json: { type: 'boolean', default: false },
        },
      });
    } catch (e) {
      throw new InputError(`serve: ${e instanceof Error ? e.message : String(e)}`);
    }
    const { values, positionals } = parsed;
    if (positionals.length > 1) throw new InputError(`serve: expected at most one project, got ${positionals.length}`);
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputError(`serve: --port: "${values.port}" is not a port number`);
    if (values.invite.length > 0 && !values.lan) throw new InputError('serve: --invite needs --lan');
    const projectPath = positionals[0];
    if (projectPath && !existsSync(projectPath)) {
      throw new InputError(`${projectPath}: no such project file (create one with "rlhf-lab init ${projectPath}")`);
    }

    const dataDir = defaultDataDir();
    const services = new Services({ dataDir, version: appVersion() });
    if (projectPath) services.openProject(resolve(projectPath));
    else openDefault(services, dataDir);
    const server = await startServer({ port, lan: values.lan, services }).catch(async (e: NodeJS.ErrnoException) => {
      await services.close();
      if (e.code === 'EADDRINUSE') throw new InputError(`serve: port ${port} is in use; choose another with --port (0 = any free port)`);
      throw e;
    });

    const project = services.project();
    const invites = values.invite.map((name) => {
      const created = project.invites.create(project.annotators.ensure(name))!;
      return { annotator: name, url: `${server.url}/?token=${encodeURIComponent(created.token)}` };
    });
    const local = `http://127.0.0.1:${server.port}`;
    const human = [
      `RLHF Lab is serving ${project.path}`,
      `  open ${local}`,
      ...(values.lan ? [`  on the LAN: ${server.url} (teammates need an invite link)`] : []),
      ...invites.map((i) => `  invite for ${i.annotator}: ${i.url}`),
      'Press Ctrl-C to stop.',
    ].join('\n');
    io.out({ url: local, lanUrl: values.lan ? server.url : null, port: server.port, project: project.path, invites }, human);

    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    await server.close();
    await services.close();
    return 0;
  },
};

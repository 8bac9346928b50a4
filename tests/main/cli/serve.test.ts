import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandIO } from '../../../src-main/cli/command.js';
import { serveCommand } from '../../../src-main/cli/commands/serve.js';
import { BUNDLED_DEMO } from '../../../src-main/paths.js';
import { Project } from '../../../src-main/store/project.js';
import { InputError } from '../../../src-main/shared/errors.js';

let dir: string;
let home: string | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rlhf-serve-'));
  home = process.env.RLHF_LAB_HOME;
  process.env.RLHF_LAB_HOME = join(dir, 'home');
});
afterEach(() => {
  if (home === undefined) delete process.env.RLHF_LAB_HOME;
  else process.env.RLHF_LAB_HOME = home;
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `serve` until its first output, hands that over, then stops it as Ctrl-C would. */
async function serving(argv: string[], use: (out: Record<string, unknown>) => Promise<void>): Promise<number> {
  let printed!: (v: Record<string, unknown>) => void;
  const first = new Promise<Record<string, unknown>>((r) => (printed = r));
  const io: CommandIO = { json: true, out: (v) => printed(v as Record<string, unknown>), progress: () => {}, err: () => {} };
  const exit = serveCommand.run(argv, io);
  await use(await first);
  process.emit('SIGINT');
  return exit;
}

describe('rlhf-lab serve', () => {
  it('serves a project on 127.0.0.1 and stops on Ctrl-C', async () => {
    const file = join(dir, 'x.rlhf');
    Project.open(file, { create: true }).close();
    const code = await serving([file, '--port', '0'], async (out) => {
      expect(out.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${out.url}/api/project.current`, { method: 'POST', body: '{}' });
      expect(await res.json()).toMatchObject({ ok: true, value: { path: file } });
    });
    expect(code).toBe(0);
  });

  it('prints working invite links with --lan', async () => {
    const file = join(dir, 'x.rlhf');
    Project.open(file, { create: true }).close();
    await serving([file, '--port', '0', '--lan', '--invite', 'alice'], async (out) => {
      const invites = out.invites as { annotator: string; url: string }[];
      expect(invites).toHaveLength(1);
      expect(invites[0]!.annotator).toBe('alice');
      const token = new URL(invites[0]!.url).searchParams.get('token')!;
      // As if from another machine: fetch cannot set Host, node:http can.
      const asRemote = (headers: Record<string, string>) =>
        new Promise<number>((resolve, reject) => {
          const req = request(
            { host: '127.0.0.1', port: out.port as number, path: '/api/annotators.me', method: 'POST', headers: { host: `192.0.2.1:${out.port as number}`, ...headers } },
            (res) => resolve(res.resume() && res.statusCode!),
          );
          req.on('error', reject);
          req.end('{}');
        });
      expect(await asRemote({})).toBe(401);
      expect(await asRemote({ authorization: `Bearer ${token}` })).toBe(200);
    });
  });

  it('with no project named, opens a copy of the bundled demo, else a scratch project', async () => {
    await serving(['--port', '0'], async (out) => {
      const expected = existsSync(BUNDLED_DEMO) ? 'demo.rlhf' : 'scratch.rlhf';
      expect(out.project).toBe(join(dir, 'home', expected));
    });
  });

  it('rejects bad arguments as input errors', async () => {
    const io: CommandIO = { json: true, out: () => {}, progress: () => {}, err: () => {} };
    await expect(serveCommand.run(['--port', 'abc'], io)).rejects.toBeInstanceOf(InputError);
    await expect(serveCommand.run([join(dir, 'missing.rlhf')], io)).rejects.toThrow(/no such project file/);
    await expect(serveCommand.run(['--invite', 'a'], io)).rejects.toThrow(/--invite needs --lan/);
  });

  it('names a port that is already taken', async () => {
    const file = join(dir, 'x.rlhf');
    Project.open(file, { create: true }).close();
    await serving([file, '--port', '0'], async (out) => {
      const io: CommandIO = { json: true, out: () => {}, progress: () => {}, err: () => {} };
      await expect(serveCommand.run([file, '--port', String(out.port)], io)).rejects.toThrow(/port \d+ is in use/);
    });
  });
});

// `init <project>`: create a project file.
import { existsSync } from 'node:fs';
import { SCHEMA_VERSION } from '../../store/db.js';
import { Project } from '../../store/project.js';
import type { Command } from '../command.js';
import { parseFlags } from '../engine-args.js';
import { InputError } from '../../shared/errors.js';

const USAGE = 'init <project>';

export const initCommand: Command = {
  name: 'init',
  usage: USAGE,
  summary: 'create a project file (*.rlhf)',
  async run(argv, io) {
    const { positionals } = parseFlags('init', USAGE, argv, {});
    const [file, ...extra] = positionals;
    if (!file || extra.length) throw new InputError(`init: expected one <project>\nusage: rlhf-lab ${USAGE}`);
    if (existsSync(file)) throw new InputError(`${file}: already exists (init never overwrites a project)`);
    Project.open(file, { create: true }).close();
    io.out({ path: file, schemaVersion: SCHEMA_VERSION }, `created ${file}`);
    return 0;
  },
};

// `restore <backup-file> <project> [--force]`: bring a project back from a backup.
import { existsSync } from 'node:fs';
import { BadBackupError, restoreProject } from '../../store/backup.js';
import { Project } from '../../store/project.js';
import type { Command } from '../command.js';
import { parseFlags } from '../engine-args.js';
import { InputError } from '../../shared/errors.js';

const USAGE = 'restore <backup-file> <project> [--force]';

export const restoreCommand: Command = {
  name: 'restore',
  usage: USAGE,
  summary: 'replace a project with a backup (checked first; --force to overwrite an existing project)',
  async run(argv, io) {
    const { positionals, values } = parseFlags('restore', USAGE, argv, { force: { type: 'boolean', default: false } });
    const [backup, target, ...extra] = positionals;
    if (!backup || !target || extra.length) throw new InputError(`restore: expected <backup-file> <project>\nusage: rlhf-lab ${USAGE}`);
    if (existsSync(target) && !values.force) throw new InputError(`${target}: already exists; add --force to replace it with the backup`);
    let pages: number;
    try {
      ({ pages } = await restoreProject(backup, target));
    } catch (e) {
      if (e instanceof BadBackupError) throw new InputError(e.message);
      throw e;
    }
    // Opening brings a backup from an older app version up to the current schema.
    const project = Project.open(target);
    const counts = project.stats.counts();
    project.close();
    io.out({ path: target, pages, ...counts }, `restored ${target} from ${backup} (${counts.prompts} prompts, ${counts.rankings} rankings)`);
    return 0;
  },
};

// `backup <project> <file>`: an online copy of the project, safe while the app or a run uses it.
import { backupProject } from '../../store/backup.js';
import type { Command } from '../command.js';
import { openProject, parseFlags } from '../engine-args.js';
import { InputError } from '../../shared/errors.js';

const USAGE = 'backup <project> <backup-file>';

export const backupCommand: Command = {
  name: 'backup',
  usage: USAGE,
  summary: 'copy a project to a backup file while it stays in use (SQLite online backup)',
  async run(argv, io) {
    const { positionals } = parseFlags('backup', USAGE, argv, {});
    const [file, dest, ...extra] = positionals;
    if (!file || !dest || extra.length) throw new InputError(`backup: expected <project> <backup-file>\nusage: rlhf-lab ${USAGE}`);
    const project = openProject(file);
    try {
      const { pages } = await backupProject(project.db, dest, (p) => io.progress(p.totalPages - p.remainingPages, p.totalPages, 'pages'));
      io.progress(pages, pages, 'pages');
      io.out({ path: dest, pages }, `backed up ${file} to ${dest} (${pages} pages)`);
      return 0;
    } finally {
      project.close();
    }
  },
};

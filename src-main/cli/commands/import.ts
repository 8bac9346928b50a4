// `import <project> <file> --as prompts|sft|preferences|rankings [--split train|eval]`: all or nothing.
import { existsSync } from 'node:fs';
import type { ImportResult } from '../../shared/contract.js';
import { runJobInProcess } from '../../jobs/run-in-process.js';
import type { Command } from '../command.js';
import { openProject, parseFlags } from '../engine-args.js';
import { InputError } from '../../shared/errors.js';

const USAGE = 'import <project> <file> --as prompts|sft|preferences|rankings [--split train|eval]';
const KINDS = ['prompts', 'sft', 'preferences', 'rankings'] as const;

export const importCommand: Command = {
  name: 'import',
  usage: USAGE,
  summary: 'import JSONL / JSON / CSV (formats in docs); a bad record rejects the whole file, naming its line',
  async run(argv, io) {
    const { positionals, values } = parseFlags('import', USAGE, argv, { as: { type: 'string' }, split: { type: 'string' } });
    const [projectFile, file, ...extra] = positionals;
    if (!projectFile || !file || extra.length) throw new InputError(`import: expected <project> <file>\nusage: rlhf-lab ${USAGE}`);
    const as = values.as;
    if (!as || !(KINDS as readonly string[]).includes(as)) throw new InputError(`import: --as must be one of ${KINDS.join(', ')}\nusage: rlhf-lab ${USAGE}`);
    const split = values.split;
    if (split !== undefined && split !== 'train' && split !== 'eval') throw new InputError('import: --split must be train or eval');
    if (!existsSync(file)) throw new InputError(`${file}: no such file`);
    const project = openProject(projectFile);
    const abort = new AbortController();
    const onSigint = () => abort.abort();
    process.once('SIGINT', onSigint);
    try {
      const result = await runJobInProcess<ImportResult>(
        'import',
        { file, as, split },
        project,
        (p) => io.progress(p.done, p.total, p.unit, p.message),
        { signal: abort.signal },
      );
      io.out(result, `imported ${result.imported} ${as} record(s) from ${file}; skipped ${result.skipped} duplicate(s)`);
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
      project.close();
    }
  },
};

// `export <project> <file> --as preferences|sft|rankings|comparisons|prompts [--format trl|hh]`.
import type { Command } from '../command.js';
import { openProject, parseFlags } from '../engine-args.js';
import { exportToFile, type ExportKind } from '../../data/export.js';
import { InputError } from '../../shared/errors.js';

const USAGE = 'export <project> <file.jsonl|file.json> --as preferences|sft|rankings|comparisons|prompts [--format trl|hh]';
const KINDS: ExportKind[] = ['preferences', 'sft', 'rankings', 'comparisons', 'prompts'];

export const exportCommand: Command = {
  name: 'export',
  usage: USAGE,
  summary: 'export as JSONL (or a JSON array for .json): preferences in TRL (default) or HH format, SFT, rankings, comparisons, prompts',
  async run(argv, io) {
    const { positionals, values } = parseFlags('export', USAGE, argv, { as: { type: 'string' }, format: { type: 'string', default: 'trl' } });
    const [projectFile, file, ...extra] = positionals;
    if (!projectFile || !file || extra.length) throw new InputError(`export: expected <project> <file>\nusage: rlhf-lab ${USAGE}`);
    const as = values.as as ExportKind | undefined;
    if (!as || !KINDS.includes(as)) throw new InputError(`export: --as must be one of ${KINDS.join(', ')}\nusage: rlhf-lab ${USAGE}`);
    const format = values.format;
    if (format !== 'trl' && format !== 'hh') throw new InputError('export: --format must be trl or hh');
    if (format === 'hh' && as !== 'preferences') throw new InputError('export: --format hh applies to --as preferences only');
    if (!/\.jsonl?$/i.test(file)) throw new InputError(`${file}: export writes .jsonl (or a JSON array to .json)`);
    const project = openProject(projectFile);
    try {
      const r = exportToFile(project, file, as, format);
      io.out(r, `exported ${r.count} ${as} record(s) to ${file}`);
      return 0;
    } finally {
      project.close();
    }
  },
};

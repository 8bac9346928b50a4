// `stats <project>`: counts per kind and per annotator.
import { InputError, type Command } from '../command.js';
import { openProject, parseFlags } from '../engine-args.js';

const USAGE = 'stats <project>';

export const statsCommand: Command = {
  name: 'stats',
  usage: USAGE,
  summary: 'counts of prompts, responses, rankings, pairs, SFT examples, checkpoints, runs, and per annotator',
  async run(argv, io) {
    const { positionals } = parseFlags('stats', USAGE, argv, {});
    const [file, ...extra] = positionals;
    if (!file || extra.length) throw new InputError(`stats: expected one <project>\nusage: rlhf-lab ${USAGE}`);
    const project = openProject(file);
    try {
      const counts = project.stats.counts();
      const byAnnotator = project.stats.byAnnotator();
      const lines = Object.entries(counts).map(([k, v]) => `${k.padEnd(13)} ${v}`);
      if (byAnnotator.length) {
        lines.push('', 'annotator      rankings  comparisons');
        for (const a of byAnnotator) {
          lines.push(`${(a.name + (a.simulated ? ' (sim)' : '')).padEnd(14)} ${String(a.rankings).padStart(8)}  ${String(a.comparisons).padStart(11)}`);
        }
      }
      io.out({ ...counts, by_annotator: byAnnotator }, lines.join('\n'));
      return 0;
    } finally {
      project.close();
    }
  },
};

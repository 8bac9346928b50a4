// `stats <project>`: counts per kind and per annotator, and inter-annotator agreement per label task.
import { agreement } from '../../label/views.js';
import type { Command } from '../command.js';
import { openProject, parseFlags } from '../engine-args.js';
import { InputError } from '../../shared/errors.js';

const USAGE = 'stats <project>';

export const statsCommand: Command = {
  name: 'stats',
  usage: USAGE,
  summary: 'counts of prompts, responses, rankings, pairs, SFT examples, checkpoints, runs; per annotator; agreement per label task',
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
        const label = (a: (typeof byAnnotator)[number]) => a.name + (a.simulated && !/simulated/i.test(a.name) ? ' (simulated)' : '');
        const width = Math.max(9, ...byAnnotator.map((a) => label(a).length));
        lines.push('', `${'annotator'.padEnd(width)}  rankings  comparisons`);
        for (const a of byAnnotator) lines.push(`${label(a).padEnd(width)}  ${String(a.rankings).padStart(8)}  ${String(a.comparisons).padStart(11)}`);
      }
      const tasks = project.labeling.tasks().map((t) => {
        const a = agreement(project, t);
        return { task: t.name, mode: t.mode, metric: a.metric, alpha: a.alpha, reading: a.reading, items: a.items };
      });
      if (tasks.length) {
        lines.push('', 'label task       agreement (Krippendorff α)');
        for (const t of tasks) {
          const alpha = t.alpha === null ? 'n/a' : t.alpha.toFixed(2);
          lines.push(`${t.task.padEnd(16)} ${alpha} ${t.metric}, ${t.items} items judged twice or more`);
        }
      }
      io.out({ ...counts, by_annotator: byAnnotator, agreement: tasks }, lines.join('\n'));
      return 0;
    } finally {
      project.close();
    }
  },
};

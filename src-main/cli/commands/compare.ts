// `rlhf-lab compare <project> --a <ckpt> --b <ckpt> [--split eval] [--judge rm|gold|human] …`:
// side-by-side generation and scoring, b against a (CLI.md).
import { initBackend } from '../../engine/backend/backend.js';
import { compareCheckpoints, compareOptionsSchema } from '../../compare/compare.js';
import type { Command } from '../command.js';
import { checkpointArg, openProject, optionalNumber, parseFlags } from '../engine-args.js';
import { InputError } from '../../shared/errors.js';

const USAGE =
  'compare <project> --a <ckpt> --b <ckpt> [--split eval|train] [--judge rm|gold|human] [--rm <ckpt>] [--n N] [--seed S] ' +
  '[--temperature T] [--max-tokens N] [--rows] [--json]';

export const compareCommand: Command = {
  name: 'compare',
  usage: USAGE,
  summary: 'generate with two checkpoints on a prompt split; win rate of b over a with a 95% bootstrap interval, and KL of b to a',
  async run(argv, io) {
    const { values, positionals } = parseFlags('compare', USAGE, argv, {
      a: { type: 'string' },
      b: { type: 'string' },
      split: { type: 'string' },
      judge: { type: 'string' },
      rm: { type: 'string' },
      n: { type: 'string' },
      seed: { type: 'string' },
      temperature: { type: 'string' },
      'max-tokens': { type: 'string' },
      rows: { type: 'boolean', default: false },
    });
    if (positionals.length !== 1) throw new InputError(`compare: expected one project file\nusage: rlhf-lab ${USAGE}`);
    const project = openProject(positionals[0]!);
    try {
      const input = {
        a: checkpointArg(project, values.a, '--a'),
        b: checkpointArg(project, values.b, '--b'),
        rm: values.rm === undefined ? undefined : checkpointArg(project, values.rm, '--rm'),
        split: values.split,
        judge: values.judge,
        n: optionalNumber(values.n, '--n'),
        seed: optionalNumber(values.seed, '--seed'),
        temperature: optionalNumber(values.temperature, '--temperature'),
        max_new_tokens: optionalNumber(values['max-tokens'], '--max-tokens'),
      };
      const parsed = compareOptionsSchema.safeParse(Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)));
      if (!parsed.success) {
        const flag = (path: PropertyKey[]) => `--${String(path[0] ?? 'input').replace('max_new_tokens', 'max-tokens')}`;
        throw new InputError(`compare: ${parsed.error.issues.map((i) => `${flag(i.path)}: ${i.message}`).join('; ')}`);
      }
      const options = parsed.data;
      const backend = options.judge === 'human' ? null : await initBackend();
      const report = await compareCheckpoints(project, options, {
        progress: (done, total, unit) => io.progress(done, total, unit, `checkpoint ${options.b} vs ${options.a}`),
      });
      const { rows, ...summary } = report;
      const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
      io.out(
        { ...summary, backend: backend?.name ?? null, ...(values.rows ? { rows } : {}) },
        `checkpoint ${options.b} vs ${options.a} on ${report.n} ${options.split} prompts, judged by ${options.judge}: ` +
          `win rate ${pct(report.win_rate)} (95% CI ${pct(report.ci_low)}–${pct(report.ci_high)}; ` +
          `${report.wins} wins, ${report.ties} ties, ${report.losses} losses)` +
          (report.mean_kl_b !== null ? `; mean KL of b to a ${report.mean_kl_b.toFixed(3)} nats/token` : ''),
      );
      return 0;
    } finally {
      project.close();
    }
  },
};

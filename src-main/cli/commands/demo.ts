// `rlhf-lab demo [--quick] [--out DIR] [--seed S] [--json]`: the whole RLHF loop on the bundled demo
// project with simulated annotators; a report on stdout (one JSON object with --json) and, with
// --out, the project and a Markdown report page in DIR.
import { openDemoCopy, runDemo } from '../../demo/pipeline.js';
import { runOveroptimization } from '../../demo/overoptimization.js';
import { writeOveroptimizationChart } from '../../demo/overoptimization-chart.js';
import { writeReportPage } from '../../demo/report-page.js';
import type { Command } from '../command.js';
import { optionalNumber, parseFlags } from '../engine-args.js';
import { InputError } from '../../shared/errors.js';

const USAGE = 'demo [--quick] [--overoptimization] [--out DIR] [--seed S] [--json]';

export const demoCommand: Command = {
  name: 'demo',
  usage: USAGE,
  summary: 'run SFT → simulated rankings → reward model → PPO → SFT vs RLHF on the bundled demo project',
  async run(argv, io) {
    const { values, positionals } = parseFlags('demo', USAGE, argv, {
      quick: { type: 'boolean', default: false },
      overoptimization: { type: 'boolean', default: false },
      out: { type: 'string' },
      seed: { type: 'string' },
    });
    if (positionals.length > 0) throw new InputError(`demo: unexpected argument "${positionals[0]}"\nusage: rlhf-lab ${USAGE}`);
    const seed = optionalNumber(values.seed, '--seed') ?? 1;
    if (!Number.isInteger(seed) || seed < 0) throw new InputError(`--seed: "${values.seed}" is not a non-negative integer`);
    const abort = new AbortController();
    const onSigint = () => abort.abort();
    process.once('SIGINT', onSigint);
    try {
      if (values.overoptimization) return await overoptimization({ quick: values.quick, seed, out: values.out, signal: abort.signal }, io);
      const report = await runDemo({
        quick: values.quick,
        seed,
        out: values.out,
        signal: abort.signal,
        progress: (stage, done, total, message) => io.progress(done, total, stage, message),
        log: (m) => io.err(m),
      });
      const page = values.out ? writeReportPage(values.out, report) : null;
      const { curves: _curves, ...rest } = report;
      const g = report.compare.gold;
      const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
      io.out(
        { ...rest, report_page: page },
        [
          `RLHF vs SFT on ${g.n} held-out prompts, gold judge: win rate ${pct(g.win_rate)} (95% CI ${pct(g.ci_low)}–${pct(g.ci_high)})`,
          `reward model: held-out accuracy ${pct(report.stages.rm.eval_accuracy ?? NaN)}; by the reward model RLHF wins ${pct(report.compare.rm.win_rate)}`,
          ...report.compare.best_of_n.map(
            (b) => `best-of-${b.n} from SFT (gold): win rate ${pct(b.win_rate)} (95% CI ${pct(b.ci_low)}–${pct(b.ci_high)}), mean gold ${b.mean_gold.toFixed(2)} vs PPO's ${g.mean_score_rlhf?.toFixed(2)}`,
          ),
          `PPO: score ${report.stages.ppo.mean_score_start?.toFixed(2)} → ${report.stages.ppo.mean_score_end?.toFixed(2)}, KL ${report.stages.ppo.kl?.toFixed(2)} (bound ${report.stages.ppo.kl_bound})`,
          ...report.examples.slice(0, 3).flatMap((e) => [`  prompt: ${e.prompt}`, `    SFT:  ${e.sft}`, `    RLHF: ${e.rlhf}`]),
          `${report.seconds.toFixed(0)} s on ${report.backend}; project ${report.project}${page ? `; report ${page}` : ''}`,
        ].join('\n'),
      );
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};

/** `demo --overoptimization`: PPO with β = 0 and the demo's β on a copy of the demo project; reward-model and gold score against √KL. */
async function overoptimization(o: { quick: boolean; seed: number; out?: string; signal: AbortSignal }, io: Parameters<Command['run']>[1]): Promise<number> {
  const { project, close } = openDemoCopy(o.out);
  try {
    const report = await runOveroptimization(project, {
      quick: o.quick,
      seed: o.seed,
      signal: o.signal,
      progress: (stage, done, total, message) => io.progress(done, total, stage, message),
      log: (m) => io.err(m),
    });
    const chart = o.out ? writeOveroptimizationChart(o.out, report) : null;
    const lines = report.curves.map((c) => {
      const peak = c.points.reduce((b, p) => (p.gold > b.gold ? p : b));
      const last = c.points.at(-1)!;
      return (
        `β = ${c.kl_coef}: √KL ${last.sqrt_kl.toFixed(2)}; reward model ${c.points[0]!.rm.toFixed(2)} → ${last.rm.toFixed(2)}; ` +
        `gold ${c.points[0]!.gold.toFixed(2)} → peak ${peak.gold.toFixed(2)} at √KL ${peak.sqrt_kl.toFixed(2)} → ${last.gold.toFixed(2)}`
      );
    });
    io.out({ ...report, project: project.path, chart }, [...lines, `${report.seconds.toFixed(0)} s; project ${project.path}${chart ? `; chart ${chart}` : ''}`].join('\n'));
    return 0;
  } finally {
    close();
  }
}

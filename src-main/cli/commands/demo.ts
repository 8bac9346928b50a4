// `rlhf-lab demo [--quick] [--rl ppo,rloo,grpo] [--out DIR] [--seed S | --seeds 4,5,6] [--json]`: the
// whole RLHF loop on the bundled demo project with simulated annotators; a report on stdout (one
// JSON object with --json) and, with --out, the project and a Markdown report page in DIR (in
// DIR/seed-S for each seed when several are given).
import { formatMethodRows, parseRlMethods } from '../../demo/method-table.js';
import { openDemoCopy, type DemoReport } from '../../demo/pipeline.js';
import { runDemoSeeds } from '../../demo/seeds.js';
import type { RlMethod } from '../../demo/rl-phase.js';
import { runOveroptimization } from '../../demo/overoptimization.js';
import { writeOveroptimizationChart } from '../../demo/overoptimization-chart.js';
import type { Command } from '../command.js';
import { optionalNumber, parseFlags } from '../engine-args.js';
import { InputError } from '../../shared/errors.js';

const USAGE = 'demo [--quick] [--overoptimization] [--rl ppo,rloo,grpo] [--out DIR] [--seed S | --seeds S1,S2,...] [--json]';

/** `--seeds 4,5,6`: non-negative integers, each once. */
export function parseSeeds(text: string): number[] {
  const seeds = text.split(',').map((x) => x.trim());
  for (const x of seeds) if (!/^\d+$/.test(x)) throw new InputError(`--seeds: "${x}" is not a non-negative integer`);
  const out = seeds.map(Number);
  if (new Set(out).size !== out.length) throw new InputError(`--seeds: "${text}" names a seed twice`);
  return out;
}

export const demoCommand: Command = {
  name: 'demo',
  usage: USAGE,
  summary: 'run SFT → simulated rankings → reward model → PPO (and/or RLOO, GRPO) → SFT vs RLHF on the bundled demo project',
  async run(argv, io) {
    const { values, positionals } = parseFlags('demo', USAGE, argv, {
      quick: { type: 'boolean', default: false },
      overoptimization: { type: 'boolean', default: false },
      out: { type: 'string' },
      seed: { type: 'string' },
      seeds: { type: 'string' },
      rl: { type: 'string' },
    });
    if (positionals.length > 0) throw new InputError(`demo: unexpected argument "${positionals[0]}"\nusage: rlhf-lab ${USAGE}`);
    const seed = optionalNumber(values.seed, '--seed') ?? 1;
    if (!Number.isInteger(seed) || seed < 0) throw new InputError(`--seed: "${values.seed}" is not a non-negative integer`);
    if (values.seeds !== undefined && values.seed !== undefined) throw new InputError('demo: give --seed or --seeds, not both');
    const seeds = values.seeds !== undefined ? parseSeeds(values.seeds) : [seed];
    let rl: RlMethod[] | undefined;
    try {
      rl = values.rl !== undefined ? parseRlMethods(values.rl) : undefined;
    } catch (e) {
      throw new InputError(`--rl: ${(e as Error).message}`);
    }
    if (values.overoptimization && (rl || seeds.length > 1)) throw new InputError('demo: --overoptimization runs PPO on one seed; it takes no --rl or --seeds');
    const abort = new AbortController();
    const onSigint = () => abort.abort();
    process.once('SIGINT', onSigint);
    try {
      if (values.overoptimization) return await overoptimization({ quick: values.quick, seed, out: values.out, signal: abort.signal }, io);
      const many = seeds.length > 1;
      const { runs, table } = await runDemoSeeds(seeds, {
        quick: values.quick,
        rl,
        out: values.out,
        signal: abort.signal,
        progress: (s, stage, done, total, message) => io.progress(done, total, many ? `seed ${s}: ${stage}` : stage, message),
        log: (s, m) => io.err(many ? `[seed ${s}] ${m}` : m),
      });
      const reports = runs.map(({ report: { curves: _curves, ...rest }, page }) => ({ ...rest, report_page: page }));
      const text = runs.flatMap((r) => [...(many ? [`seed ${r.report.seed}:`] : []), humanReport(r.report, r.page)]);
      text.push('', formatMethodRows(table));
      io.out(many ? { seeds: reports, table } : { ...reports[0], table }, text.join('\n'));
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};

function humanReport(report: DemoReport, page: string | null): string {
  const g = report.compare.gold;
  const lead = report.methods[0]!.method.toUpperCase();
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const ppo = report.stages.ppo;
  return [
    `${lead} vs SFT on ${g.n} held-out prompts, gold judge: win rate ${pct(g.win_rate)} (95% CI ${pct(g.ci_low)}–${pct(g.ci_high)})`,
    `reward model: held-out accuracy ${pct(report.stages.rm.eval_accuracy ?? NaN)}; by the reward model ${lead} wins ${pct(report.compare.rm.win_rate)}`,
    ...report.compare.best_of_n.map(
      (b) => `best-of-${b.n} from SFT (gold): win rate ${pct(b.win_rate)} (95% CI ${pct(b.ci_low)}–${pct(b.ci_high)}), mean gold ${b.mean_gold.toFixed(2)} vs ${lead}'s ${g.mean_score_rlhf?.toFixed(2)}`,
    ),
    ...(ppo ? [`PPO: score ${ppo.mean_score_start?.toFixed(2)} → ${ppo.mean_score_end?.toFixed(2)}, KL ${ppo.kl?.toFixed(2)} (bound ${ppo.kl_bound})`] : []),
    ...report.methods
      .filter((m) => m.method !== 'ppo')
      .map((m) => `${m.method.toUpperCase()}: score ${m.score_start?.toFixed(2)} → ${m.score_end?.toFixed(2)}`),
    ...report.examples.slice(0, 3).flatMap((e) => [`  prompt: ${e.prompt}`, `    SFT:  ${e.sft}`, `    ${lead}: ${e.rlhf}`]),
    `${report.seconds.toFixed(0)} s on ${report.backend}; project ${report.project}${page ? `; report ${page}` : ''}`,
  ].join('\n');
}

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

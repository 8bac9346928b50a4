// Chooses the demo's PPO settings on the validation split only:
// `npx tsx scripts/tune-demo.ts --out DIR [--seed S] [--grid JSON] [--reuse]`.
// Runs the quick pipeline once (SFT, simulated labels, reward model; judged on validation), then
// PPO from that SFT model for every setting of the grid, each judged by the gold rubric on the
// validation prompts against SFT, next to best-of-16. The eval split is never looked at; the seed
// used here must not be one the README reports. Writes DIR/tune.json and prints a table.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compareCheckpoints } from '../src-main/compare/compare.js';
import { demoSettings, runDemo, type DemoReport } from '../src-main/demo/pipeline.js';
import { readDemoValidation } from '../src-main/demo/project.js';
import { goldScore } from '../src-main/demo/rubric.js';
import { runJobInProcess } from '../src-main/jobs/run-in-process.js';
import type { TrainStageResult } from '../src-main/jobs/kinds/train-rm.js';
import { Project } from '../src-main/store/project.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    seed: { type: 'string', default: '101' },
    grid: { type: 'string', default: JSON.stringify({ kl_coef: [0.05, 0.15], lr: [5e-5, 1e-4], steps: [30, 45] }) },
    /** Reuse DIR's project and baseline from an earlier call (same seed): only the grid's PPO runs are new. */
    reuse: { type: 'boolean', default: false },
  },
});
if (!values.out) throw new Error('usage: tune-demo.ts --out DIR [--seed S] [--grid JSON]');
const out = values.out;
const seed = Number(values.seed);
const grid = JSON.parse(values.grid) as Record<string, unknown[]>;
mkdirSync(out, { recursive: true });
const say = (m: string) => void process.stderr.write(`[tune ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

type Baseline = Pick<DemoReport, 'project' | 'stages' | 'compare'>;
const earlier = values.reuse ? (JSON.parse(readFileSync(join(out, 'tune.json'), 'utf8')) as { seed: number; base: Baseline; rows: Record<string, unknown>[] }) : null;
if (earlier && earlier.seed !== seed) throw new Error(`${out} was tuned with seed ${earlier.seed}`);
const base: Baseline = earlier?.base ?? (await runDemo({ quick: true, seed, out, judge_on: 'validation', log: say }));
say(`baseline (validation): PPO gold mean ${base.compare.gold.mean_score_rlhf?.toFixed(3)}, best-of-N ${base.compare.best_of_n.map((b) => `${b.n}: ${b.mean_gold.toFixed(3)}`).join(', ')}`);

/** Every combination of the grid's values. */
function combinations(g: Record<string, unknown[]>): Record<string, unknown>[] {
  return Object.entries(g).reduce<Record<string, unknown>[]>((acc, [k, vs]) => acc.flatMap((c) => vs.map((v) => ({ ...c, [k]: v }))), [{}]);
}

const settings = demoSettings(true, seed);
const project = Project.open(base.project);
const rows: Record<string, unknown>[] = earlier?.rows ?? [];
try {
  const validation = readDemoValidation(project);
  const rm = project.checkpoints.get(base.stages.rm.checkpoint)!;
  for (const combo of combinations(grid)) {
    const t = performance.now();
    const ppo = await runJobInProcess<TrainStageResult>(
      'train-ppo',
      { from: base.stages.sft.checkpoint, config: { ...settings.ppo, ...combo, reward_model: rm.id }, name: `tune ${JSON.stringify(combo)}` },
      project,
      () => {},
    );
    const kl = project.runs.metricsFor(ppo.run, ['objective/kl'])['objective/kl'] ?? [];
    const C = settings.compare;
    const gold = await compareCheckpoints(
      project,
      { a: base.stages.sft.checkpoint, b: ppo.checkpoint, judge: 'gold', seed, temperature: C.temperature, max_new_tokens: C.max_new_tokens, store_responses: false },
      { prompts: validation, gold: goldScore },
    );
    const row = {
      ...combo,
      win_rate: gold.win_rate,
      ci_low: gold.ci_low,
      gold_mean: gold.mean_score_b,
      kl_end: kl.slice(-3).reduce((s, p) => s + p.value, 0) / Math.max(1, Math.min(3, kl.length)),
      seconds: (performance.now() - t) / 1000,
    };
    rows.push(row);
    say(JSON.stringify(row));
    writeFileSync(join(out, 'tune.json'), JSON.stringify({ seed, split: 'validation', base: { project: base.project, stages: base.stages, compare: base.compare }, rows }, null, 2));
  }
} finally {
  project.close();
}
const best = [...rows].sort((a, b) => (b.gold_mean as number) - (a.gold_mean as number))[0];
say(`best on validation: ${JSON.stringify(best)}`);

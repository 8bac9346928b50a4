// Reward over-optimisation on the demo, plotted the way Gao et al. (2022) plot it: PPO with β = 0
// and with the demo's β, a checkpoint every few iterations, and for each checkpoint the reward
// model's mean score and the gold rubric's mean score on held-out prompts against √KL(π‖π_SFT).
// The reward model keeps rising as the policy moves away; without the KL penalty the gold score
// peaks and then falls — the proxy is being gamed. `rlhf-lab demo --overoptimization`, and the
// `demo-overoptimization` job behind the demo project's button; the result is kept in the project
// (project_meta `overoptimization`) for Compare's chart.
import { judgeCheckpoints, type CheckpointJudgement } from '../compare/checkpoint-judges.js';
import type { TrainStageResult } from '../jobs/kinds/train-rm.js';
import { runJobInProcess } from '../jobs/run-in-process.js';
import type { Project } from '../store/project.js';
import { goldScore } from './rubric.js';
import { demoFirstStages, demoSettings, type DemoOptions } from './pipeline.js';

/** A checkpoint's judgement (gold always present here: the demo project has the rubric). */
export type OveroptimizationPoint = CheckpointJudgement & { gold: number; gold_win_rate: number };

export interface OveroptimizationCurve {
  kl_coef: number;
  run: number;
  points: OveroptimizationPoint[];
}

export interface OveroptimizationReport {
  seed: number;
  /** Held-out (eval) prompts each checkpoint answers. */
  prompts: number;
  steps: number;
  sft: number;
  rm: number;
  curves: OveroptimizationCurve[];
  seconds: number;
}

export interface OveroptimizationOptions extends Omit<DemoOptions, 'out' | 'source' | 'judge_on'> {
  /** PPO iterations of each run (default twice the demo's) and iterations between checkpoints. */
  steps?: number;
  every?: number;
  /** Eval prompts per checkpoint. */
  prompts?: number;
}

/** The project's latest reward model and the SFT checkpoint it was trained from, when the demo has run. */
function existingSftAndRm(project: Project): { sft: number; rm: number } | null {
  const rm = project.checkpoints
    .list()
    .filter((c) => c.stage === 'rm' && c.parent_id !== null)
    .at(-1);
  return rm ? { sft: rm.parent_id!, rm: rm.id } : null;
}

export async function runOveroptimization(project: Project, o: OveroptimizationOptions): Promise<OveroptimizationReport> {
  const started = performance.now();
  const settings = o.settings ?? demoSettings(o.quick, o.seed);
  const log = o.log ?? (() => {});
  const progress = o.progress ?? (() => {});
  const reuse = existingSftAndRm(project);
  let sftId: number;
  let rmId: number;
  if (reuse) {
    ({ sft: sftId, rm: rmId } = reuse);
    log(`reusing SFT checkpoint ${sftId} and reward model ${rmId}`);
  } else {
    const first = await demoFirstStages(project, { ...o, settings });
    sftId = first.sft.checkpoint;
    rmId = first.rm.checkpoint;
  }
  const demoSteps = Number(settings.ppo.steps ?? 30);
  const steps = o.steps ?? 2 * demoSteps;
  const every = o.every ?? Math.max(1, Math.round(steps / 6));
  const betas = [0, Number(settings.ppo.kl_coef ?? 0.15)];

  const runs: { kl_coef: number; run: number; checkpoints: { id: number; step: number }[] }[] = [];
  for (const beta of betas) {
    const stage = `ppo β=${beta}`;
    const ppo = await runJobInProcess<TrainStageResult>(
      'train-ppo',
      {
        from: sftId,
        config: { ...settings.ppo, steps, kl_coef: beta, adaptive_kl: false, checkpoint_every: every, reward_model: rmId },
        name: `Over-optimisation: PPO β = ${beta}`,
      },
      project,
      (p) => progress(stage, p.done, p.total, p.message),
      { signal: o.signal, log },
    );
    const checkpoints = project.checkpoints
      .list()
      .filter((c) => c.run_id === ppo.run)
      .map((c) => ({ id: c.id, step: c.step }))
      .sort((a, b) => a.step - b.step);
    runs.push({ kl_coef: beta, run: ppo.run, checkpoints });
    log(`PPO β = ${beta}: ${checkpoints.length} checkpoints`);
  }

  // Every checkpoint answers the same held-out prompts with the same seeds as the SFT model.
  const C = settings.compare;
  const total = runs.reduce((s, r) => s + r.checkpoints.length, 0);
  let done = 0;
  const curves: OveroptimizationCurve[] = [];
  let judgedPrompts = 0;
  for (const r of runs) {
    const judged = await judgeCheckpoints(
      project,
      { sft: sftId, rm: rmId, checkpoints: r.checkpoints, prompts: o.prompts ?? 96, gold: goldScore, seed: o.seed, temperature: C.temperature, max_new_tokens: C.max_new_tokens },
      { progress: () => progress('evaluate', ++done, total, `β = ${r.kl_coef}`), signal: o.signal },
    );
    judgedPrompts = judged.prompts;
    const points = judged.points as OveroptimizationPoint[];
    curves.push({ kl_coef: r.kl_coef, run: r.run, points });
    const last = points.at(-1)!;
    const golds = points.map((p) => p.gold);
    log(`β = ${r.kl_coef}: √KL ${last.sqrt_kl.toFixed(2)}, RM ${points[0]!.rm.toFixed(2)} → ${last.rm.toFixed(2)}, gold ${golds[0]!.toFixed(2)} → peak ${Math.max(...golds).toFixed(2)} → ${golds.at(-1)!.toFixed(2)}`);
  }
  const report: OveroptimizationReport = { seed: o.seed, prompts: judgedPrompts, steps, sft: sftId, rm: rmId, curves, seconds: (performance.now() - started) / 1000 };
  project.db
    .prepare("INSERT INTO project_meta (key, value) VALUES ('overoptimization', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
    .run(JSON.stringify(report));
  return report;
}

/** The stored over-optimisation result of the project, if the run has been made. */
export function readOveroptimization(project: Project): OveroptimizationReport | null {
  const row = project.db.prepare<[], { value: string }>("SELECT value FROM project_meta WHERE key = 'overoptimization'").get();
  return row ? (JSON.parse(row.value) as OveroptimizationReport) : null;
}

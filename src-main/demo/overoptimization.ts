// Reward over-optimisation on the demo, plotted the way Gao et al. (2022) plot it: PPO with β = 0
// and with the demo's β, a checkpoint every few iterations, and for each checkpoint the reward
// model's mean score and the gold rubric's mean score on held-out prompts against √KL(π‖π_SFT).
// The reward model keeps rising as the policy moves away; without the KL penalty the gold score
// peaks and then falls — the proxy is being gamed. `rlhf-lab demo --overoptimization`, and the
// `demo-overoptimization` job behind the demo project's button; the result is kept in the project
// (project_meta `overoptimization`) for Compare's chart.
import { decodeResponse, klSums } from '../compare/compare.js';
import { winRate } from '../compare/stats.js';
import { loadModel } from '../engine/checkpoint-io.js';
import { generate } from '../engine/generate.js';
import { loadRewardModel } from '../engine/reward-io.js';
import { Rng } from '../engine/rng.js';
import { textEncoder } from '../engine/sequences.js';
import type { TrainStageResult } from '../jobs/kinds/train-rm.js';
import { runJobInProcess } from '../jobs/run-in-process.js';
import type { Project } from '../store/project.js';
import { demoFirstStages, demoSettings, type DemoOptions } from './pipeline.js';
import { goldCompare, goldScore } from './rubric.js';

export interface OveroptimizationPoint {
  step: number;
  checkpoint: number;
  /** Mean over responses of KL(π‖π_SFT) summed over the response's tokens (nats), and its root. */
  kl: number;
  sqrt_kl: number;
  /** Mean reward-model score (normalised: SFT samples score about 0) and mean gold score. */
  rm: number;
  gold: number;
  /** Win rates over the SFT model's reply to the same prompt, by the reward model and by the gold judge. */
  rm_win_rate: number;
  gold_win_rate: number;
}

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

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);

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
  const n = o.prompts ?? 96;
  const evalPrompts = new Rng(o.seed)
    .fork('overoptimization-prompts')
    .shuffle([...project.prompts.iterate()].filter((p) => p.split === 'eval'))
    .slice(0, n);
  if (evalPrompts.length === 0) throw new Error(`${project.path} has no eval prompts`);
  const ref = loadModel(project, sftId, o.seed);
  const reward = loadRewardModel(project, rmId, o.seed);
  try {
    const tok = ref.tokenizer;
    const enc = textEncoder(tok);
    const ids = evalPrompts.map((p) => enc.prompt(p.text));
    const gen = { maxNewTokens: C.max_new_tokens, temperature: C.temperature, topK: 0, topP: 1, eosId: tok.eosId, padId: tok.padId };
    const answer = (model: typeof ref.model) => {
      const out: number[][] = [];
      for (let i = 0; i < ids.length; i += 32) out.push(...generate(model, ids.slice(i, i + 32), { ...gen, seed: o.seed + i }).tokens);
      return out;
    };
    const sftTokens = answer(ref.model);
    const sftText = sftTokens.map((r) => decodeResponse(tok, r));
    const sftRm = reward.model.score(ids, sftTokens, tok.padId);
    const total = runs.reduce((s, r) => s + r.checkpoints.length, 0);
    let done = 0;
    const curves: OveroptimizationCurve[] = [];
    for (const r of runs) {
      const points: OveroptimizationPoint[] = [
        {
          step: 0,
          checkpoint: sftId,
          kl: 0,
          sqrt_kl: 0,
          rm: mean(sftRm),
          gold: mean(evalPrompts.map((p, k) => goldScore(p.text, sftText[k]!))),
          rm_win_rate: 0.5,
          gold_win_rate: 0.5,
        },
      ];
      for (const c of r.checkpoints) {
        if (o.signal?.aborted) throw new Error('cancelled');
        const m = loadModel(project, c.id, o.seed);
        try {
          const tokens = answer(m.model);
          const text = tokens.map((x) => decodeResponse(tok, x));
          const kl: number[] = [];
          for (let i = 0; i < ids.length; i += 32) {
            kl.push(...klSums(ref.model, m.model, ids.slice(i, i + 32), tokens.slice(i, i + 32), C.temperature, tok.padId).map((x) => x ?? 0));
          }
          const rmScores = reward.model.score(ids, tokens, tok.padId);
          const klMean = mean(kl);
          const rng = new Rng(o.seed).fork(`overoptimization-${c.id}`);
          const rmOutcomes = rmScores.map((s, k) => (Math.abs(s - sftRm[k]!) < 1e-9 ? 'tie' : s > sftRm[k]! ? 'b' : 'a'));
          const goldOutcomes = evalPrompts.map((p, k) => goldCompare(p.text, sftText[k]!, text[k]!));
          points.push({
            step: c.step,
            checkpoint: c.id,
            kl: klMean,
            // The Monte-Carlo estimate can dip below 0 near the start; √ of its positive part.
            sqrt_kl: Math.sqrt(Math.max(0, klMean)),
            rm: mean(rmScores),
            gold: mean(evalPrompts.map((p, k) => goldScore(p.text, text[k]!))),
            rm_win_rate: winRate(rmOutcomes, rng, { resamples: 100 }).win_rate,
            gold_win_rate: winRate(goldOutcomes, rng, { resamples: 100 }).win_rate,
          });
        } finally {
          m.model.dispose();
        }
        progress('evaluate', ++done, total, `checkpoint ${c.id}`);
      }
      curves.push({ kl_coef: r.kl_coef, run: r.run, points });
      const last = points.at(-1)!;
      log(`β = ${r.kl_coef}: √KL ${last.sqrt_kl.toFixed(2)}, RM ${points[0]!.rm.toFixed(2)} → ${last.rm.toFixed(2)}, gold ${points[0]!.gold.toFixed(2)} → peak ${Math.max(...points.map((p) => p.gold)).toFixed(2)} → ${last.gold.toFixed(2)}`);
    }
    const report: OveroptimizationReport = { seed: o.seed, prompts: evalPrompts.length, steps, sft: sftId, rm: rmId, curves, seconds: (performance.now() - started) / 1000 };
    project.db
      .prepare("INSERT INTO project_meta (key, value) VALUES ('overoptimization', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .run(JSON.stringify(report));
    return report;
  } finally {
    ref.model.dispose();
    reward.dispose();
  }
}

/** The stored over-optimisation result of the project, if the run has been made. */
export function readOveroptimization(project: Project): OveroptimizationReport | null {
  const row = project.db.prepare<[], { value: string }>("SELECT value FROM project_meta WHERE key = 'overoptimization'").get();
  return row ? (JSON.parse(row.value) as OveroptimizationReport) : null;
}

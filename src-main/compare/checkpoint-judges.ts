// Reward hacking as it starts: every checkpoint of a PPO run answers the same held-out prompts as
// the SFT model it started from (same seeds: the comparison pipeline, pipeline.ts), and is judged
// against SFT by the reward model it was trained on, by the gold rubric on the demo project, and by
// the blind human votes stored for that pair of checkpoints. A reward-model win rate that keeps
// climbing while the gold or human one stalls or falls is the proxy being gamed. Also measures
// KL(π‖π_SFT) per reply, for Gao et al.'s √KL axis. Used by Compare ("Reward model vs gold/human") and `demo --overoptimization`.
import type { CheckpointJudgementView } from '../shared/contract.js';
import { Rng } from '../engine/rng.js';
import type { Project } from '../store/project.js';
import type { PairOutcome } from '../shared/vocabulary.js';
import type { GoldScore } from './compare.js';
import { humanVerdicts, outcomeOfScores, rewardModelJudge, textJudge } from './judges.js';
import { runComparison, type AnsweredBatch } from './pipeline.js';
import { winRate } from './stats.js';

/** One checkpoint judged against SFT: the shape the API hands to the app (defined once, in the contract). */
export type CheckpointJudgement = CheckpointJudgementView;

export interface JudgeCheckpointsOptions {
  sft: number;
  rm: number;
  /** Checkpoints to judge, with their run step. */
  checkpoints: { id: number; step: number }[];
  /** Held-out prompts: a seeded sample of this many eval prompts. */
  prompts: number;
  /** The gold judge (the demo's rubric, demo/rubric.ts), or null where there is none (a project that is not the demo). */
  gold: GoldScore | null;
  seed: number;
  temperature: number;
  max_new_tokens: number;
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);

/** One checkpoint's answers to every prompt: reward-model and gold scores, KL to SFT per reply. */
interface Answers {
  rm: number[];
  gold: number[];
  kl: number[];
}

/** The SFT model's point (step 0) and then one per checkpoint, in the given order; `prompts`: how many were judged. */
export async function judgeCheckpoints(
  project: Project,
  o: JudgeCheckpointsOptions,
  hooks: { progress?(done: number, total: number, message: string): void; signal?: AbortSignal } = {},
): Promise<{ prompts: number; points: CheckpointJudgement[] }> {
  const prompts = new Rng(o.seed)
    .fork('checkpoint-judges')
    .shuffle([...project.prompts.iterate()].filter((p) => p.split === 'eval'))
    .slice(0, o.prompts);
  if (prompts.length === 0) throw new Error('the project has no eval prompts to judge checkpoints on: mark some prompts eval');
  const reward = rewardModelJudge(project, o.rm);
  const gold = o.gold ? textJudge('gold', o.gold) : null;
  const rate = (outcomes: PairOutcome[]) => winRate(outcomes, new Rng(o.seed), { resamples: 100 }).win_rate;
  const steps = new Map(o.checkpoints.map((c) => [c.id, c.step]));
  const points: CheckpointJudgement[] = [];
  let sft: Answers | null = null;
  let cur: Answers = { rm: [], gold: [], kl: [] };
  // The SFT model answers first (the reference), then each checkpoint; a point is made when a
  // checkpoint has answered every prompt.
  const onBatch = (b: AnsweredBatch) => {
    cur.rm.push(...b.scores[0]!);
    if (o.gold) cur.gold.push(...b.scores[1]!);
    cur.kl.push(...b.kl.map((x) => x ?? 0));
    if (b.start + b.prompts.length < prompts.length) return;
    const done = cur;
    cur = { rm: [], gold: [], kl: [] };
    if (!sft) {
      sft = done;
      points.push({
        step: 0,
        checkpoint: o.sft,
        kl: 0,
        sqrt_kl: 0,
        rm: mean(done.rm),
        gold: o.gold ? mean(done.gold) : null,
        rm_win_rate: 0.5,
        gold_win_rate: o.gold ? 0.5 : null,
        human_win_rate: null,
        human_votes: 0,
      });
      return;
    }
    const base: Answers = sft;
    const klMean = mean(done.kl);
    const votes = humanVerdicts(project, 'eval', o.sft, b.checkpoint);
    points.push({
      step: steps.get(b.checkpoint)!,
      checkpoint: b.checkpoint,
      kl: klMean,
      sqrt_kl: Math.sqrt(Math.max(0, klMean)),
      rm: mean(done.rm),
      gold: o.gold ? mean(done.gold) : null,
      rm_win_rate: rate(done.rm.map((s, k) => outcomeOfScores(base.rm[k]!, s))),
      gold_win_rate: o.gold ? rate(done.gold.map((s, k) => outcomeOfScores(base.gold[k]!, s))) : null,
      human_win_rate: votes.length > 0 ? rate(votes.map((v) => v.outcome)) : null,
      human_votes: votes.length,
    });
    hooks.progress?.(points.length - 1, o.checkpoints.length, `checkpoint #${b.checkpoint}`);
  };
  try {
    await runComparison(
      project,
      {
        checkpoints: [o.sft, ...o.checkpoints.map((c) => c.id)],
        prompts,
        sampling: { temperature: o.temperature, top_p: 1, max_new_tokens: o.max_new_tokens, seed: o.seed, best_of_n: 1, batch_prompts: 32 },
        judges: gold ? [reward, gold] : [reward],
        store: false,
      },
      { onBatch, signal: hooks.signal },
    );
    return { prompts: prompts.length, points };
  } finally {
    reward.dispose();
  }
}

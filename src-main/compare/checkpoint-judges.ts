// Reward hacking as it starts: every checkpoint of a PPO run answers the same held-out prompts as
// the SFT model it started from (same seeds), and is judged against SFT by the reward model it was
// trained on, by the gold rubric on the demo project, and by the blind human votes stored for that
// pair of checkpoints. A reward-model win rate that keeps climbing while the gold or human one
// stalls or falls is the proxy being gamed. Also measures KL(π‖π_SFT) per reply, for Gao et al.'s
// √KL axis. Used by Compare ("Reward model vs gold/human") and `demo --overoptimization`.
import { loadModel } from '../engine/io/checkpoint-io.js';
import { generate } from '../engine/models/generate.js';
import { loadRewardModel } from '../engine/io/reward-io.js';
import type { CheckpointJudgementView } from '../shared/contract.js';
import { Rng } from '../engine/rng.js';
import { textEncoder } from '../engine/train/sequences.js';
import { goldCompare, goldScore } from '../demo/rubric.js';
import type { Project } from '../store/project.js';
import { compareCheckpoints, decodeResponse, klSums } from './compare.js';
import { winRate } from './stats.js';
import type { PairOutcome } from '../shared/vocabulary.js';

/** One checkpoint judged against SFT: the shape the API hands to the app (defined once, in the contract). */
export type CheckpointJudgement = CheckpointJudgementView;

export interface JudgeCheckpointsOptions {
  sft: number;
  rm: number;
  /** Checkpoints to judge, with their run step. */
  checkpoints: { id: number; step: number }[];
  /** Held-out prompts: a seeded sample of this many eval prompts. */
  prompts: number;
  gold: boolean;
  seed: number;
  temperature: number;
  max_new_tokens: number;
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
const outcome = (a: number, b: number): PairOutcome => (Math.abs(b - a) < 1e-9 ? 'tie' : b > a ? 'b' : 'a');

/** Blind votes stored between the two checkpoints on eval prompts (what the `human` judge counts). */
function humanVotes(project: Project, x: number, y: number): number {
  return project.db
    .prepare<[number, number, number, number], { n: number }>(
      `SELECT count(*) AS n FROM comparisons m JOIN prompts p ON p.id = m.prompt_id
       JOIN responses ra ON ra.id = m.response_a JOIN responses rb ON rb.id = m.response_b
       WHERE p.split = 'eval' AND ((ra.checkpoint_id = ? AND rb.checkpoint_id = ?) OR (ra.checkpoint_id = ? AND rb.checkpoint_id = ?))`,
    )
    .get(x, y, y, x)!.n;
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
  const ref = loadModel(project, o.sft, o.seed);
  const reward = loadRewardModel(project, o.rm, o.seed);
  try {
    const tok = ref.tokenizer;
    const enc = textEncoder(tok);
    const ids = prompts.map((p) => enc.prompt(p.text));
    const gen = { maxNewTokens: o.max_new_tokens, temperature: o.temperature, topK: 0, topP: 1, eosId: tok.eosId, padId: tok.padId };
    const answer = (model: typeof ref.model) => {
      const out: number[][] = [];
      for (let i = 0; i < ids.length; i += 32) out.push(...generate(model, ids.slice(i, i + 32), { ...gen, seed: o.seed + i }).tokens);
      return out;
    };
    const sftTokens = answer(ref.model);
    const sftText = sftTokens.map((r) => decodeResponse(tok, r));
    const sftRm = reward.model.score(ids, sftTokens, tok.padId);
    const points: CheckpointJudgement[] = [
      {
        step: 0,
        checkpoint: o.sft,
        kl: 0,
        sqrt_kl: 0,
        rm: mean(sftRm),
        gold: o.gold ? mean(prompts.map((p, k) => goldScore(p.text, sftText[k]!))) : null,
        rm_win_rate: 0.5,
        gold_win_rate: o.gold ? 0.5 : null,
        human_win_rate: null,
        human_votes: 0,
      },
    ];
    for (const [j, c] of o.checkpoints.entries()) {
      if (hooks.signal?.aborted) throw new Error('cancelled');
      const m = loadModel(project, c.id, o.seed);
      try {
        const tokens = answer(m.model);
        const text = tokens.map((x) => decodeResponse(tok, x));
        const kl: number[] = [];
        for (let i = 0; i < ids.length; i += 32) {
          kl.push(...klSums(ref.model, m.model, ids.slice(i, i + 32), tokens.slice(i, i + 32), o.temperature, tok.padId).map((x) => x ?? 0));
        }
        const rmScores = reward.model.score(ids, tokens, tok.padId);
        const klMean = mean(kl);
        const rate = (outcomes: PairOutcome[]) => winRate(outcomes, new Rng(o.seed), { resamples: 100 }).win_rate;
        const votes = humanVotes(project, o.sft, c.id);
        points.push({
          step: c.step,
          checkpoint: c.id,
          kl: klMean,
          sqrt_kl: Math.sqrt(Math.max(0, klMean)),
          rm: mean(rmScores),
          gold: o.gold ? mean(prompts.map((p, k) => goldScore(p.text, text[k]!))) : null,
          rm_win_rate: rate(rmScores.map((s, k) => outcome(sftRm[k]!, s))),
          gold_win_rate: o.gold ? rate(prompts.map((p, k) => goldCompare(p.text, sftText[k]!, text[k]!))) : null,
          human_win_rate: votes > 0 ? (await compareCheckpoints(project, { a: o.sft, b: c.id, judge: 'human' })).win_rate : null,
          human_votes: votes,
        });
      } finally {
        m.model.dispose();
      }
      hooks.progress?.(j + 1, o.checkpoints.length, `checkpoint #${c.id}`);
    }
    return { prompts: prompts.length, points };
  } finally {
    ref.model.dispose();
    reward.dispose();
  }
}

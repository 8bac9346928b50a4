// What RLOO and GRPO share: a rollout of k completions per prompt (consecutive rows g·k … g·k+k−1),
// their log-probs under the policy and the frozen reference, the reward model's scores; and one
// policy-gradient step over a minibatch of those rows. Both run on the main thread's backend: the
// three models (policy, reference, reward) and no value model are the point of these methods, and
// PPO's worker replicas (ppo.ts) are sized for its four.
import * as tf from '@tensorflow/tfjs';
import { generate } from '../models/generate.js';
import { trainedGrads } from '../kernels/fast-ops.js';
import type { GPT } from '../models/model.js';
import type { AdamW, AdamWState } from './optim.js';
import type { PpoPrompt, PpoTokens, Scorer } from './ppo.js';
import { disposeBatch, packBatch, promptTail, responseRows, tokenLogprobsAt, type SequenceBatch } from './sequences.js';

export interface CriticFreeModels {
  policy: GPT;
  /** The SFT model, frozen. */
  ref: GPT;
  reward: Scorer;
}

export interface SamplingConfig {
  temperature: number;
  top_k: number;
  top_p: number;
  max_new_tokens: number;
}

export interface GroupRollout {
  /** One entry per completion (each prompt k times in a row). */
  prompts: PpoPrompt[];
  promptIds: number[][];
  responses: number[][];
  finished: boolean[];
  /** Per response token, at the sampling temperature. */
  logp: number[][];
  refLogp: number[][];
  /** Mean per-token entropy of the policy over each response. */
  entropy: number[];
  rawScores: number[];
}

/** A completion as the sample tables show it: the whole group of a prompt together (rows of one `group`). */
export interface GroupSample {
  prompt: string;
  response: string;
  score: number;
  kl: number;
  extra: { group: number; advantage: number; finished: boolean; length: number };
}

export interface CriticFreeResumeState {
  step: number;
  optimizer: AdamWState;
}

export interface CriticFreeHooks {
  onStep?(step: number, metrics: Record<string, number>): void | Promise<void>;
  onSamples?(step: number, rows: GroupSample[]): void | Promise<void>;
  onCheckpoint?(state: CriticFreeResumeState, final: boolean): void | Promise<void>;
  signal?: AbortSignal;
}

/** The sample rows of whole groups (never a group cut in half), up to `rows` completions. */
export function groupSamples(
  data: { prompts: PpoPrompt[]; responses: number[][]; finished: boolean[]; rawScores: number[] },
  kl: number[],
  advantages: number[],
  k: number,
  rows: number,
  tok: PpoTokens,
): GroupSample[] {
  const n = Math.max(k, Math.floor(rows / k) * k);
  return data.responses.slice(0, n).map((r, i) => ({
    prompt: data.prompts[i]!.text,
    response: tok.decode(r.filter((t) => t !== tok.eosId)),
    score: data.rawScores[i]!,
    kl: kl[i]!,
    extra: { group: Math.floor(i / k), advantage: advantages[i]!, finished: data.finished[i]!, length: r.length },
  }));
}

/** Samples k completions for each prompt and scores them (forward passes only). */
export function groupRollout(models: CriticFreeModels, prompts: PpoPrompt[], k: number, config: SamplingConfig, tok: PpoTokens, seed: number): GroupRollout {
  const nPos = models.policy.config.n_positions;
  const expanded = prompts.flatMap((p) => Array.from({ length: k }, () => p));
  const promptIds = expanded.map((p) => promptTail(p.ids, nPos, config.max_new_tokens));
  const gen = generate(models.policy, promptIds, {
    maxNewTokens: config.max_new_tokens,
    temperature: config.temperature,
    topK: config.top_k,
    topP: config.top_p,
    eosId: tok.eosId,
    padId: tok.padId,
    seed,
  });
  const batch = packBatch(promptIds, gen.tokens, tok.padId, nPos);
  try {
    const lens = batch.responseLengths;
    const pol = tokenLogprobsAt(models.policy, batch, config.temperature, { entropy: true });
    const ref = tokenLogprobsAt(models.ref, batch, config.temperature).logp;
    const logp = responseRows(pol.logp, lens);
    const refLogp = responseRows(ref, lens);
    const entropy = responseRows(pol.entropy!, lens).map((row) => (row.length ? row.reduce((s, x) => s + x, 0) / row.length : 0));
    tf.dispose([pol.logp, pol.entropy!, ref]);
    return {
      prompts: expanded,
      promptIds,
      responses: gen.tokens,
      finished: gen.finished,
      logp,
      refLogp,
      entropy,
      rawScores: models.reward.score(promptIds, gen.tokens, tok.padId),
    };
  } finally {
    disposeBatch(batch);
  }
}

/**
 * One optimizer step on the rows `idx`: `loss` gets the packed minibatch and the policy's
 * per-token log-probs (with gradient) and returns the loss plus statistics to read back. The lr
 * schedule is read at `iteration`, once for all the updates of one generation batch (as ppo.ts).
 */
export function policyStep(
  policy: GPT,
  optimizer: AdamW,
  data: { promptIds: number[][]; responses: number[][] },
  idx: number[],
  padId: number,
  temperature: number,
  iteration: number,
  loss: (batch: SequenceBatch, logp: tf.Tensor2D, idx: number[]) => { loss: tf.Scalar; stats: tf.Scalar[] },
): number[] {
  const batch = packBatch(
    idx.map((i) => data.promptIds[i]!),
    idx.map((i) => data.responses[i]!),
    padId,
    policy.config.n_positions,
  );
  let stats: tf.Tensor | undefined;
  try {
    const { value, grads } = trainedGrads(() => {
      const logp = tokenLogprobsAt(policy, batch, temperature, { training: true }).logp;
      const out = loss(batch, logp, idx);
      stats = tf.keep(tf.stack(out.stats));
      return out.loss;
    }, optimizer.variables);
    try {
      optimizer.applyGradients(grads, iteration);
    } finally {
      tf.dispose([value, ...Object.values(grads)]);
    }
    return Array.from(stats!.dataSync());
  } finally {
    stats?.dispose();
    disposeBatch(batch);
  }
}

export const mean = (xs: number[]): number => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
export const variance = (xs: number[]): number => {
  const m = mean(xs);
  return xs.length > 1 ? xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1) : 0;
};

/** Contiguous minibatches of a shuffled order (the last may be shorter). */
export function minibatches(order: number[], count: number): number[][] {
  const size = Math.max(1, Math.ceil(order.length / count));
  const out: number[][] = [];
  for (let s = 0; s < order.length; s += size) out.push(order.slice(s, s + size));
  return out;
}

// The formulas of reward modeling, PPO and DPO (ALGORITHMS.md §2, §3, alternatives), each a
// small pure function so that each can be checked against hand-computed values.
// Rollout-side quantities (KL per token, rewards, GAE, whitening) are plain arrays: they need no
// gradients. Losses are tfjs ops so that they can be differentiated.
import * as tf from '@tensorflow/tfjs';
import type { VoteOutcome } from '../../shared/vocabulary.js';

// ---------------------------------------------------------------- preference pairs

/** One preference: response `chosen` beats response `rejected` for a prompt, by one annotator. */
export interface Vote {
  prompt_id: number;
  chosen: number;
  rejected: number;
  annotator_id: number;
  /** Optional per-pair margin for the loss (e.g. from a "much better" judgment). */
  margin?: number;
}

/**
 * A ranking `[[a], [b, c], [d]]` (best first, inner lists tied) becomes every ordered pair across
 * different tiers: a>b, a>c, a>d, b>d, c>d. Tied responses give no pair. `gap` is how many tiers
 * apart the two are (1 for neighbours), available as a margin source.
 */
export function pairsFromRanking(ranking: number[][]): { chosen: number; rejected: number; gap: number }[] {
  const pairs: { chosen: number; rejected: number; gap: number }[] = [];
  for (let i = 0; i < ranking.length; i++) {
    for (let j = i + 1; j < ranking.length; j++) {
      for (const chosen of ranking[i]!) for (const rejected of ranking[j]!) pairs.push({ chosen, rejected, gap: j - i });
    }
  }
  return pairs;
}

/** A blind A/B vote is a ranking of K = 2; a tie or "both bad" gives no pair. */
export function pairFromComparison(
  a: number,
  b: number,
  outcome: VoteOutcome,
): [chosen: number, rejected: number] | null {
  if (outcome === 'a') return [a, b];
  if (outcome === 'b') return [b, a];
  return null;
}

/**
 * How votes from several annotators on the same item become training pairs:
 * - `all`: every vote is a pair (agreeing votes count twice, disagreeing ones pull both ways);
 * - `majority`: one pair per (prompt, response pair), in the direction most annotators chose;
 *   an even split gives no pair;
 * - `per_annotator`: every vote is a pair, but each annotator's judgments of a prompt form their
 *   own group (see groupByPrompt), as InstructGPT treats each labeler's ranking as one example.
 */
export type AnnotatorCombine = 'all' | 'majority' | 'per_annotator';

export function combineVotes(votes: Vote[], mode: AnnotatorCombine): Vote[] {
  if (mode !== 'majority') return votes.slice();
  const tally = new Map<string, { lo: number; hi: number; score: number; prompt_id: number; margins: number[] }>();
  for (const v of votes) {
    const lo = Math.min(v.chosen, v.rejected);
    const hi = Math.max(v.chosen, v.rejected);
    const key = `${v.prompt_id}:${lo}:${hi}`;
    const t = tally.get(key) ?? { lo, hi, score: 0, prompt_id: v.prompt_id, margins: [] };
    t.score += v.chosen === lo ? 1 : -1;
    if (v.margin !== undefined) t.margins.push(v.margin);
    tally.set(key, t);
  }
  const out: Vote[] = [];
  for (const t of tally.values()) {
    if (t.score === 0) continue;
    const vote: Vote = {
      prompt_id: t.prompt_id,
      chosen: t.score > 0 ? t.lo : t.hi,
      rejected: t.score > 0 ? t.hi : t.lo,
      annotator_id: 0, // the majority belongs to no single annotator
    };
    if (t.margins.length > 0) vote.margin = t.margins.reduce((s, m) => s + m, 0) / t.margins.length;
    out.push(vote);
  }
  return out;
}

/** One batch element of reward-model training: the responses of a prompt and the pairs among them. */
export interface PairGroup {
  prompt_id: number;
  /** Distinct response ids, each scored once per step. */
  responses: number[];
  /** Indices into `responses`. */
  pairs: { chosen: number; rejected: number; margin: number }[];
}

/**
 * InstructGPT keeps all pairs of one prompt in one batch element, so each response is scored once
 * per step and the pairs of a ranking are not spread across the dataset (which overfits).
 */
export function groupByPrompt(votes: Vote[], mode: AnnotatorCombine): PairGroup[] {
  const groups = new Map<string, PairGroup & { index: Map<number, number> }>();
  for (const v of votes) {
    const key = mode === 'per_annotator' ? `${v.prompt_id}:${v.annotator_id}` : `${v.prompt_id}`;
    let g = groups.get(key);
    if (!g) {
      g = { prompt_id: v.prompt_id, responses: [], pairs: [], index: new Map() };
      groups.set(key, g);
    }
    const slot = (r: number): number => {
      let i = g!.index.get(r);
      if (i === undefined) {
        i = g!.responses.length;
        g!.responses.push(r);
        g!.index.set(r, i);
      }
      return i;
    };
    g.pairs.push({ chosen: slot(v.chosen), rejected: slot(v.rejected), margin: v.margin ?? 0 });
  }
  return [...groups.values()].map(({ prompt_id, responses, pairs }) => ({ prompt_id, responses, pairs }));
}

// ---------------------------------------------------------------- reward model loss

/**
 * Bradley–Terry pairwise loss `mean(-log σ(r_c − r_r − margin)) + c · mean((r_c + r_r)²)`.
 * The centering term keeps rewards near zero without changing which response wins.
 */
export function pairwiseLoss(
  rChosen: tf.Tensor1D,
  rRejected: tf.Tensor1D,
  opts: { margin?: tf.Tensor1D; centering?: number } = {},
): tf.Scalar {
  return tf.tidy(() => {
    let diff = tf.sub(rChosen, rRejected);
    if (opts.margin) diff = tf.sub(diff, opts.margin);
    // -log σ(x) = softplus(-x), stable for large |x|
    let loss = tf.mean(tf.softplus(tf.neg(diff)));
    const c = opts.centering ?? 0;
    if (c > 0) loss = tf.add(loss, tf.mul(c, tf.mean(tf.square(tf.add(rChosen, rRejected)))));
    return loss as tf.Scalar;
  });
}

/** Reward-model metrics over scored pairs: accuracy = share of pairs with r_c > r_r. */
export function pairMetrics(rChosen: number[], rRejected: number[]): { accuracy: number; margin: number } {
  const n = rChosen.length;
  if (n === 0) return { accuracy: 0, margin: 0 };
  let correct = 0;
  let margin = 0;
  for (let i = 0; i < n; i++) {
    const d = rChosen[i]! - rRejected[i]!;
    if (d > 0) correct++;
    margin += d;
  }
  return { accuracy: correct / n, margin: margin / n };
}

/** Gain and bias so that `gain · r + bias` has mean 0 and std 1 over the given scores. */
export function normalisation(scores: number[]): { gain: number; bias: number } {
  const n = scores.length;
  if (n === 0) return { gain: 1, bias: 0 };
  const mean = scores.reduce((s, x) => s + x, 0) / n;
  const variance = scores.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
  const std = Math.sqrt(variance);
  const gain = std > 1e-8 ? 1 / std : 1;
  return { gain, bias: -mean * gain };
}

// ---------------------------------------------------------------- KL and per-token rewards

export type KLEstimator = 'k1' | 'k3';

/**
 * Per-token KL estimate from the sampled token's log-probs under the policy and the reference:
 * k1 = logp − logp_ref (unbiased, can be negative per token); k3 = (r − 1) − log r with
 * r = p_ref / p (unbiased, never negative, lower variance).
 */
export function klPerToken(logp: number, logpRef: number, estimator: KLEstimator): number {
  if (estimator === 'k1') return logp - logpRef;
  const logR = logpRef - logp;
  return Math.expm1(logR) - logR;
}

export interface TokenRewards {
  /** Per sequence, one reward per real response token. */
  rewards: number[][];
  /** Per sequence, the sum of −β·kl_t (the non-score part of the reward). */
  nonScore: number[];
  /** The score actually added (after the missing-EOS penalty and clipping). */
  scores: number[];
}

/**
 * Per-token rewards −β·kl_t, with the reward-model score added on the last real response token
 * (the EOS when the response has one; never a slot after it). A response without EOS within the
 * length limit loses `missingEosPenalty` first; then the score is clipped to ±scoreClip if set.
 */
export function tokenRewards(
  kl: number[][],
  rawScores: number[],
  finished: boolean[],
  opts: { beta: number; missingEosPenalty: number; scoreClip: number | null },
): TokenRewards {
  const rewards: number[][] = [];
  const nonScore: number[] = [];
  const scores: number[] = [];
  for (let i = 0; i < kl.length; i++) {
    const row = kl[i]!.map((k) => -opts.beta * k);
    nonScore.push(row.reduce((s, x) => s + x, 0));
    let score = rawScores[i]!;
    if (!finished[i]) score -= opts.missingEosPenalty;
    if (opts.scoreClip !== null) score = Math.max(-opts.scoreClip, Math.min(opts.scoreClip, score));
    scores.push(score);
    if (row.length > 0) row[row.length - 1]! += score;
    rewards.push(row);
  }
  return { rewards, nonScore, scores };
}

// ---------------------------------------------------------------- advantages

/**
 * Generalised advantage estimation over each sequence's real tokens (ragged rows, so padding is
 * masked by construction): δ_t = r_t + γ V_{t+1} − V_t with V after the last token = 0,
 * A_t = δ_t + γλ A_{t+1}; returns = A + V.
 */
export function gae(
  rewards: number[][],
  values: number[][],
  gamma: number,
  lambda: number,
): { advantages: number[][]; returns: number[][] } {
  const advantages: number[][] = [];
  const returns: number[][] = [];
  for (let i = 0; i < rewards.length; i++) {
    const r = rewards[i]!;
    const v = values[i]!;
    const n = r.length;
    const adv = new Array<number>(n).fill(0);
    let last = 0;
    for (let t = n - 1; t >= 0; t--) {
      const next = t + 1 < n ? v[t + 1]! : 0;
      const delta = r[t]! + gamma * next - v[t]!;
      last = delta + gamma * lambda * last;
      adv[t] = last;
    }
    advantages.push(adv);
    returns.push(adv.map((a, t) => a + v[t]!));
  }
  return { advantages, returns };
}

/**
 * Whitening over the real tokens of all sequences: (x − mean) / sqrt(var + 1e-8), with the
 * unbiased variance as TRL's masked_whiten uses. `shiftMean: false` keeps the mean.
 */
export function whiten(rows: number[][], shiftMean = true): number[][] {
  const flat = rows.flat();
  const n = flat.length;
  if (n === 0) return rows.map((r) => r.slice());
  const mean = flat.reduce((s, x) => s + x, 0) / n;
  const variance = n > 1 ? flat.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1) : 0;
  const inv = 1 / Math.sqrt(variance + 1e-8);
  return rows.map((r) => r.map((x) => (shiftMean ? (x - mean) * inv : (x - mean) * inv + mean)));
}

// ---------------------------------------------------------------- PPO losses (tfjs)

/** mean of x over positions where mask = 1. */
export function maskedMean(x: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.div(tf.sum(tf.mul(x, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar);
}

/**
 * Clipped surrogate: max(−A·ρ, −A·clip(ρ, 1−ε, 1+ε)) averaged over real tokens, ρ = exp(logp −
 * logp_old). Also the share of tokens where clipping was active and the approx KL
 * 0.5·mean((logp − logp_old)²) that TRL logs.
 */
export function clippedSurrogate(
  logp: tf.Tensor2D,
  oldLogp: tf.Tensor2D,
  advantages: tf.Tensor2D,
  mask: tf.Tensor2D,
  clip: number,
): { loss: tf.Scalar; clipfrac: tf.Scalar; approxKl: tf.Scalar; ratio: tf.Tensor2D } {
  return tf.tidy(() => {
    const diff = tf.sub(logp, oldLogp);
    const ratio = tf.exp(diff) as tf.Tensor2D;
    const pg1 = tf.mul(tf.neg(advantages), ratio);
    const pg2 = tf.mul(tf.neg(advantages), tf.clipByValue(ratio, 1 - clip, 1 + clip));
    const loss = maskedMean(tf.maximum(pg1, pg2), mask);
    const clipfrac = maskedMean(tf.cast(tf.greater(pg2, pg1), 'float32'), mask);
    const approxKl = tf.mul(0.5, maskedMean(tf.square(diff), mask)) as tf.Scalar;
    return { loss, clipfrac, approxKl, ratio };
  });
}

/**
 * Clipped value loss 0.5·mean(max((V − R)², (V_clipped − R)²)), V_clipped = V_old +
 * clip(V − V_old, −ε, ε); plus the share of tokens where the clipped term was larger.
 */
export function clippedValueLoss(
  values: tf.Tensor2D,
  oldValues: tf.Tensor2D,
  returns: tf.Tensor2D,
  mask: tf.Tensor2D,
  clip: number,
): { loss: tf.Scalar; clipfrac: tf.Scalar } {
  return tf.tidy(() => {
    const clipped = tf.add(oldValues, tf.clipByValue(tf.sub(values, oldValues), -clip, clip));
    const vf1 = tf.square(tf.sub(values, returns));
    const vf2 = tf.square(tf.sub(clipped, returns));
    const loss = tf.mul(0.5, maskedMean(tf.maximum(vf1, vf2), mask)) as tf.Scalar;
    const clipfrac = maskedMean(tf.cast(tf.greater(vf2, vf1), 'float32'), mask);
    return { loss, clipfrac };
  });
}

/** Share of the returns' variance that the value estimates explain: 1 − var(R − V) / var(R). */
export function varianceExplained(values: number[][], returns: number[][]): number {
  const r = returns.flat();
  const v = values.flat();
  const n = r.length;
  if (n < 2) return 0;
  const variance = (xs: number[]): number => {
    const m = xs.reduce((s, x) => s + x, 0) / xs.length;
    return xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length;
  };
  const varR = variance(r);
  if (varR === 0) return 0;
  return 1 - variance(r.map((x, i) => x - v[i]!)) / varR;
}

// ---------------------------------------------------------------- KL coefficient

/** The KL coefficient β: fixed, or adapted toward a KL target (Ziegler et al. 2019). */
export interface KLController {
  value: number;
  update(currentKl: number, nSteps: number): void;
}

export class FixedKLController implements KLController {
  constructor(public value: number) {}
  update(): void {}
}

/** e = clip(KL/target − 1, −0.2, 0.2); β ← β·(1 + e·n/horizon). */
export class AdaptiveKLController implements KLController {
  constructor(
    public value: number,
    readonly target: number,
    readonly horizon: number,
  ) {}
  update(currentKl: number, nSteps: number): void {
    const error = Math.max(-0.2, Math.min(0.2, currentKl / this.target - 1));
    this.value *= 1 + (error * nSteps) / this.horizon;
  }
}

// ---------------------------------------------------------------- DPO

export interface DpoOutputs {
  loss: tf.Scalar;
  /** β(logπ(y_w) − logπ_ref(y_w)) per pair */
  chosenRewards: tf.Tensor1D;
  /** β(logπ(y_l) − logπ_ref(y_l)) per pair */
  rejectedRewards: tf.Tensor1D;
}

/** −log σ(β[(logπ(y_w) − logπref(y_w)) − (logπ(y_l) − logπref(y_l))]), averaged over pairs. */
export function dpoLoss(
  policyChosen: tf.Tensor1D,
  policyRejected: tf.Tensor1D,
  refChosen: tf.Tensor1D,
  refRejected: tf.Tensor1D,
  beta: number,
): DpoOutputs {
  return tf.tidy(() => {
    const chosenRewards = tf.mul(beta, tf.sub(policyChosen, refChosen)) as tf.Tensor1D;
    const rejectedRewards = tf.mul(beta, tf.sub(policyRejected, refRejected)) as tf.Tensor1D;
    const loss = tf.mean(tf.softplus(tf.neg(tf.sub(chosenRewards, rejectedRewards)))) as tf.Scalar;
    return { loss, chosenRewards, rejectedRewards };
  });
}

/** The TRL metric names of DPO, from per-pair rewards and summed log-probs. */
export function dpoMetrics(
  chosenRewards: number[],
  rejectedRewards: number[],
  logpChosen: number[],
  logpRejected: number[],
): Record<string, number> {
  const mean = (xs: number[]): number => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
  return {
    'rewards/chosen': mean(chosenRewards),
    'rewards/rejected': mean(rejectedRewards),
    'rewards/accuracies': mean(chosenRewards.map((c, i) => (c > rejectedRewards[i]! ? 1 : 0))),
    'rewards/margins': mean(chosenRewards.map((c, i) => c - rejectedRewards[i]!)),
    'logps/chosen': mean(logpChosen),
    'logps/rejected': mean(logpRejected),
  };
}

// The formulas of the critic-free RL stages (RLOO, GRPO) as pure functions, in the style of
// rlhf-math.ts: the group of k completions of one prompt is its own baseline, so there is no value
// model. Rewards arrive grouped: index g·k + j is completion j of prompt g.
import * as tf from '@tensorflow/tfjs';
import { clippedSurrogate, klPerToken, type KLEstimator } from './rlhf-math.js';

const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
/** Unbiased standard deviation (torch.std's default, which TRL uses). */
const std = (xs: number[]): number => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
};

/** The groups of k consecutive values; throws when the length is not a multiple of k. */
export function groups(values: number[], k: number): number[][] {
  if (k < 1 || values.length % k !== 0) throw new Error(`${values.length} values do not form groups of ${k}`);
  return Array.from({ length: values.length / k }, (_, g) => values.slice(g * k, (g + 1) * k));
}

/**
 * Score after the missing-EOS penalty (a response cut at the length limit loses `penalty`), as
 * PPO's tokenRewards applies it.
 */
export function penalisedScores(rawScores: number[], finished: boolean[], penalty: number): number[] {
  return rawScores.map((s, i) => (finished[i] ? s : s - penalty));
}

/**
 * RLOO's per-sequence reward: score − β·KL, with KL the sum over response tokens of the chosen
 * estimator. Per token (`tokenLevel`, TRL's token_level_kl) each token carries −β·kl_t and the
 * score sits on the last one, so the sequence's return is the same sum; the two differ only in
 * where the penalty is booked, which a sequence-level ratio cannot see. Returns the rewards and the
 * KL sums (the `objective/kl` metric).
 */
export function rlooRewards(
  scores: number[],
  logp: number[][],
  refLogp: number[][],
  opts: { beta: number; estimator: KLEstimator; tokenLevel: boolean },
): { rewards: number[]; kl: number[] } {
  const kl = logp.map((row, i) => row.reduce((s, lp, t) => s + klPerToken(lp, refLogp[i]![t]!, opts.estimator), 0));
  const rewards = scores.map((s, i) => {
    if (!opts.tokenLevel) return s - opts.beta * kl[i]!;
    const perToken = logp[i]!.map((lp, t) => -opts.beta * klPerToken(lp, refLogp[i]![t]!, opts.estimator));
    if (perToken.length === 0) return s;
    perToken[perToken.length - 1]! += s;
    return perToken.reduce((a, x) => a + x, 0);
  });
  return { rewards, kl };
}

/**
 * Leave-one-out advantages (Ahmadian et al. 2024): A_j = r_j − mean of the other k−1 rewards of
 * the group = k/(k−1)·(r_j − group mean). With `normalise`, whitened over the whole batch:
 * (A − mean)/(std + 1e-8), as TRL's normalize_advantage.
 */
export function rlooAdvantages(rewards: number[], k: number, normalise: boolean): number[] {
  if (k < 2) throw new Error('RLOO needs at least 2 completions per prompt (rloo_k ≥ 2)');
  const adv = groups(rewards, k).flatMap((g) => {
    const sum = g.reduce((s, x) => s + x, 0);
    return g.map((r) => r - (sum - r) / (k - 1));
  });
  if (!normalise) return adv;
  const m = mean(adv);
  const s = std(adv);
  return adv.map((a) => (a - m) / (s + 1e-8));
}

/**
 * GRPO's group-relative advantages (Shao et al. 2024): r − group mean, divided by the group's
 * (unbiased) std + 1e-4 when `scaleRewards` (TRL's scale_rewards; Dr. GRPO turns it off). Also the
 * per-group std, for the `reward_std` and `frac_reward_zero_std` metrics.
 */
export function grpoAdvantages(rewards: number[], k: number, scaleRewards: boolean): { advantages: number[]; groupStd: number[] } {
  if (k < 2) throw new Error('GRPO needs at least 2 completions per prompt (num_generations ≥ 2)');
  const gs = groups(rewards, k);
  const groupStd = gs.map(std);
  const advantages = gs.flatMap((g, i) => {
    const m = mean(g);
    return g.map((r) => (scaleRewards ? (r - m) / (groupStd[i]! + 1e-4) : r - m));
  });
  return { advantages, groupStd };
}

/**
 * RLOO's clipped policy loss with the sequence-level ratio ρ = exp(Σ logp − Σ logp_old) (TRL's
 * RLOOTrainer sums the log-probs over the response first): mean over sequences of
 * max(−A·ρ, −A·clip(ρ, 1−ε, 1+ε)). `seqLogp`/`seqOldLogp`/`advantages` are [B].
 */
export function rlooPolicyLoss(
  seqLogp: tf.Tensor1D,
  seqOldLogp: tf.Tensor1D,
  advantages: tf.Tensor1D,
  cliprange: number,
): { loss: tf.Scalar; clipfrac: tf.Scalar; approxKl: tf.Scalar; ratio: tf.Tensor1D } {
  // PPO's clipped surrogate (rlhf-math.ts) with one 'token' per sequence: its sequence ratio.
  return tf.tidy(() => {
    const column = (t: tf.Tensor1D) => tf.expandDims(t, 1) as tf.Tensor2D;
    const out = clippedSurrogate(column(seqLogp), column(seqOldLogp), column(advantages), tf.onesLike(column(seqLogp)), cliprange);
    return { ...out, ratio: tf.squeeze(out.ratio, [1]) as tf.Tensor1D };
  });
}

export type GrpoLossType = 'grpo' | 'bnpo' | 'dr_grpo';

export interface GrpoLossOptions {
  beta: number;
  epsilon: number;
  /** Upper clip bound 1 + epsilon_high (DAPO's clip-higher); null = epsilon. */
  epsilonHigh: number | null;
  lossType: GrpoLossType;
  /** dr_grpo divides by batch size × this (TRL's max_completion_length). */
  maxCompletionLength: number;
}

/**
 * GRPO's per-token loss −min(ρ·A, clip(ρ, 1−ε, 1+ε_high)·A) + β·k3(π, π_ref), with ρ =
 * exp(logp − logp_old) per token and A the sequence's advantage on each of its tokens, aggregated
 * as TRL's loss_type: `grpo` averages each sequence over its tokens then over sequences; `bnpo`
 * averages over all tokens of the batch; `dr_grpo` sums and divides by B × max_completion_length.
 * Also the clip statistics (TRL's clip_ratio/low_mean, high_mean, region_mean: the share of tokens
 * whose ratio sits beyond a bound in the direction the advantage pushes) and the mean k3 KL.
 * All [B, T] tensors; `mask` is 1 on real response tokens.
 */
export function grpoLoss(
  logp: tf.Tensor2D,
  oldLogp: tf.Tensor2D,
  refLogp: tf.Tensor2D,
  advantages: tf.Tensor1D,
  mask: tf.Tensor2D,
  o: GrpoLossOptions,
): { loss: tf.Scalar; kl: tf.Scalar; clipLow: tf.Scalar; clipHigh: tf.Scalar; clipRegion: tf.Scalar } {
  return tf.tidy(() => {
    const lo = 1 - o.epsilon;
    const hi = 1 + (o.epsilonHigh ?? o.epsilon);
    const adv = tf.expandDims(advantages, 1);
    const ratio = tf.exp(tf.sub(logp, oldLogp));
    const l1 = tf.mul(ratio, adv);
    const l2 = tf.mul(tf.clipByValue(ratio, lo, hi), adv);
    // k3 = exp(ref − logp) − (ref − logp) − 1, never negative.
    const d = tf.sub(refLogp, logp);
    const kl = tf.sub(tf.sub(tf.exp(d), d), 1);
    let perToken = tf.neg(tf.minimum(l1, l2));
    if (o.beta !== 0) perToken = tf.add(perToken, tf.mul(o.beta, kl));
    const masked = tf.mul(perToken, mask);
    const tokens = tf.maximum(tf.sum(mask), 1);
    const [B] = logp.shape;
    let loss: tf.Scalar;
    if (o.lossType === 'grpo') loss = tf.mean(tf.div(tf.sum(masked, 1), tf.maximum(tf.sum(mask, 1), 1))) as tf.Scalar;
    else if (o.lossType === 'bnpo') loss = tf.div(tf.sum(masked), tokens) as tf.Scalar;
    else loss = tf.div(tf.sum(masked), B * o.maxCompletionLength) as tf.Scalar;
    const share = (x: tf.Tensor) => tf.div(tf.sum(tf.mul(tf.cast(x, 'float32'), mask)), tokens) as tf.Scalar;
    const low = tf.logicalAnd(tf.less(ratio, lo), tf.less(adv, 0));
    const high = tf.logicalAnd(tf.greater(ratio, hi), tf.greater(adv, 0));
    return {
      loss,
      kl: tf.div(tf.sum(tf.mul(kl, mask)), tokens) as tf.Scalar,
      clipLow: share(low),
      clipHigh: share(high),
      clipRegion: share(tf.logicalOr(low, high)),
    };
  });
}

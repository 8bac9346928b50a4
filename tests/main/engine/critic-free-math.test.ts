// The RLOO and GRPO formulas of critic-free-math against values worked out by hand (comments show
// the arithmetic).
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  grpoAdvantages,
  grpoLoss,
  penalisedScores,
  rlooAdvantages,
  rlooPolicyLoss,
  rlooRewards,
  type GrpoLossOptions,
} from '../../../src-main/engine/train/critic-free-math.js';

tf.setBackend('cpu');

const close = (a: number[], b: number[], digits = 5): void => {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => expect(x).toBeCloseTo(b[i]!, digits));
};
const num = (t: tf.Tensor): number => t.dataSync()[0]!;

describe('RLOO rewards and advantages', () => {
  it('subtracts the missing-EOS penalty from unfinished completions only', () => {
    expect(penalisedScores([1, 2], [true, false], 0.5)).toEqual([1, 1.5]);
  });
  it('reward = score − β·Σ kl_t with k1 and k3, the same per token or per sequence', () => {
    const logp = [[-1, -2]];
    const ref = [[-1.5, -1]];
    // k1: (−1 + 1.5) + (−2 + 1) = −0.5 → 1 − 0.5·(−0.5) = 1.25
    const k1 = rlooRewards([1], logp, ref, { beta: 0.5, estimator: 'k1', tokenLevel: false });
    close(k1.kl, [-0.5]);
    close(k1.rewards, [1.25]);
    // k3 with log r = ref − logp = −0.5, +1: (e^−0.5 − 1 + 0.5) + (e − 1 − 1) = 0.106531 + 0.718282 = 0.824813 → 1 − 0.412406
    const k3 = rlooRewards([1], logp, ref, { beta: 0.5, estimator: 'k3', tokenLevel: false });
    close(k3.kl, [0.824813]);
    close(k3.rewards, [0.587594]);
    close(rlooRewards([1], logp, ref, { beta: 0.5, estimator: 'k3', tokenLevel: true }).rewards, [0.587594]);
  });
  it('advantage = reward − mean of the other k−1', () => {
    // k = 2: [1,2] → −1, +1; [3,6] → −3, +3
    close(rlooAdvantages([1, 2, 3, 6], 2, false), [-1, 1, -3, 3]);
    // k = 3: 1 − (2+6)/2 = −3; 2 − (1+6)/2 = −1.5; 6 − (1+2)/2 = 4.5
    close(rlooAdvantages([1, 2, 6], 3, false), [-3, -1.5, 4.5]);
  });
  it('normalises over the batch: mean 0, std sqrt(20/3) = 2.58199', () => {
    close(rlooAdvantages([1, 2, 3, 6], 2, true), [-0.387298, 0.387298, -1.161895, 1.161895]);
  });
  it('refuses k < 2 and a batch that is not whole groups', () => {
    expect(() => rlooAdvantages([1, 2], 1, false)).toThrow(/rloo_k/);
    expect(() => rlooAdvantages([1, 2, 3], 2, false)).toThrow(/groups of 2/);
  });
});

describe('GRPO advantages', () => {
  it('(r − group mean) / (group std + 1e-4), with the unbiased std', () => {
    // [1,2]: mean 1.5, std √0.5 = 0.707107 → ∓0.5/0.707207; [3,6]: mean 4.5, std √4.5 = 2.121320 → ∓1.5/2.121420
    const a = grpoAdvantages([1, 2, 3, 6], 2, true);
    close(a.advantages, [-0.707007, 0.707007, -0.707073, 0.707073]);
    close(a.groupStd, [0.707107, 2.12132]);
  });
  it('without scale_rewards only the mean is taken off; a zero-std group gives zero advantages', () => {
    close(grpoAdvantages([1, 2, 3, 6], 2, false).advantages, [-0.5, 0.5, -1.5, 1.5]);
    const flat = grpoAdvantages([2, 2], 2, true);
    close(flat.advantages, [0, 0]);
    close(flat.groupStd, [0]);
  });
});

describe('RLOO policy loss (sequence-level ratio)', () => {
  it('max(−A·ρ, −A·clip(ρ)) averaged over sequences', () => {
    // ρ = [e^0.1 = 1.105171, 1]; pg1 = −A·ρ = [−2.210342, 1];
    // cliprange 0.05: clip(1.105171) = 1.05 → pg2 = [−2.1, 1]; max = [−2.1, 1] → mean −0.55; clipped in row 0 only
    const out = rlooPolicyLoss(tf.tensor1d([-1, -2]), tf.tensor1d([-1.1, -2]), tf.tensor1d([2, -1]), 0.05);
    expect(num(out.loss)).toBeCloseTo(-0.55, 5);
    expect(num(out.clipfrac)).toBeCloseTo(0.5, 5);
    // approx KL 0.5·mean(0.1², 0) = 0.0025
    expect(num(out.approxKl)).toBeCloseTo(0.0025, 6);
    close(Array.from(out.ratio.dataSync()), [1.105171, 1]);
  });
});

describe('GRPO loss aggregations', () => {
  // Row 0 (A = +1): ratios [1, e^0.5 = 1.648721] → per-token −1, −min(1.6487, 1.2) = −1.2.
  // Row 1 (A = −1): one real token with ratio 1 → +1 (its second slot is padding).
  const logp = tf.tensor2d([[-1, -1], [-2, 0]]);
  const old = tf.tensor2d([[-1, -1.5], [-2, 0]]);
  const adv = tf.tensor1d([1, -1]);
  const mask = tf.tensor2d([[1, 1], [1, 0]]);
  const opts: GrpoLossOptions = { beta: 0, epsilon: 0.2, epsilonHigh: null, lossType: 'grpo', maxCompletionLength: 4 };
  const loss = (o: Partial<GrpoLossOptions>, ref: tf.Tensor2D = logp) => grpoLoss(logp, old, ref, adv, mask, { ...opts, ...o });

  it('grpo: per-sequence token means, then the mean: ((−1 − 1.2)/2 + 1)/2 = −0.05', () => {
    expect(num(loss({}).loss)).toBeCloseTo(-0.05, 5);
  });
  it('bnpo: over all real tokens: (−1 − 1.2 + 1)/3 = −0.4', () => {
    expect(num(loss({ lossType: 'bnpo' }).loss)).toBeCloseTo(-0.4, 5);
  });
  it('dr_grpo: the sum over B × max_completion_length: −1.2/8 = −0.15', () => {
    expect(num(loss({ lossType: 'dr_grpo' }).loss)).toBeCloseTo(-0.15, 5);
  });
  it('adds β·k3 per token: ref −1.5 at row 0 token 0 gives k3 = e^−0.5 + 0.5 − 1 = 0.106531', () => {
    const ref = tf.tensor2d([[-1.5, -1], [-2, 0]]);
    const out = loss({ beta: 0.1 }, ref);
    // row 0: (−1 + 0.0106531 − 1.2)/2 = −1.0946735; mean with 1 → −0.0473367
    expect(num(out.loss)).toBeCloseTo(-0.0473367, 5);
    expect(num(out.kl)).toBeCloseTo(0.106531 / 3, 5);
  });
  it('counts clipping in the direction the advantage pushes; epsilon_high lifts the upper bound', () => {
    const out = loss({});
    expect(num(out.clipHigh)).toBeCloseTo(1 / 3, 5);
    expect(num(out.clipLow)).toBeCloseTo(0, 5);
    expect(num(out.clipRegion)).toBeCloseTo(1 / 3, 5);
    // ε_high = 0.7: 1.6487 < 1.7 is not clipped → row 0 (−1 − 1.648721)/2; mean with 1 → −0.1621803
    const high = loss({ epsilonHigh: 0.7 });
    expect(num(high.loss)).toBeCloseTo(-0.1621803, 5);
    expect(num(high.clipHigh)).toBeCloseTo(0, 5);
    // A < 0 with ρ = e^−0.5 = 0.606531 < 0.8: −min(−0.606531, −0.8) = 0.8, a low clip
    const low = grpoLoss(tf.tensor2d([[-1]]), tf.tensor2d([[-0.5]]), tf.tensor2d([[-1]]), tf.tensor1d([-1]), tf.tensor2d([[1]]), opts);
    expect(num(low.loss)).toBeCloseTo(0.8, 5);
    expect(num(low.clipLow)).toBeCloseTo(1, 5);
  });
});

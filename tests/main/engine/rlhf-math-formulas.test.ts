// Every formula of rlhf-math against values worked out by hand (comments show the arithmetic).
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  AdaptiveKLController,
  FixedKLController,
  clippedSurrogate,
  clippedValueLoss,
  combineVotes,
  dpoLoss,
  dpoMetrics,
  gae,
  groupByPrompt,
  klPerToken,
  normalisation,
  pairFromComparison,
  pairMetrics,
  pairsFromRanking,
  pairwiseLoss,
  tokenRewards,
  varianceExplained,
  whiten,
  type Vote,
} from '../../../src-main/engine/train/rlhf-math.js';

tf.setBackend('cpu');

const close = (a: number[], b: number[], digits = 5): void => {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => expect(x).toBeCloseTo(b[i]!, digits));
};

describe('pairs from rankings and votes', () => {
  it('turns a ranking with a tie into the ordered pairs across tiers only', () => {
    expect(pairsFromRanking([[1], [2, 3], [4]])).toEqual([
      { chosen: 1, rejected: 2, gap: 1 },
      { chosen: 1, rejected: 3, gap: 1 },
      { chosen: 1, rejected: 4, gap: 2 },
      { chosen: 2, rejected: 4, gap: 1 },
      { chosen: 3, rejected: 4, gap: 1 },
    ]);
  });
  it('gives C(K,2) pairs for a strict ranking of K and none for an all-tied one', () => {
    expect(pairsFromRanking([[1], [2], [3], [4]])).toHaveLength(6);
    expect(pairsFromRanking([[1, 2, 3]])).toEqual([]);
  });
  it('turns A/B votes into a pair, ties and "both bad" into nothing', () => {
    expect(pairFromComparison(5, 6, 'a')).toEqual([5, 6]);
    expect(pairFromComparison(5, 6, 'b')).toEqual([6, 5]);
    expect(pairFromComparison(5, 6, 'tie')).toBeNull();
    expect(pairFromComparison(5, 6, 'both_bad')).toBeNull();
  });
  const votes: Vote[] = [
    { prompt_id: 1, chosen: 10, rejected: 11, annotator_id: 1 },
    { prompt_id: 1, chosen: 10, rejected: 11, annotator_id: 2 },
    { prompt_id: 1, chosen: 11, rejected: 10, annotator_id: 3 },
    { prompt_id: 1, chosen: 12, rejected: 11, annotator_id: 1 },
    { prompt_id: 1, chosen: 11, rejected: 12, annotator_id: 2 },
  ];
  it('combines annotators by majority: 2 of 3 say 10>11, a 1–1 split gives no pair', () => {
    const m = combineVotes(votes, 'majority');
    expect(m).toHaveLength(1);
    expect(m[0]).toMatchObject({ chosen: 10, rejected: 11 });
  });
  it('keeps every vote with "all" and "per_annotator"', () => {
    expect(combineVotes(votes, 'all')).toHaveLength(5);
    expect(combineVotes(votes, 'per_annotator')).toHaveLength(5);
  });
  it('groups all pairs of a prompt into one element, each response once', () => {
    const groups = groupByPrompt(
      [
        { prompt_id: 1, chosen: 10, rejected: 11, annotator_id: 1 },
        { prompt_id: 1, chosen: 10, rejected: 12, annotator_id: 1 },
        { prompt_id: 1, chosen: 11, rejected: 12, annotator_id: 1, margin: 0.5 },
        { prompt_id: 2, chosen: 20, rejected: 21, annotator_id: 1 },
      ],
      'all',
    );
    expect(groups).toHaveLength(2);
    expect(groups[0]!.responses).toEqual([10, 11, 12]);
    expect(groups[0]!.pairs).toEqual([
      { chosen: 0, rejected: 1, margin: 0 },
      { chosen: 0, rejected: 2, margin: 0 },
      { chosen: 1, rejected: 2, margin: 0.5 },
    ]);
  });
  it('per_annotator gives each annotator of a prompt its own group', () => {
    expect(groupByPrompt(votes, 'per_annotator')).toHaveLength(3);
    expect(groupByPrompt(votes, 'all')).toHaveLength(1);
  });
});

describe('reward model loss and metrics', () => {
  it('Bradley–Terry: mean softplus(−(r_c − r_r)) = (softplus(−1) + softplus(1)) / 2', () => {
    const loss = pairwiseLoss(tf.tensor1d([2, 0]), tf.tensor1d([1, 1]));
    expect(loss.dataSync()[0]).toBeCloseTo(0.8132617, 5);
  });
  it('adds the centering term c·mean((r_c + r_r)²) = 0.01 · (9 + 1) / 2', () => {
    const loss = pairwiseLoss(tf.tensor1d([2, 0]), tf.tensor1d([1, 1]), { centering: 0.01 });
    expect(loss.dataSync()[0]).toBeCloseTo(0.8632617, 5);
  });
  it('subtracts a per-pair margin inside the sigmoid', () => {
    const loss = pairwiseLoss(tf.tensor1d([2, 0]), tf.tensor1d([1, 1]), { margin: tf.tensor1d([0.5, 0]) });
    expect(loss.dataSync()[0]).toBeCloseTo(0.8936693, 5);
  });
  it('differentiates: the gradient pushes r_c up and r_r down', () => {
    const g = tf.grads((c: tf.Tensor, r: tf.Tensor) => pairwiseLoss(c as tf.Tensor1D, r as tf.Tensor1D))([
      tf.tensor1d([0]),
      tf.tensor1d([0]),
    ]);
    expect(g[0]!.dataSync()[0]).toBeCloseTo(-0.5, 5); // −σ(0)
    expect(g[1]!.dataSync()[0]).toBeCloseTo(0.5, 5);
  });
  it('accuracy is the share of pairs with r_c > r_r; margin the mean difference', () => {
    expect(pairMetrics([2, 0, 1], [1, 1, 1])).toEqual({ accuracy: 1 / 3, margin: 0 });
  });
  it('normalisation maps scores to mean 0, std 1', () => {
    expect(normalisation([1, 3])).toEqual({ gain: 1, bias: -2 });
    expect(normalisation([0, 4])).toEqual({ gain: 0.5, bias: -1 });
  });
});

describe('KL estimators and per-token rewards', () => {
  it('k1 = logp − logp_ref, which can be negative', () => {
    expect(klPerToken(-1, -2, 'k1')).toBe(1);
    expect(klPerToken(-2, -1, 'k1')).toBe(-1);
  });
  it('k3 = (r − 1) − log r with r = p_ref/p, never negative', () => {
    expect(klPerToken(-1, -2, 'k3')).toBeCloseTo(Math.exp(-1), 6); // r = e⁻¹: e⁻¹ − 1 + 1
    expect(klPerToken(-2, -1, 'k3')).toBeCloseTo(Math.E - 2, 6); // r = e: e − 1 − 1
    expect(klPerToken(-1.5, -1.5, 'k3')).toBe(0);
  });
  it('puts the score on the last real token (the EOS) and the penalty on a response without EOS', () => {
    const r = tokenRewards(
      [
        [0.1, 0.2, 0.3],
        [0.5, 0.5],
      ],
      [1, 2],
      [true, false],
      { beta: 0.1, missingEosPenalty: 1, scoreClip: null },
    );
    close(r.rewards[0]!, [-0.01, -0.02, -0.03 + 1]);
    close(r.rewards[1]!, [-0.05, -0.05 + (2 - 1)]); // score 2 minus the missing-EOS penalty 1
    close(r.nonScore, [-0.06, -0.1]);
    expect(r.scores).toEqual([1, 1]);
  });
  it('clips the score to ±scoreClip after the penalty', () => {
    const r = tokenRewards([[0], [0]], [7, -9], [true, false], { beta: 0.05, missingEosPenalty: 1, scoreClip: 5 });
    expect(r.scores).toEqual([5, -5]);
  });
});

describe('advantages', () => {
  it('GAE with γ = 1, λ = 0.95 on a 3-token sequence', () => {
    // δ2 = 1 − 0.7 = 0.3; δ1 = 0.7 − 0.6 = 0.1; δ0 = 0.6 − 0.5 = 0.1
    // A2 = 0.3; A1 = 0.1 + 0.95·0.3 = 0.385; A0 = 0.1 + 0.95·0.385 = 0.46575
    const { advantages, returns } = gae([[0, 0, 1]], [[0.5, 0.6, 0.7]], 1, 0.95);
    close(advantages[0]!, [0.46575, 0.385, 0.3]);
    close(returns[0]!, [0.96575, 0.985, 1.0]);
  });
  it('treats ragged rows independently (padding never enters)', () => {
    const { advantages } = gae([[1], [0, 2]], [[0], [0, 0]], 1, 0.5);
    close(advantages[0]!, [1]);
    close(advantages[1]!, [1, 2]); // A1 = 2; A0 = 0 + 0 − 0 + 0.5·2
  });
  it('whitens over all real tokens with the unbiased variance', () => {
    const w = whiten([[1, 2], [3]]); // mean 2, var (1+0+1)/2 = 1
    close(w[0]!, [-1, 0]);
    close(w[1]!, [1]);
    close(whiten([[1, 2], [3]], false).flat(), [1, 2, 3]);
  });
  it('variance explained = 1 − var(R − V)/var(R)', () => {
    expect(varianceExplained([[1, 2]], [[1, 3]])).toBeCloseTo(0.75, 6);
  });
});

describe('PPO losses', () => {
  it('clipped surrogate: ratio 2 with A = 1 is clipped to 1.2', () => {
    const out = clippedSurrogate(
      tf.tensor2d([[0, Math.log(2)]]),
      tf.tensor2d([[0, 0]]),
      tf.tensor2d([[1, 1]]),
      tf.tensor2d([[1, 1]]),
      0.2,
    );
    expect(out.loss.dataSync()[0]).toBeCloseTo(-1.1, 5); // max(−1,−1) and max(−2,−1.2)
    expect(out.clipfrac.dataSync()[0]).toBeCloseTo(0.5, 6);
    expect(out.approxKl.dataSync()[0]).toBeCloseTo(0.1201133, 5); // 0.5 · (0 + ln²2)/2
  });
  it('clipped surrogate is pessimistic: a negative advantage with ratio 2 is not clipped', () => {
    const out = clippedSurrogate(
      tf.tensor2d([[Math.log(2)]]),
      tf.tensor2d([[0]]),
      tf.tensor2d([[-1]]),
      tf.tensor2d([[1]]),
      0.2,
    );
    expect(out.loss.dataSync()[0]).toBeCloseTo(2, 5);
    expect(out.clipfrac.dataSync()[0]).toBe(0);
  });
  it('masks padding out of the surrogate', () => {
    const out = clippedSurrogate(
      tf.tensor2d([[0, Math.log(2)]]),
      tf.tensor2d([[0, 0]]),
      tf.tensor2d([[1, 1]]),
      tf.tensor2d([[1, 0]]),
      0.2,
    );
    expect(out.loss.dataSync()[0]).toBeCloseTo(-1, 5);
    expect(out.clipfrac.dataSync()[0]).toBe(0);
  });
  it('clipped value loss: 0.5 · mean(max((V−R)², (V_clip−R)²))', () => {
    // V_clip = [0.7, 0.3]; vf1 = [0, 1]; vf2 = [0.09, 0.49]; max = [0.09, 1]
    const out = clippedValueLoss(
      tf.tensor2d([[1, 0]]),
      tf.tensor2d([[0.5, 0.5]]),
      tf.tensor2d([[1, 1]]),
      tf.tensor2d([[1, 1]]),
      0.2,
    );
    expect(out.loss.dataSync()[0]).toBeCloseTo(0.2725, 5);
    expect(out.clipfrac.dataSync()[0]).toBeCloseTo(0.5, 6);
  });
});

describe('KL coefficient', () => {
  it('a fixed controller never moves', () => {
    const c = new FixedKLController(0.05);
    c.update();
    expect(c.value).toBe(0.05);
  });
  it('adaptive: KL above target raises β by at most 20%·n/horizon, below target lowers it', () => {
    const up = new AdaptiveKLController(0.05, 6, 10000);
    up.update(12, 8); // e = clip(1) = 0.2 → β·(1 + 0.2·8/10000)
    expect(up.value).toBeCloseTo(0.05 * 1.00016, 10);
    const down = new AdaptiveKLController(0.05, 6, 10000);
    down.update(3, 8); // e = clip(−0.5) = −0.2
    expect(down.value).toBeCloseTo(0.05 * 0.99984, 10);
    const small = new AdaptiveKLController(0.05, 6, 10000);
    small.update(6.6, 100); // e = 0.1 → β·1.001
    expect(small.value).toBeCloseTo(0.05005, 10);
  });
});

describe('DPO', () => {
  it('loss = softplus(−β·[(π_c − ref_c) − (π_r − ref_r)]) and its TRL metrics', () => {
    const out = dpoLoss(tf.tensor1d([-1]), tf.tensor1d([-3]), tf.tensor1d([-2]), tf.tensor1d([-2]), 0.1);
    expect(out.loss.dataSync()[0]).toBeCloseTo(0.5981389, 5); // β·(1 − (−1)) = 0.2
    const m = dpoMetrics(
      Array.from(out.chosenRewards.dataSync()),
      Array.from(out.rejectedRewards.dataSync()),
      [-1],
      [-3],
    );
    expect(m['rewards/chosen']).toBeCloseTo(0.1, 6);
    expect(m['rewards/rejected']).toBeCloseTo(-0.1, 6);
    expect(m['rewards/accuracies']).toBe(1);
    expect(m['rewards/margins']).toBeCloseTo(0.2, 6);
    expect(m['logps/chosen']).toBe(-1);
    expect(m['logps/rejected']).toBe(-3);
  });
});

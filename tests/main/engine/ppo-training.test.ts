// PPO on the tiny synthetic task: the policy learns to say the GOOD token, the KL penalty holds it
// near the reference, the adaptive controller steers β toward its target, and every metric of
// ALGORITHMS.md §3 is logged with its TRL name.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { GPT } from '../../../src-main/engine/models/model.js';
import { ppoConfigSchema, trainPpo, type PpoModels, type PpoSample, type Scorer } from '../../../src-main/engine/train/ppo.js';
import { RewardModel, rewardConfigSchema, trainRewardModel } from '../../../src-main/engine/train/reward.js';
import { Rng } from '../../../src-main/engine/rng.js';
import type { HealthWarning } from '../../../src-main/engine/train/health.js';
import { PAD, goodCounter, prompt, rankingGroups, tinyConfig, tinyHead, tinyModel, tok } from './rm-task.js';

beforeAll(async () => {
  await initBackend();
});

const prompts = (() => {
  const rng = new Rng(3);
  return Array.from({ length: 32 }, () => {
    const ids = prompt(rng);
    return { text: ids.join(' '), ids };
  });
})();

/** Policy, frozen reference and value model from one "SFT" start, scored by `reward`. */
function models(reward: Scorer, seed = 1): PpoModels {
  const policy = tinyModel(seed);
  return {
    policy,
    ref: GPT.fromWeights(tinyConfig, policy.getWeights()),
    value: { backbone: GPT.fromWeights(tinyConfig, policy.getWeights()), head: tinyHead(seed + 1) },
    reward,
  };
}

function dispose(m: PpoModels): void {
  m.policy.dispose();
  m.ref.dispose();
  m.value.backbone.dispose();
  m.value.head.dispose();
}

const base = { batch_size: 16, num_mini_batches: 2, num_ppo_epochs: 2, lr: 3e-3, max_new_tokens: 6, value_init: 'policy' as const };

async function run(reward: Scorer, overrides: Record<string, unknown>) {
  const m = models(reward);
  const metrics: Record<string, number>[] = [];
  const samples: { step: number; rows: PpoSample[] }[] = [];
  const warnings: HealthWarning[] = [];
  await trainPpo(m, prompts, ppoConfigSchema.parse({ ...base, ...overrides }), tok, {
    onStep: (_s, x) => void metrics.push(x),
    onSamples: (step, rows) => void samples.push({ step, rows }),
    onWarning: (w) => void warnings.push(w),
  });
  dispose(m);
  return { metrics, samples, warnings };
}

const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const series = (ms: Record<string, number>[], k: string) => ms.map((m) => m[k]!);

describe('PPO', () => {
  it('raises the reward model score while objective/kl stays bounded, logging every TRL metric', async () => {
    // A reward model trained on rankings first, normalised by nothing but its own training.
    const rm = new RewardModel(tinyModel(11), tinyHead(12));
    const rmConfig = rewardConfigSchema.parse({ epochs: 6, batch_prompts: 8, lr: 3e-3, warmup_steps: 2 });
    await trainRewardModel(rm, { train: rankingGroups(48, 1), eval: [] }, rmConfig, PAD);
    // lr 1e-3: the schedule now spans all 20 iterations (it used to reach 0.1 × lr by iteration 5).
    const { metrics, samples } = await run(rm, { steps: 20, kl_coef: 0.1, lr: 1e-3, sample_every: 10, sample_rows: 4 });
    const names = [
      'objective/kl', 'objective/kl_coef', 'objective/entropy', 'objective/scores', 'objective/non_score_reward',
      'objective/rlhf_reward', 'policy/approxkl_avg', 'policy/clipfrac_avg', 'policy/entropy_avg', 'loss/policy_avg',
      'loss/value_avg', 'val/clipfrac_avg', 'val/ratio', 'val/ratio_var', 'val/var_explained', 'val/num_eos_tokens',
      'tokens/response_len_mean',
    ];
    for (const m of metrics) for (const k of names) expect(Number.isFinite(m[k]), k).toBe(true);
    const scores = series(metrics, 'objective/raw_scores');
    expect(avg(scores.slice(-5))).toBeGreaterThan(avg(scores.slice(0, 3)) + 0.5);
    expect(Math.max(...series(metrics, 'objective/kl'))).toBeLessThan(6);
    expect(metrics[0]!['objective/kl']).toBeCloseTo(0, 4); // before any update the policy is the reference
    // Sample tables at steps 1, 10 and 20, each its own table.
    expect(samples.map((s) => s.step)).toEqual([1, 10, 20]);
    expect(samples[2]!.rows).toHaveLength(4);
    expect(Object.keys(samples[2]!.rows[0]!)).toEqual(['prompt', 'response', 'score', 'kl', 'extra']);
    rm.dispose();
  });

  it('with β = 0 the KL grows much faster than with β = 1', async () => {
    const free = await run(goodCounter, { steps: 20, kl_coef: 0 });
    const held = await run(goodCounter, { steps: 20, kl_coef: 1 });
    const klFree = avg(series(free.metrics, 'objective/kl').slice(-5));
    const klHeld = avg(series(held.metrics, 'objective/kl').slice(-5));
    // Over config seeds 0–5 the ratio is 2.3–10 and klFree 1.1–2.5 nats (measured when
    // generation moved to per-row random streams); these bounds hold with margin for all six.
    expect(klFree).toBeGreaterThan(2 * klHeld);
    expect(klFree).toBeGreaterThan(1.0);
    // The unpenalised policy also chases the score harder.
    expect(avg(series(free.metrics, 'objective/raw_scores').slice(-5))).toBeGreaterThan(avg(series(held.metrics, 'objective/raw_scores').slice(-5)));
  });

  it('the adaptive controller raises β when KL is above target and lowers it when below', async () => {
    const above = await run(goodCounter, { steps: 12, kl_coef: 0.05, adaptive_kl: true, kl_target: 0.2, kl_horizon: 200 });
    const betaAbove = series(above.metrics, 'objective/kl_coef');
    expect(betaAbove.at(-1)!).toBeGreaterThan(0.05);
    const below = await run(goodCounter, { steps: 4, kl_coef: 0.05, adaptive_kl: true, kl_target: 50, kl_horizon: 200 });
    const betaBelow = series(below.metrics, 'objective/kl_coef');
    // KL ≪ target: e = −0.2 each step, β ← β·(1 − 0.2·16/200)
    expect(betaBelow[1]).toBeCloseTo(0.05 * (1 - (0.2 * 16) / 200), 8);
    expect(betaBelow.at(-1)!).toBeLessThan(betaBelow[0]!);
  });

  it('keeps the tensor count flat across iterations (no leak per step)', async () => {
    const m = models(goodCounter, 21);
    const counts: number[] = [];
    await trainPpo(m, prompts, ppoConfigSchema.parse({ ...base, steps: 4 }), tok, { onStep: () => void counts.push(tf.memory().numTensors) });
    expect(new Set(counts.slice(1)).size).toBe(1);
    dispose(m);
  });
});

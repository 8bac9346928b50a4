// GRPO on the tiny synthetic task: group-relative advantages with no value model teach the policy
// to say the GOOD token; the k3 KL term holds it near the reference; several updates per
// generation batch move the ratio off 1 so clipping shows up; every metric has its TRL name.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import type { CriticFreeModels, GroupSample } from '../../../src-main/engine/train/critic-free.js';
import { grpoConfigSchema, trainGrpo } from '../../../src-main/engine/train/grpo.js';
import { GPT } from '../../../src-main/engine/models/model.js';
import { RewardModel, rewardConfigSchema, trainRewardModel } from '../../../src-main/engine/train/reward.js';
import { Rng } from '../../../src-main/engine/rng.js';
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

function models(seed = 1): CriticFreeModels {
  const policy = tinyModel(seed);
  return { policy, ref: GPT.fromWeights(tinyConfig, policy.getWeights()), reward: goodCounter };
}

const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const series = (ms: Record<string, number>[], k: string) => ms.map((m) => m[k]!);

async function run(overrides: Record<string, unknown>) {
  const m = models();
  const metrics: Record<string, number>[] = [];
  const samples: { step: number; rows: GroupSample[] }[] = [];
  const counts: number[] = [];
  const base = { prompts_per_step: 8, num_generations: 4, lr: 3e-3, max_new_tokens: 6, temperature: 0.7, beta: 0.04, sample_every: 10, sample_rows: 8 };
  await trainGrpo(m, prompts, grpoConfigSchema.parse({ ...base, ...overrides }), tok, {
    onStep: (_s, x) => {
      metrics.push(x);
      counts.push(tf.memory().numTensors);
    },
    onSamples: (step, rows) => void samples.push({ step, rows }),
  });
  m.policy.dispose();
  m.ref.dispose();
  return { metrics, samples, counts };
}

describe('GRPO', () => {
  it('raises the reward with no value model, logging TRL metrics and whole groups', async () => {
    const { metrics, samples, counts } = await run({ steps: 20 });
    const names = [
      'reward', 'reward_std', 'frac_reward_zero_std', 'kl', 'loss', 'clip_ratio/low_mean', 'clip_ratio/high_mean',
      'clip_ratio/region_mean', 'completions/mean_length', 'completions/min_length', 'completions/max_length',
      'completions/clipped_ratio', 'entropy', 'num_tokens', 'learning_rate',
    ];
    for (const m of metrics) for (const k of names) expect(Number.isFinite(m[k]), k).toBe(true);
    const rewards = series(metrics, 'reward');
    expect(avg(rewards.slice(-5))).toBeGreaterThan(avg(rewards.slice(0, 3)) + 0.5);
    expect(metrics[0]!.kl).toBeCloseTo(0, 4); // the first batch is sampled from the reference itself
    // One update per batch: π_old is the policy, the ratio is 1 and nothing is clipped.
    for (const m of metrics) expect(m['clip_ratio/region_mean']).toBe(0);
    expect(samples.map((s) => s.step)).toEqual([1, 10, 20]);
    const rows = samples[2]!.rows;
    expect(rows.map((r) => r.extra.group)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(avg(rows.slice(0, 4).map((r) => r.extra.advantage))).toBeCloseTo(0, 5); // (r − mean) sums to 0 in a group
    expect(new Set(counts.slice(1)).size).toBe(1); // no tensor leaks per iteration
  });

  it('several updates per batch move the ratio past the clip bounds; every loss_type learns', async () => {
    for (const loss_type of ['grpo', 'bnpo', 'dr_grpo']) {
      const { metrics } = await run({ steps: 12, num_iterations: 3, num_mini_batches: 2, epsilon: 0.05, loss_type, lr: loss_type === 'dr_grpo' ? 1e-2 : 3e-3 });
      expect(Math.max(...series(metrics, 'clip_ratio/region_mean')), loss_type).toBeGreaterThan(0);
      const rewards = series(metrics, 'reward');
      expect(avg(rewards.slice(-4)), loss_type).toBeGreaterThan(avg(rewards.slice(0, 3)) + 0.3);
    }
  });

  it('a large β holds the policy nearer the reference than β = 0', async () => {
    const free = await run({ steps: 15, beta: 0 });
    const held = await run({ steps: 15, beta: 2 });
    expect(avg(series(free.metrics, 'kl').slice(-5))).toBeGreaterThan(avg(series(held.metrics, 'kl').slice(-5)));
  });

  it("raises a trained reward model's score (normalised, with the missing-EOS penalty)", async () => {
    const rm = new RewardModel(tinyModel(11), tinyHead(12));
    await trainRewardModel(rm, { train: rankingGroups(48, 1), eval: [] }, rewardConfigSchema.parse({ epochs: 6, batch_prompts: 8, lr: 3e-3, warmup_steps: 2 }), PAD);
    const m = { ...models(), reward: rm };
    const metrics: Record<string, number>[] = [];
    await trainGrpo(m, prompts, grpoConfigSchema.parse({ prompts_per_step: 8, num_generations: 4, lr: 3e-3, temperature: 0.7, max_new_tokens: 6, steps: 20 }), tok, { onStep: (_s, x) => void metrics.push(x) });
    const scores = series(metrics, 'objective/raw_scores');
    expect(avg(scores.slice(-5))).toBeGreaterThan(avg(scores.slice(0, 3)) + 0.5);
    m.policy.dispose();
    m.ref.dispose();
    rm.dispose();
  });
});

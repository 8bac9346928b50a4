// RLOO on the tiny synthetic task: with only a policy, a frozen reference and a judge (no value
// model), the policy learns to say the GOOD token; every metric is logged with its TRL name and
// the sample tables show whole groups with each completion's advantage.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import type { CriticFreeModels, GroupSample } from '../../../src-main/engine/train/critic-free.js';
import { GPT } from '../../../src-main/engine/models/model.js';
import type { Scorer } from '../../../src-main/engine/train/ppo.js';
import { rlooConfigSchema, trainRloo } from '../../../src-main/engine/train/rloo.js';
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

function models(reward: Scorer, seed = 1): CriticFreeModels {
  const policy = tinyModel(seed);
  return { policy, ref: GPT.fromWeights(tinyConfig, policy.getWeights()), reward };
}

const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const series = (ms: Record<string, number>[], k: string) => ms.map((m) => m[k]!);

async function run(overrides: Record<string, unknown>) {
  const m = models(goodCounter);
  const metrics: Record<string, number>[] = [];
  const samples: { step: number; rows: GroupSample[] }[] = [];
  const counts: number[] = [];
  const base = { prompts_per_step: 8, rloo_k: 4, lr: 3e-3, max_new_tokens: 6, kl_coef: 0.05, sample_every: 10, sample_rows: 8 };
  await trainRloo(m, prompts, rlooConfigSchema.parse({ ...base, ...overrides }), tok, {
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

describe('RLOO', () => {
  it('raises the score with no value model, logging TRL metrics and whole groups', async () => {
    const { metrics, samples, counts } = await run({ steps: 20 });
    const names = [
      'objective/kl', 'objective/entropy', 'objective/non_score_reward', 'objective/rlhf_reward', 'objective/scores',
      'policy/approxkl_avg', 'policy/clipfrac_avg', 'loss/policy_avg', 'val/ratio', 'val/ratio_var', 'val/num_eos_tokens', 'lr',
    ];
    for (const m of metrics) for (const k of names) expect(Number.isFinite(m[k]), k).toBe(true);
    const scores = series(metrics, 'objective/raw_scores');
    expect(avg(scores.slice(-5))).toBeGreaterThan(avg(scores.slice(0, 3)) + 0.5);
    expect(metrics[0]!['objective/kl']).toBeCloseTo(0, 4); // before any update the policy is the reference
    expect(samples.map((s) => s.step)).toEqual([1, 10, 20]);
    // Two whole groups of 4; within a group the leave-one-out advantages sum to 0.
    const rows = samples[2]!.rows;
    expect(rows.map((r) => r.extra.group)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(new Set(rows.slice(0, 4).map((r) => r.prompt)).size).toBe(1);
    expect(avg(rows.slice(0, 4).map((r) => r.extra.advantage))).toBeCloseTo(0, 5);
    expect(new Set(counts.slice(1)).size).toBe(1); // no tensor leaks per iteration
  });

  it('a large β holds the policy nearer the reference than β = 0', async () => {
    const free = await run({ steps: 15, kl_coef: 0 });
    const held = await run({ steps: 15, kl_coef: 1, kl_estimator: 'k3', token_level_kl: true });
    expect(avg(series(free.metrics, 'objective/kl').slice(-5))).toBeGreaterThan(avg(series(held.metrics, 'objective/kl').slice(-5)));
  });

  it("raises a trained reward model's score (normalised, with the missing-EOS penalty)", async () => {
    const rm = new RewardModel(tinyModel(11), tinyHead(12));
    await trainRewardModel(rm, { train: rankingGroups(48, 1), eval: [] }, rewardConfigSchema.parse({ epochs: 6, batch_prompts: 8, lr: 3e-3, warmup_steps: 2 }), PAD);
    const m = { ...models(goodCounter), reward: rm };
    const metrics: Record<string, number>[] = [];
    await trainRloo(m, prompts, rlooConfigSchema.parse({ prompts_per_step: 8, rloo_k: 4, lr: 1e-3, max_new_tokens: 6, steps: 20 }), tok, { onStep: (_s, x) => void metrics.push(x) });
    const scores = series(metrics, 'objective/raw_scores');
    expect(avg(scores.slice(-5))).toBeGreaterThan(avg(scores.slice(0, 3)) + 0.5);
    m.policy.dispose();
    m.ref.dispose();
    rm.dispose();
  });
});

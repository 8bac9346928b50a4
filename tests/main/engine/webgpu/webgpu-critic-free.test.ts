// RLOO and GRPO (no LoRA) on the webgpu backend compute what they compute on wasm: the same
// rollouts, scores, KL, losses and the same updated policy. Run on Chromium's SwiftShader (a
// software adapter, so tiny shapes): each reference is computed on wasm first, in this process,
// then the backend is switched to webgpu and the same two iterations run from the same weights;
// the second iteration's rollout comes from the first one's update, so it checks the update too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../../src-main/engine/backend/backend.js';
import type { CriticFreeModels } from '../../../../src-main/engine/train/critic-free.js';
import { grpoConfigSchema, trainGrpo } from '../../../../src-main/engine/train/grpo.js';
import { GPT } from '../../../../src-main/engine/models/model.js';
import { rlooConfigSchema, trainRloo } from '../../../../src-main/engine/train/rloo.js';
import { Rng } from '../../../../src-main/engine/rng.js';
import { goodCounter, prompt, tinyConfig, tinyModel, tok } from '../rm-task.js';
import { SWIFTSHADER_ICD, swiftShaderPresent, swiftShaderSuffix } from './swiftshader.js';

interface Result {
  metrics: Record<string, number>[];
  weights: Float32Array[];
}

function setup(): { models: CriticFreeModels; prompts: { text: string; ids: number[] }[] } {
  const rng = new Rng(3);
  const prompts = Array.from({ length: 4 }, () => {
    const ids = prompt(rng);
    return { text: ids.join(' '), ids };
  });
  const policy = tinyModel(1);
  return { models: { policy, ref: GPT.fromWeights(tinyConfig, policy.getWeights()), reward: goodCounter }, prompts };
}

function finish(models: CriticFreeModels, metrics: Record<string, number>[]): Result {
  const weights = Object.values(models.policy.getWeights()).map((w) => Float32Array.from(w));
  models.policy.dispose();
  models.ref.dispose();
  return { metrics, weights };
}

async function rloo(): Promise<Result> {
  const { models, prompts } = setup();
  const metrics: Record<string, number>[] = [];
  const config = rlooConfigSchema.parse({ steps: 2, prompts_per_step: 2, rloo_k: 4, num_mini_batches: 2, num_ppo_epochs: 2, lr: 3e-3, max_new_tokens: 5, kl_coef: 0.05, sample_every: 100 });
  await trainRloo(models, prompts, config, tok, { onStep: (_s, m) => void metrics.push(m) });
  return finish(models, metrics);
}

async function grpo(): Promise<Result> {
  const { models, prompts } = setup();
  const metrics: Record<string, number>[] = [];
  const config = grpoConfigSchema.parse({ steps: 2, prompts_per_step: 2, num_generations: 4, num_iterations: 2, num_mini_batches: 2, lr: 3e-3, max_new_tokens: 5, beta: 0.04, sample_every: 100 });
  await trainGrpo(models, prompts, config, tok, { onStep: (_s, m) => void metrics.push(m) });
  return finish(models, metrics);
}

const onWasm: { rloo?: Result; grpo?: Result } = {};

function expectSame(label: string, got: Result, want: Result, keys: string[]): void {
  expect(got.metrics).toHaveLength(2);
  got.metrics.forEach((m, i) => {
    for (const k of keys) {
      const w = want.metrics[i]![k]!;
      expect(Number.isFinite(m[k]), `${label} iteration ${i + 1} ${k}`).toBe(true);
      expect(Math.abs(m[k]! - w), `${label} iteration ${i + 1} ${k}: webgpu ${m[k]} vs wasm ${w}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(w)));
    }
  });
  // The policy after both iterations: the same weights, to float32 rounding.
  let diff = 0;
  got.weights.forEach((w, j) => w.forEach((x, n) => (diff = Math.max(diff, Math.abs(x - want.weights[j]![n]!)))));
  expect(diff, `${label}: largest weight difference webgpu vs wasm`).toBeLessThan(1e-4);
}

describe.skipIf(!swiftShaderPresent)(`RLOO and GRPO on webgpu ${swiftShaderSuffix}`, () => {
  beforeAll(async () => {
    await initBackend('wasm');
    onWasm.rloo = await rloo();
    onWasm.grpo = await grpo();
    // Dawn reads the ICD path from the real environment (Node's process.env setter calls setenv).
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    const info = await initBackend('webgpu');
    expect(info.name).toBe('webgpu');
  }, 180_000);
  afterAll(async () => {
    await initBackend('wasm');
  });

  it('runs two RLOO iterations with the metrics and the updated policy of the wasm engine', async () => {
    const got = await rloo();
    expectSame('RLOO', got, onWasm.rloo!, ['objective/scores', 'objective/kl', 'objective/entropy', 'objective/rlhf_reward', 'loss/policy_avg', 'policy/approxkl_avg', 'val/ratio']);
    // The update moved the policy: its second rollout differs from its first in probability.
    expect(got.metrics[1]!['objective/kl']).not.toBe(0);
  }, 180_000);

  it('runs two GRPO iterations with the metrics and the updated policy of the wasm engine', async () => {
    const got = await grpo();
    expectSame('GRPO', got, onWasm.grpo!, ['reward', 'reward_std', 'kl', 'loss', 'entropy', 'clip_ratio/region_mean', 'completions/mean_length']);
    expect(got.metrics[1]!.kl).not.toBe(0);
  }, 180_000);
});

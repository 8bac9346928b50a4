// The engine on the webgpu backend computes what it computes on wasm: the same SFT loss curve, the
// same PPO iteration, the same DPO step, the same sampled tokens. Run on Chromium's SwiftShader
// (a software adapter, so tiny shapes): every reference is computed on wasm first, in this process,
// then the backend is switched to webgpu and the same work is repeated from the same weights.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../../src-main/engine/backend/backend.js';
import { dpoConfigSchema, trainDpo, type DpoPair } from '../../../../src-main/engine/train/dpo.js';
import { generate } from '../../../../src-main/engine/models/generate.js';
import { GPT, type GPTConfig } from '../../../../src-main/engine/models/model.js';
import { ppoConfigSchema, trainPpo } from '../../../../src-main/engine/train/ppo.js';
import { Rng } from '../../../../src-main/engine/rng.js';
import { defaultSftConfig, trainSft, type SftData } from '../../../../src-main/engine/train/sft.js';
import { PAD, goodCounter, prompt, rankingGroups, tinyConfig, tinyHead, tinyModel, tok } from '../rm-task.js';
import { SWIFTSHADER_ICD, swiftShaderPresent, swiftShaderSuffix } from './swiftshader.js';

const sftModelConfig: GPTConfig = { vocab_size: 40, n_positions: 16, n_embd: 32, n_layer: 1, n_head: 2, layer_norm_epsilon: 1e-5, dropout: 0 };

/** Sequences of a learnable pattern (each id followed by id+1 mod 40) with prompt tokens not trained on. */
function sftData(): SftData {
  const rng = new Rng(5);
  const seq = () => {
    const start = rng.int(40);
    const len = 8 + rng.int(8);
    const ids = Array.from({ length: len }, (_, i) => (start + i) % 40);
    return { ids, targets: ids.map((_, i) => i >= 3) };
  };
  return { train: Array.from({ length: 24 }, seq), eval: [] };
}

async function sftCurve(): Promise<number[]> {
  const model = GPT.create(sftModelConfig, 7);
  const losses: number[] = [];
  const config = { ...defaultSftConfig(), batch_size: 4, lr: 3e-3, warmup_steps: 2, max_steps: 20, sample_count: 0, checkpoint_every: 1000, seed: 1 };
  await trainSft(model, sftData(), config, 0, { onStep: (_s, m) => void losses.push(m.loss!) });
  model.dispose();
  return losses;
}

async function ppoIteration(): Promise<Record<string, number>> {
  const rng = new Rng(3);
  const prompts = Array.from({ length: 8 }, () => {
    const ids = prompt(rng);
    return { text: ids.join(' '), ids };
  });
  const policy = tinyModel(1);
  const models = {
    policy,
    ref: GPT.fromWeights(tinyConfig, policy.getWeights()),
    value: { backbone: GPT.fromWeights(tinyConfig, policy.getWeights()), head: tinyHead(2) },
    reward: goodCounter,
  };
  const config = ppoConfigSchema.parse({ steps: 1, batch_size: 8, num_mini_batches: 2, num_ppo_epochs: 1, lr: 3e-3, max_new_tokens: 5, value_init: 'policy' });
  let metrics: Record<string, number> = {};
  await trainPpo(models, prompts, config, tok, { onStep: (_s, m) => void (metrics = m) }, undefined, { threads: 1 });
  for (const m of [models.policy, models.ref, models.value.backbone]) m.dispose();
  models.value.head.dispose();
  return metrics;
}

async function dpoStep(): Promise<Record<string, number>> {
  const pairs: DpoPair[] = rankingGroups(4, 1).flatMap((g) => g.pairs.map((p) => ({ prompt: g.prompt, chosen: g.responses[p.chosen]!, rejected: g.responses[p.rejected]! })));
  const policy = tinyModel(1);
  const ref = GPT.fromWeights(tinyConfig, policy.getWeights());
  const config = dpoConfigSchema.parse({ epochs: 1, batch_size: 12, lr: 3e-3, warmup_steps: 0, eval_every: 100 });
  let metrics: Record<string, number> = {};
  // One step of the metrics on the pairs, then a second whose metrics show the first step's update.
  await trainDpo(policy, ref, { train: pairs.slice(0, 12), eval: [] }, { ...config, epochs: 2 }, PAD, { onStep: (_s, m) => void (metrics = m) });
  policy.dispose();
  ref.dispose();
  return metrics;
}

function sampled(): number[][] {
  const model = GPT.create(sftModelConfig, 9);
  const out = generate(model, [[1, 2, 3], [10, 11], [30]], { maxNewTokens: 10, temperature: 1, seed: 4, padId: 0 });
  model.dispose();
  return out.tokens;
}

const onWasm: { sft: number[]; ppo: Record<string, number>; dpo: Record<string, number>; tokens: number[][] } = { sft: [], ppo: {}, dpo: {}, tokens: [] };

describe.skipIf(!swiftShaderPresent)(`the engine on webgpu ${swiftShaderSuffix}`, () => {
  beforeAll(async () => {
    await initBackend('wasm');
    onWasm.sft = await sftCurve();
    onWasm.ppo = await ppoIteration();
    onWasm.dpo = await dpoStep();
    onWasm.tokens = sampled();
    // Dawn reads the ICD path from the real environment (Node's process.env setter calls setenv).
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    const info = await initBackend('webgpu');
    expect(info.name).toBe('webgpu');
  }, 120_000);
  afterAll(async () => {
    await initBackend('wasm');
  });

  it('trains 20 SFT steps with the loss curve of the wasm engine', async () => {
    const curve = await sftCurve();
    expect(curve).toHaveLength(20);
    // It learns (the check is not comparing two flat lines)…
    expect(curve.at(-1)!).toBeLessThan(curve[0]! - 0.3);
    // …and step by step as wasm does, to float32 rounding carried through 20 updates.
    curve.forEach((l, i) => expect(Math.abs(l - onWasm.sft[i]!), `step ${i + 1}: webgpu ${l} vs wasm ${onWasm.sft[i]}`).toBeLessThan(2e-3));
  }, 120_000);

  it('runs one PPO iteration with the metrics of the wasm engine', async () => {
    const m = await ppoIteration();
    for (const k of ['objective/kl', 'objective/scores', 'loss/policy_avg', 'loss/value_avg', 'policy/entropy_avg', 'policy/approxkl_avg']) {
      expect(Number.isFinite(m[k]), k).toBe(true);
      expect(Math.abs(m[k]! - onWasm.ppo[k]!), `${k}: webgpu ${m[k]} vs wasm ${onWasm.ppo[k]}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(onWasm.ppo[k]!)));
    }
  }, 120_000);

  it('runs DPO steps with the metrics of the wasm engine', async () => {
    const m = await dpoStep();
    for (const k of ['loss', 'rewards/chosen', 'rewards/rejected', 'logps/chosen', 'logps/rejected']) {
      expect(Math.abs(m[k]! - onWasm.dpo[k]!), `${k}: webgpu ${m[k]} vs wasm ${onWasm.dpo[k]}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(onWasm.dpo[k]!)));
    }
    // The second step saw the first one's update: the implicit rewards moved off zero.
    expect(Math.abs(m['rewards/margins']!)).toBeGreaterThan(0);
  }, 120_000);

  it('samples the same tokens for a seed', () => {
    expect(sampled()).toEqual(onWasm.tokens);
  }, 120_000);
});

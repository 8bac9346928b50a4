// LoRA GRPO on the webgpu backend computes what it computes on wasm: two iterations of a policy
// adapter on a shared base (the reference is that base with no adapter, engine/train/lora-views.ts)
// end with the same metrics and the same adapter weights. Run on Chromium's SwiftShader (a
// software adapter, so a tiny shape); the reference run is on wasm first, in this process.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../../src-main/engine/backend/backend.js';
import { loraConfigSchema } from '../../../../src-main/engine/models/lora.js';
import { grpoConfigSchema, trainGrpo } from '../../../../src-main/engine/train/grpo.js';
import { adaptedView } from '../../../../src-main/engine/train/lora-views.js';
import { Rng } from '../../../../src-main/engine/rng.js';
import { goodCounter, prompt, tinyModel, tok } from '../rm-task.js';
import { SWIFTSHADER_ICD, swiftShaderPresent, swiftShaderSuffix } from './swiftshader.js';

async function loraGrpo(): Promise<{ metrics: Record<string, number>; adapter: Record<string, Float32Array> }> {
  const rng = new Rng(3);
  const prompts = Array.from({ length: 8 }, () => {
    const ids = prompt(rng);
    return { text: ids.join(' '), ids };
  });
  const start = tinyModel(1);
  const policy = adaptedView(start, loraConfigSchema.parse({ r: 2, alpha: 4, targets: ['c_attn', 'c_fc'] }), 2, 'the policy');
  const config = grpoConfigSchema.parse({ steps: 2, prompts_per_step: 2, num_generations: 2, lr: 3e-2, max_new_tokens: 4, beta: 0.04 });
  let metrics: Record<string, number> = {};
  await trainGrpo({ policy, ref: start, reward: goodCounter }, prompts, config, tok, { onStep: (_s, m) => void (metrics = m) });
  const adapter = policy.lora!.getWeights();
  policy.dispose();
  start.dispose();
  return { metrics, adapter };
}

let onWasm: Awaited<ReturnType<typeof loraGrpo>>;

describe.skipIf(!swiftShaderPresent)(`LoRA GRPO on webgpu ${swiftShaderSuffix}`, () => {
  beforeAll(async () => {
    await initBackend('wasm');
    onWasm = await loraGrpo();
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    expect((await initBackend('webgpu')).name).toBe('webgpu');
  }, 120_000);
  afterAll(async () => {
    await initBackend('wasm');
  });

  it('two iterations give the wasm run’s metrics and adapter weights', async () => {
    expect(tf.getBackend()).toBe('webgpu');
    const m = await loraGrpo();
    for (const k of ['reward', 'kl', 'loss', 'entropy']) {
      expect(Number.isFinite(m.metrics[k]), k).toBe(true);
      expect(Math.abs(m.metrics[k]! - onWasm.metrics[k]!), `${k}: webgpu ${m.metrics[k]} vs wasm ${onWasm.metrics[k]}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(onWasm.metrics[k]!)));
    }
    // The adapter trained (B left zero) and to the same values.
    const key = 'h.0.attn.c_attn.lora_B.weight';
    expect(Math.max(...onWasm.adapter[key]!.map(Math.abs))).toBeGreaterThan(1e-3);
    for (const [name, w] of Object.entries(onWasm.adapter)) {
      const diff = Math.max(...w.map((x, i) => Math.abs(x - m.adapter[name]![i]!)));
      expect(diff, name).toBeLessThan(1e-4);
    }
  }, 120_000);
});

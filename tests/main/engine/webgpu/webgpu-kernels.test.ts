// Each WGSL kernel of the webgpu backend (engine/kernels/webgpu/kernels.ts) against the wasm engine's
// kernel of the same name, forward and gradient, to 1e-4 in float32, on Chromium's SwiftShader.
// The same inputs go through both: the wasm results are computed first, then the backend switches.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fusedAdamWAvailable, fusedAdamWStep, fusedSumOfSquares } from '../../../../src-main/engine/kernels/adamw-kernel.js';
import { initBackend } from '../../../../src-main/engine/backend/backend.js';
import { attentionMaskAdd, causalAttention, gelu, layerNorm, targetLogprobs } from '../../../../src-main/engine/kernels/fast-ops.js';
import { layerOpsAvailable } from '../../../../src-main/engine/kernels/layer-ops-kernel.js';
import { Rng } from '../../../../src-main/engine/rng.js';
import { SWIFTSHADER_ICD, swiftShaderPresent, swiftShaderSuffix } from './swiftshader.js';

type Case = { name: string; run: () => tf.Tensor[] };

const rng = new Rng(21);
const data = (shape: number[], scale = 1, offset = 0) => ({ shape, values: rng.normalArray(shape.reduce((a, b) => a * b, 1), scale).map((x) => x + offset) });
type Data = ReturnType<typeof data>;
const t = (d: Data) => tf.tensor(d.values, d.shape);

/** Value and gradients of sum(f(...)·w), so every output element matters. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: Data[], w: Data): tf.Tensor[] {
  const inputs = xs.map(t);
  const weight = t(w);
  return [f(...inputs), ...tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), weight)))(inputs)];
}

const cases: Case[] = [];
// Rows wider and narrower than a workgroup (256 threads), more rows than a column-sum block (32), and odd counts.
for (const [n, C] of [[9, 300], [70, 20], [4, 7]] as const) {
  const xs = [data([n, C], 3, 5), data([C]), data([C])];
  const w = data([n, C]);
  cases.push({ name: `layerNorm [${n}, ${C}]`, run: () => valueAndGrads((x, g, b) => layerNorm(x as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5), xs, w) });
}
for (const shape of [[6, 130], [1, 5]]) {
  const x = data(shape, 4);
  const w = data(shape);
  cases.push({ name: `gelu [${shape}]`, run: () => valueAndGrads((a) => gelu(a as tf.Tensor2D), [x], w) });
}
for (const [n, V] of [[5, 700], [3, 9]] as const) {
  const logits = data([n, V], 5);
  const targets = Array.from({ length: n }, (_, i) => (i * 7919) % V);
  const w = data([n]);
  cases.push({ name: `targetLogprobs [${n}, ${V}]`, run: () => valueAndGrads((l) => targetLogprobs(l as tf.Tensor2D, tf.tensor1d(targets, 'int32')), [logits], w) });
}
// Attention with a padding mask (right padding: every query row sees a key) keeping the forward's
// probabilities, and without a mask recomputing them in the backward pass.
for (const [B, T, H, C, padded, keep] of [[2, 5, 2, 8, true, true], [1, 7, 3, 12, false, false]] as const) {
  const qkv = data([B * T, 3 * C]);
  const w = data([B * T, C]);
  const keyMask = Array.from({ length: B * T }, (_, i) => (padded && i % T >= T - 1 - (i < T ? 0 : 1) ? 0 : 1));
  cases.push({
    name: `causalAttention B=${B} T=${T} H=${H} C=${C}${padded ? ', padded' : ''}${keep ? '' : ', probabilities recomputed'}`,
    run: () => {
      const mask = attentionMaskAdd(B, T, padded ? tf.tensor2d(keyMask, [B, T]) : undefined);
      return valueAndGrads((x) => causalAttention(x as tf.Tensor2D, B, T, H, mask, keep), [qkv], w);
    },
  });
}
{
  const [p, g, m] = [data([33, 5]), data([33, 5], 0.1), data([33, 5], 0.01)];
  // Large enough for the sum of squares to split over several workgroups.
  const big = data([3001, 7], 0.5);
  const v = { ...data([33, 5]), values: data([33, 5], 0.01).values.map((x) => x * x) };
  const attrs = { stepSize: 1e-3 / 0.1, beta1: 0.9, beta2: 0.999, invBias2: 1 / 0.001, eps: 1e-8, decayFactor: 1 - 1e-3 * 0.01, gradScale: 0.7 };
  cases.push({
    name: 'AdamW update and the sum of squares',
    run: () => {
      expect(fusedAdamWAvailable()).toBe(true);
      return [...fusedAdamWStep(t(p), t(g), t(m), t(v), attrs), fusedSumOfSquares([t(p), t(big), t(g), t(m)])];
    },
  });
}

const onWasm = new Map<string, Float32Array[]>();
const read = (ts: tf.Tensor[]) => ts.map((x) => x.dataSync() as Float32Array);

describe.skipIf(!swiftShaderPresent)(`WGSL kernels match the wasm kernels ${swiftShaderSuffix}`, () => {
  beforeAll(async () => {
    await initBackend('wasm');
    expect(layerOpsAvailable()).toBe(true);
    for (const c of cases) onWasm.set(c.name, tf.tidy(() => read(c.run())));
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    expect((await initBackend('webgpu')).name).toBe('webgpu');
    expect(layerOpsAvailable()).toBe(true);
  }, 120_000);
  afterAll(async () => {
    await initBackend('wasm');
  });

  for (const c of cases) {
    it(c.name, () => {
      const got = tf.tidy(() => read(c.run()));
      const want = onWasm.get(c.name)!;
      expect(got.map((x) => x.length)).toEqual(want.map((x) => x.length));
      got.forEach((g, i) => {
        const scale = Math.max(1, ...want[i]!.map(Math.abs));
        const diff = Math.max(...g.map((x, j) => Math.abs(x - want[i]![j]!)));
        expect(diff / scale, `output ${i}`).toBeLessThan(1e-4);
      });
    }, 60_000);
  }
});

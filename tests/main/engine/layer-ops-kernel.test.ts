// The wasm SIMD LayerNorm, gelu and target-logprob kernels (layer-ops-kernel.ts, used by fast-ops.ts
// on wasm) against the tf-op versions they replace, in value and gradient, at model-sized shapes and
// at sizes that exercise the scalar tails.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { columnSum, gelu, layerNorm, targetLogprobs, tfOpsGelu, tfOpsLayerNorm, tfOpsTargetLogprobs } from '../../../src-main/engine/kernels/fast-ops.js';
import { layerOpsAvailable } from '../../../src-main/engine/kernels/layer-ops-kernel.js';
import { Rng } from '../../../src-main/engine/rng.js';

const rng = new Rng(11);
const rand = (shape: number[], scale = 1) => tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1), scale), shape);

/** Max |a − b| relative to max(1, max |b|), over matching lists. */
function relDiff(a: tf.Tensor[], b: tf.Tensor[]): number {
  return tf.tidy(() => Math.max(...a.map((t, i) => tf.max(tf.abs(tf.sub(t, b[i]!))).dataSync()[0]! / Math.max(1, tf.max(tf.abs(b[i]!)).dataSync()[0]!))));
}

/** Value and gradients of sum(f(...)·w), so every output element matters. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], w: tf.Tensor): tf.Tensor[] {
  return [f(...xs), ...tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), w)))(xs)];
}

describe('layer-ops wasm kernels match the tf-op versions', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('bind to the wasm heap', () => {
    expect(layerOpsAvailable()).toBe(true);
  });

  for (const [n, C] of [[37, 384], [5, 7], [3, 1]] as const) {
    it(`layerNorm [${n}, ${C}]`, () => {
      // An offset and scale as in a residual stream: the centring must not lose precision.
      const xs = [tf.add(rand([n, C], 3), 5), rand([C]), rand([C])];
      const w = rand([n, C]);
      const k = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => layerNorm(x as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
      const t = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tfOpsLayerNorm(x as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
      expect(relDiff(valueAndGrads(k as never, xs, w), valueAndGrads(t as never, xs, w))).toBeLessThan(2e-5);
    });
  }

  for (const [n, C] of [[64, 1536], [3, 7]] as const) {
    it(`gelu [${n}, ${C}] over a wide range of inputs`, () => {
      const x = rand([n, C], 4);
      const w = rand([n, C]);
      expect(relDiff(valueAndGrads(gelu as never, [x], w), valueAndGrads(tfOpsGelu as never, [x], w))).toBeLessThan(2e-5);
    });
  }

  for (const [n, V] of [[24, 8192], [5, 9], [2, 3]] as const) {
    it(`targetLogprobs [${n}, ${V}]`, () => {
      const logits = rand([n, V], 5);
      const targets = tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 7919) % V), 'int32');
      const w = rand([n]);
      const k = (l: tf.Tensor) => targetLogprobs(l as tf.Tensor2D, targets);
      const t = (l: tf.Tensor) => tfOpsTargetLogprobs(l as tf.Tensor2D, targets);
      expect(relDiff(valueAndGrads(k, [logits], w), valueAndGrads(t, [logits], w))).toBeLessThan(2e-5);
    });
  }

  it('targetLogprobs rejects a target outside the vocabulary', () => {
    expect(() => targetLogprobs(rand([2, 4]) as tf.Tensor2D, tf.tensor1d([1, 4], 'int32'))).toThrow(/not in \[0, 3\]/);
  });
});

describe('wasm SIMD transpose and column sums (wasm-kernels.ts on layer-ops.c)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  for (const shape of [[37, 21], [64, 40], [3, 5, 18], [2, 1, 33, 4]] as number[][]) {
    it(`swaps the last two axes of [${shape.join(', ')}], float32 and int32`, () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const R = shape[shape.length - 2]!;
      const C = shape[shape.length - 1]!;
      const perm = [...shape.keys()].map((i) => (i === shape.length - 2 ? i + 1 : i === shape.length - 1 ? i - 1 : i));
      const data = Array.from({ length: n }, (_, i) => i);
      const expected = new Array<number>(n);
      for (let b = 0; b < n / (R * C); b++) for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) expected[b * R * C + j * R + i] = data[b * R * C + i * C + j]!;
      for (const dtype of ['float32', 'int32'] as const) expect(Array.from(tf.transpose(tf.tensor(data, [...shape], dtype), perm).dataSync())).toEqual(expected);
    });
  }

  it('sums columns of [300, 37]', () => {
    const x = rand([300, 37]);
    const X = x.dataSync();
    const expected = Array.from({ length: 37 }, (_, j) => Array.from({ length: 300 }, (_, r) => X[r * 37 + j]!).reduce((a, b) => a + b, 0));
    const got = columnSum(x as tf.Tensor2D).dataSync();
    expected.forEach((e, j) => expect(Math.abs(got[j]! - e)).toBeLessThan(1e-4));
  });
});

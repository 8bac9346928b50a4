import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { attentionMaskAdd, causalAttention, embedding, gelu, layerNorm, linear, targetLogprobs, tiedLogits } from '../../../src-main/engine/kernels/fast-ops.js';
import { Rng } from '../../../src-main/engine/rng.js';

const rng = new Rng(7);
const rand = (shape: number[]) => tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1)), shape);

/** Max |a − b| over matching gradient lists. */
function maxDiff(a: tf.Tensor[], b: tf.Tensor[]): number {
  let d = 0;
  a.forEach((t, i) => {
    d = Math.max(d, tf.max(tf.abs(tf.sub(t, b[i]!))).dataSync()[0]!);
  });
  return d;
}

/** Gradients of sum(f(...)·w) for a fixed random weighting w, so every output element matters. */
function grads(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], w: tf.Tensor): tf.Tensor[] {
  return tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), w)))(xs);
}

describe('replacement wasm kernels', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('slice returns the requested region for contiguous, strided and short-run cases', () => {
    const shape = [3, 4, 5];
    const data = Array.from({ length: 60 }, (_, i) => i);
    const x = tf.tensor3d(data, shape as [number, number, number]);
    const at = (i: number, j: number, k: number) => data[i * 20 + j * 5 + k]!;
    const cases: Array<[number[], number[]]> = [
      [[1, 0, 0], [1, 4, 5]], // contiguous block
      [[0, 1, 2], [3, 2, 3]], // short runs on every axis
      [[2, 3, 0], [1, 1, 5]],
    ];
    for (const [begin, size] of cases) {
      const got = tf.slice(x, begin, size).arraySync() as number[][][];
      for (let i = 0; i < size[0]!; i++)
        for (let j = 0; j < size[1]!; j++)
          for (let k = 0; k < size[2]!; k++) expect(got[i]![j]![k]).toBe(at(begin[0]! + i, begin[1]! + j, begin[2]! + k));
    }
    const wide = tf.tensor2d(Array.from({ length: 40 * 64 }, (_, i) => i), [40, 64]);
    expect(Array.from(tf.slice(wide, [3, 20], [2, 30]).dataSync())).toEqual([...Array.from({ length: 30 }, (_, j) => 3 * 64 + 20 + j), ...Array.from({ length: 30 }, (_, j) => 4 * 64 + 20 + j)]);
  });
});

describe('replacement split kernel', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('splits along the first and the last axis into equal and given sizes', () => {
    const x = tf.tensor2d(Array.from({ length: 6 * 20 }, (_, i) => i), [6, 20]);
    const rows = tf.split(x, 3, 0);
    expect(rows.map((t) => t.shape)).toEqual([[2, 20], [2, 20], [2, 20]]);
    expect(Array.from(rows[1]!.dataSync())).toEqual(Array.from({ length: 40 }, (_, i) => 40 + i));
    const cols = tf.split(x, [5, 15], 1);
    expect(cols.map((t) => t.shape)).toEqual([[6, 5], [6, 15]]);
    expect((cols[1]!.arraySync() as number[][])[2]).toEqual(Array.from({ length: 15 }, (_, j) => 40 + 5 + j));
  });
});

describe('replacement gather kernel', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('returns rows by index, repeated and out of order, for wide and narrow rows', () => {
    const wide = tf.tensor2d(Array.from({ length: 5 * 20 }, (_, i) => i), [5, 20]);
    const got = tf.gather(wide, tf.tensor1d([4, 0, 4, 2], 'int32')).arraySync() as number[][];
    expect(got.map((r) => r[0])).toEqual([80, 0, 80, 40]);
    expect(got[0]).toEqual(Array.from({ length: 20 }, (_, j) => 80 + j));
    const narrow = tf.tensor1d([10, 11, 12, 13]);
    expect(Array.from(tf.gather(narrow, tf.tensor2d([[3, 1], [0, 0]], [2, 2], 'int32')).dataSync())).toEqual([13, 11, 10, 10]);
    expect(() => tf.gather(narrow, tf.tensor1d([4], 'int32'))).toThrow(/not in \[0, 3\]/);
    // Other axes keep the stock kernel.
    expect(Array.from(tf.gather(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor1d([1], 'int32'), 1).dataSync())).toEqual([2, 4]);
  });
});

describe('replacement transpose kernel', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('matches the reference permutation for 2-D, batched, head-shuffle and size-1 cases', () => {
    const cases: Array<[number[], number[]]> = [
      [[13, 21], [1, 0]],
      [[3, 9, 17], [0, 2, 1]],
      [[2, 5, 3, 20], [0, 2, 1, 3]],
      [[2, 5, 3, 4], [0, 2, 1, 3]],
      [[1, 6, 7], [0, 2, 1]],
      [[4, 1, 6], [1, 0, 2]],
      [[2, 3, 4], [2, 0, 1]], // not covered: stock kernel
    ];
    for (const [shape, perm] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Array.from({ length: n }, (_, i) => i);
      const got = tf.transpose(tf.tensor(data, shape), perm);
      const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
      const outShape = perm.map((p) => shape[p]!);
      const expected: number[] = [];
      const idx = new Array<number>(outShape.length).fill(0);
      for (let k = 0; k < n; k++) {
        expected.push(perm.reduce((off, p, d) => off + idx[d]! * strides[p]!, 0));
        for (let d = outShape.length - 1; d >= 0; d--) {
          idx[d]! += 1;
          if (idx[d]! < outShape[d]!) break;
          idx[d] = 0;
        }
      }
      expect(got.shape).toEqual(outShape);
      expect(Array.from(got.dataSync()), `${shape} ${perm}`).toEqual(expected);
    }
  });
});

describe('fast ops match the plain formulas in value and gradient', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('linear', () => {
    const xs = [rand([5, 4]), rand([4, 3]), rand([3])];
    const w = rand([5, 3]);
    const fast = (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => linear(x as tf.Tensor2D, a as tf.Tensor2D, b as tf.Tensor1D);
    const plain = (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.add(tf.matMul(x as tf.Tensor2D, a as tf.Tensor2D), b);
    expect(maxDiff([fast(...(xs as [tf.Tensor, tf.Tensor, tf.Tensor]))], [plain(...(xs as [tf.Tensor, tf.Tensor, tf.Tensor]))])).toBeLessThan(1e-5);
    expect(maxDiff(grads(fast as never, xs, w), grads(plain as never, xs, w))).toBeLessThan(1e-4);
  });

  it('linear with few rows and wide weights (the transposed-product gradient path)', () => {
    const xs = [rand([2, 24]), rand([24, 40]), rand([40])];
    const w = rand([2, 40]);
    const fast = (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => linear(x as tf.Tensor2D, a as tf.Tensor2D, b as tf.Tensor1D);
    const plain = (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.add(tf.matMul(x as tf.Tensor2D, a as tf.Tensor2D), b);
    expect(maxDiff(grads(fast as never, xs, w), grads(plain as never, xs, w))).toBeLessThan(1e-4);
  });

  it('tied logits h·Eᵀ, both gradient layouts', () => {
    for (const [n, V, C] of [[3, 40, 8], [30, 6, 4]] as const) {
      const xs = [rand([n, C]), rand([V, C])];
      const w = rand([n, V]);
      const fast = (h: tf.Tensor, e: tf.Tensor) => tiedLogits(h as tf.Tensor2D, e as tf.Tensor2D);
      const plain = (h: tf.Tensor, e: tf.Tensor) => tf.matMul(h as tf.Tensor2D, e as tf.Tensor2D, false, true);
      expect(maxDiff([fast(xs[0]!, xs[1]!)], [plain(xs[0]!, xs[1]!)])).toBeLessThan(1e-5);
      expect(maxDiff(grads(fast as never, xs, w), grads(plain as never, xs, w))).toBeLessThan(1e-4);
    }
  });

  it('embedding (repeated ids accumulate)', () => {
    const table = rand([6, 3]);
    const ids = tf.tensor1d([1, 4, 1, 0, 1], 'int32');
    const w = rand([5, 3]);
    const g = grads((t) => embedding(t as tf.Tensor2D, ids), [table], w)[0]!;
    const expected = tf.matMul(tf.cast(tf.oneHot(ids, 6), 'float32'), w, true, false);
    expect(maxDiff([g], [expected])).toBeLessThan(1e-5);
  });

  it('layerNorm', () => {
    const xs = [rand([4, 8]), rand([8]), rand([8])];
    const w = rand([4, 8]);
    const fast = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => layerNorm(x as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
    const plain = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
    };
    expect(maxDiff([fast(xs[0]!, xs[1]!, xs[2]!)], [plain(xs[0]!, xs[1]!, xs[2]!)])).toBeLessThan(1e-5);
    expect(maxDiff(grads(fast as never, xs, w), grads(plain as never, xs, w))).toBeLessThan(1e-4);
  });

  it('gelu (tanh approximation)', () => {
    const x = rand([3, 7]);
    const w = rand([3, 7]);
    const plain = (z: tf.Tensor) => tf.mul(tf.mul(z, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(z, tf.mul(0.044715, tf.pow(z, 3)))))));
    expect(maxDiff([gelu(x as tf.Tensor2D)], [plain(x)])).toBeLessThan(1e-5);
    expect(maxDiff(grads(gelu as never, [x], w), grads(plain, [x], w))).toBeLessThan(1e-4);
  });

  it('targetLogprobs', () => {
    const logits = rand([5, 9]);
    const targets = tf.tensor1d([0, 8, 3, 3, 1], 'int32');
    const w = rand([5]);
    const fast = (l: tf.Tensor) => targetLogprobs(l as tf.Tensor2D, targets);
    const plain = (l: tf.Tensor) => tf.sum(tf.mul(tf.logSoftmax(l), tf.cast(tf.oneHot(targets, 9), 'float32')), -1);
    expect(maxDiff([fast(logits)], [plain(logits)])).toBeLessThan(1e-5);
    expect(maxDiff(grads(fast, [logits], w), grads(plain, [logits], w))).toBeLessThan(1e-4);
  });

  it('causal attention with a padding mask', () => {
    const B = 2, T = 5, H = 2, C = 8, hd = 4;
    const xs = [rand([B * T, C]), rand([B * T, C]), rand([B * T, C])];
    const keyMask = tf.tensor2d([[1, 1, 1, 1, 1], [0, 0, 1, 1, 1]], [B, T]);
    const mask = attentionMaskAdd(B, T, keyMask);
    // Query rows that see no key (the padded prefix) have unspecified outputs (attention-kernel.test.ts): weight them 0.
    const rowWeight = tf.reshape(keyMask, [B * T, 1]);
    const w = tf.mul(rand([B * T, C]), rowWeight);
    const fast = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => causalAttention(tf.concat([q, k, v], 1) as tf.Tensor2D, B, T, H, mask);
    const plain = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => {
      const heads = (z: tf.Tensor) => tf.transpose(tf.reshape(z, [B, T, H, hd]), [0, 2, 1, 3]);
      const s = tf.add(tf.div(tf.matMul(heads(q), heads(k), false, true), Math.sqrt(hd)), mask);
      return tf.reshape(tf.transpose(tf.matMul(tf.softmax(s), heads(v)), [0, 2, 1, 3]), [B * T, C]);
    };
    expect(maxDiff([tf.mul(fast(xs[0]!, xs[1]!, xs[2]!), rowWeight)], [tf.mul(plain(xs[0]!, xs[1]!, xs[2]!), rowWeight)])).toBeLessThan(1e-5);
    expect(maxDiff(grads(fast as never, xs, w), grads(plain as never, xs, w))).toBeLessThan(1e-4);
  });
});

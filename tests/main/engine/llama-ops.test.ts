// The Llama family's ops (RMSNorm, SwiGLU, RoPE, repeat_kv): values from their plain formulas, and
// the hand-written gradients equal autodiff of those formulas.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { repeatKvHeads, rmsNorm, rope, swiglu } from '../../../src-main/engine/models/llama-ops.js';
import { ropeInverseFrequencies, ropeTables, type LlamaConfig } from '../../../src-main/engine/models/llama-config.js';
import { Rng } from '../../../src-main/engine/rng.js';

const rng = new Rng(11);
const rand = (shape: number[]) => tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1)), shape);

function maxDiff(a: tf.Tensor[], b: tf.Tensor[]): number {
  return Math.max(...a.map((t, i) => tf.max(tf.abs(tf.sub(t, b[i]!))).dataSync()[0]!));
}

/** Gradients of sum(f(...)·w) for a fixed random weighting w, so every output element matters. */
function grads(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], w: tf.Tensor): tf.Tensor[] {
  return tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), w)))(xs);
}

const rotateHalf = (x: tf.Tensor3D) => {
  const h = x.shape[2] / 2;
  const [a, b] = tf.split(x, [h, h], 2);
  return tf.concat([tf.neg(b!), a!], 2);
};

beforeAll(async () => {
  await initBackend();
});

describe('Llama ops', () => {
  it('RMSNorm: value and gradients match the formula', () => {
    const x = rand([6, 16]);
    const g = rand([16]);
    const w = rand([6, 16]);
    const plain = (xi: tf.Tensor, gi: tf.Tensor) => tf.mul(tf.mul(xi, tf.rsqrt(tf.add(tf.mean(tf.square(xi), -1, true), 1e-5))), gi);
    expect(maxDiff([rmsNorm(x as tf.Tensor2D, g as tf.Tensor1D, 1e-5)], [plain(x, g)])).toBeLessThan(1e-5);
    expect(maxDiff(grads((a, b) => rmsNorm(a as tf.Tensor2D, b as tf.Tensor1D, 1e-5), [x, g], w), grads(plain, [x, g], w))).toBeLessThan(1e-4);
  });

  it('SwiGLU: value and gradients match silu(gate)·up', () => {
    const a = rand([5, 12]);
    const b = rand([5, 12]);
    const w = rand([5, 12]);
    const plain = (x: tf.Tensor, y: tf.Tensor) => tf.mul(tf.mul(x, tf.sigmoid(x)), y);
    expect(maxDiff([swiglu(a as tf.Tensor2D, b as tf.Tensor2D)], [plain(a, b)])).toBeLessThan(1e-6);
    expect(maxDiff(grads((x, y) => swiglu(x as tf.Tensor2D, y as tf.Tensor2D), [a, b], w), grads(plain, [a, b], w))).toBeLessThan(1e-5);
  });

  it('RoPE: rotates each head pair by its angle, gradient equals autodiff', () => {
    const n = 7;
    const heads = 3;
    const hd = 8;
    const inv = ropeInverseFrequencies({ head_dim: hd, rope_theta: 10000, rope_scaling: null } as LlamaConfig);
    const { cos, sin } = ropeTables(inv, Array.from({ length: n }, (_, i) => i + 3));
    const c = tf.tensor3d(cos, [n, 1, hd]);
    const s = tf.tensor3d(sin, [n, 1, hd]);
    const x = rand([n, heads * hd]);
    const w = rand([n, heads * hd]);
    const plain = (xi: tf.Tensor) => {
      const x3 = tf.reshape(xi, [n, heads, hd]) as tf.Tensor3D;
      return tf.reshape(tf.add(tf.mul(x3, c), tf.mul(rotateHalf(x3), s)), [n, heads * hd]);
    };
    expect(maxDiff([rope(x as tf.Tensor2D, c, s, heads)], [plain(x)])).toBeLessThan(1e-6);
    expect(maxDiff(grads((xi) => rope(xi as tf.Tensor2D, c, s, heads), [x], w), grads(plain, [x], w))).toBeLessThan(1e-5);
    // A rotation keeps each pair's length: |x| per row is unchanged.
    const norms = (t: tf.Tensor) => Array.from(tf.sum(tf.square(t), -1).dataSync());
    norms(rope(x as tf.Tensor2D, c, s, heads)).forEach((v, i) => expect(v).toBeCloseTo(norms(x)[i]!, 4));
  });

  it('repeat_kv: head h reads kv head floor(h / groups)', () => {
    const x = tf.tensor2d([[1, 2, 3, 4]], [1, 4]); // two kv heads of size 2
    expect(Array.from(repeatKvHeads(x, 2, 3).dataSync())).toEqual([1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]);
  });

  it('llama3 scaling keeps high frequencies, divides low ones by the factor and blends between', () => {
    const base = { head_dim: 16, rope_theta: 10000 } as LlamaConfig;
    const plain = ropeInverseFrequencies({ ...base, rope_scaling: null });
    const scaled = ropeInverseFrequencies({ ...base, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 } });
    expect(scaled[0]).toBe(plain[0]); // wavelength 6.3 < 16: unchanged
    expect(scaled[7]).toBeCloseTo(plain[7]! / 8, 12); // wavelength ≫ 64: divided by the factor
    expect(scaled[2]! < plain[2]! && scaled[2]! > plain[2]! / 8).toBe(true); // in between: blended
  });
});

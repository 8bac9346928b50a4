// The fused AdamW and sum-of-squares kernels (wasm SIMD on tfjs's heap) against the same
// arithmetic in float64, on sizes that exercise the 4-wide body and the scalar tail.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fusedAdamWIsSimd, fusedAdamWStep, fusedSumOfSquares } from '../../../src-main/engine/kernels/adamw-kernel.js';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { Rng } from '../../../src-main/engine/rng.js';

const rng = new Rng(21);

describe('fused AdamW kernels on wasm', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('run as wasm SIMD where the module binds to the heap', () => {
    expect(fusedAdamWIsSimd()).toBe(true);
  });

  for (const n of [1, 3, 4, 7, 1031]) {
    it(`update matches AdamW in float64 (${n} values)`, () => {
      const p = rng.normalArray(n);
      const g = rng.normalArray(n);
      const m = rng.normalArray(n, 0.1);
      const v = Float32Array.from(rng.normalArray(n, 0.1), (x) => x * x);
      const a = { stepSize: 1e-3 / 0.1, beta1: 0.9, beta2: 0.999, invBias2: 1 / 0.001, eps: 1e-8, decayFactor: 0.99, gradScale: 0.5 };
      const [P2, M2, V2] = tf.tidy(() => fusedAdamWStep(tf.tensor1d(p), tf.tensor1d(g), tf.tensor1d(m), tf.tensor1d(v), a).map((t) => t.dataSync()));
      for (let i = 0; i < n; i++) {
        const gi = g[i]! * a.gradScale;
        const mi = a.beta1 * m[i]! + (1 - a.beta1) * gi;
        const vi = a.beta2 * v[i]! + (1 - a.beta2) * gi * gi;
        const pi = p[i]! * a.decayFactor - (a.stepSize * mi) / (Math.sqrt(vi * a.invBias2) + a.eps);
        expect(M2![i]).toBeCloseTo(mi, 6);
        expect(V2![i]).toBeCloseTo(vi, 6);
        expect(Math.abs(P2![i]! - pi)).toBeLessThan(1e-6 * Math.max(1, Math.abs(pi)));
      }
    });
  }

  it('sum of squares over several tensors matches float64', () => {
    const xs = [5, 1, 4099].map((n) => rng.normalArray(n));
    const expected = xs.reduce((s, x) => s + x.reduce((t, y) => t + y * y, 0), 0);
    const got = tf.tidy(() => fusedSumOfSquares(xs.map((x) => tf.tensor1d(x))).dataSync()[0]!);
    expect(Math.abs(got - expected) / expected).toBeLessThan(1e-6);
  });
});

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { attendOne, attendOneAvailable } from '../../../src-main/engine/kernels/attend-one-kernel.js';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { Rng } from '../../../src-main/engine/rng.js';

const rng = new Rng(5);
const rand = (shape: [number, number, number]) => tf.tensor3d(rng.normalArray(shape[0] * shape[1] * shape[2]), shape);

describe('one-query attention over a KV cache (wasm kernel)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('is available on the wasm backend for head sizes divisible by 4', () => {
    expect(attendOneAvailable(8)).toBe(true);
    expect(attendOneAvailable(6)).toBe(false);
  });

  // [B, H, total, hd]: hd 4 and 20 take the 4-wide tail, 64 the 16-wide blocks; total 1 and odd.
  const cases: Array<[number, number, number, number]> = [
    [1, 1, 1, 4],
    [3, 2, 7, 20],
    [16, 6, 45, 64],
  ];
  for (const [B, H, total, hd] of cases) {
    it(`equals softmax(q·kᵀ/√hd + mask)·v: B=${B} H=${H} total=${total} hd=${hd}`, () => {
      tf.tidy(() => {
        const q = rand([B * H, 1, hd]);
        const k = rand([B * H, total, hd]);
        const v = rand([B * H, total, hd]);
        // Left padding: row b hides its first b keys (never all: the newest key is always real).
        const mask = tf.tensor2d(Array.from({ length: B * total }, (_, i) => (i % total < Math.min(Math.floor(i / total), total - 1) ? -1e9 : 0)), [B, total]);
        const s = tf.add(tf.reshape(tf.div(tf.matMul(q, k, false, true), Math.sqrt(hd)), [B, H, total]), tf.reshape(mask, [B, 1, total]));
        const ref = tf.reshape(tf.matMul(tf.reshape(tf.softmax(s), [B * H, 1, total]), v), [B, H * hd]);
        const got = attendOne(q, k, v, mask, H);
        expect(got.shape).toEqual([B, H * hd]);
        expect(tf.max(tf.abs(tf.sub(got, ref))).dataSync()[0]).toBeLessThan(1e-5);
      });
    });
  }
});

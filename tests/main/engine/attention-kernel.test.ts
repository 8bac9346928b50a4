import * as tf from '@tensorflow/tfjs';
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { attentionKernelAvailable } from '../../../src-main/engine/kernels/attention-kernel.js';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { attentionMaskAdd, causalAttention, tfOpsAttention } from '../../../src-main/engine/kernels/fast-ops.js';
import { Rng } from '../../../src-main/engine/rng.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const rng = new Rng(11);
const rand = (shape: [number, number]) => tf.tensor2d(rng.normalArray(shape[0] * shape[1]), shape);

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

const hasClang = spawnSync('clang', ['--version']).status === 0;

describe('causal attention wasm kernels', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('load on the wasm backend', () => {
    expect(attentionKernelAvailable()).toBe(true);
  });

  // [B, T, H, C, left padding per row or null]; hd = C/H covers odd sizes and the bench's 32.
  const cases: Array<[number, number, number, number, number[] | null]> = [
    [2, 7, 3, 12, null],
    [3, 7, 2, 10, [0, 3, 6]],
    [1, 1, 1, 8, null],
    [2, 33, 4, 128, [5, 0]],
    [2, 64, 4, 128, null],
  ];
  for (const [[B, T, H, C, pad], keepProbs] of cases.flatMap((c) => [true, false].map((k) => [c, k] as const))) {
    const backward = keepProbs ? 'kept probabilities' : 'recomputed probabilities';
    it(`equal the tf-ops path in value and gradient (${backward}): B=${B} T=${T} H=${H} C=${C}${pad ? ' padded' : ''}`, () => {
      tf.tidy(() => {
        const keyMask = pad ? tf.tensor2d(pad.flatMap((p) => Array.from({ length: T }, (_, t) => (t < p ? 0 : 1))), [B, T]) : undefined;
        const mask = attentionMaskAdd(B, T, keyMask);
        const qkv = rand([B * T, 3 * C]);
        // Query rows that see no key (all-padding prefix) have unspecified outputs: weight them 0.
        const rowWeight = keyMask ? tf.reshape(keyMask, [B * T, 1]) : tf.ones([B * T, 1]);
        const w = tf.mul(rand([B * T, C]), rowWeight);
        const kernel = (x: tf.Tensor) => causalAttention(x as tf.Tensor2D, B, T, H, mask, keepProbs);
        const ops = (x: tf.Tensor) => tfOpsAttention(x as tf.Tensor2D, B, T, H, mask);
        expect(maxDiff(tf.mul(kernel(qkv), rowWeight), tf.mul(ops(qkv), rowWeight))).toBeLessThan(1e-5);
        const grad = (f: (x: tf.Tensor) => tf.Tensor) => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(f(x), w)))(qkv);
        expect(maxDiff(grad(kernel), grad(ops))).toBeLessThan(1e-5);
      });
    });
  }

  it('keep no tensors alive after a forward and backward pass', () => {
    const B = 2, T = 9, H = 2, C = 16;
    const mask = attentionMaskAdd(B, T);
    const qkv = rand([B * T, 3 * C]);
    for (const keepProbs of [true, false]) {
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        tf.grad((x: tf.Tensor) => tf.sum(causalAttention(x as tf.Tensor2D, B, T, H, mask, keepProbs)))(qkv);
      });
      expect(tf.memory().numTensors).toBe(before);
    }
    tf.dispose([mask, qkv]);
  });

  it.runIf(hasClang)('committed .wasm is what its C source compiles to', () => {
    execFileSync('node', ['scripts/build-wasm-kernels.mjs', '--check'], { cwd: root, stdio: 'pipe' });
  });
});

// Training memory stays flat over 10,000 steps (issue 9). Minutes long, so it runs only with
// RLHF_LONG_TESTS=1; the short tensor-count check in model-training.test.ts runs always.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { GPT } from '../../../src-main/engine/models/model.js';
import { AdamW } from '../../../src-main/engine/train/optim.js';

const STEPS = Number(process.env.RLHF_MEMORY_STEPS ?? 10_000);

describe.runIf(process.env.RLHF_LONG_TESTS === '1')('memory over a long run', () => {
  it(`tensor count, wasm heap and RSS stay flat over ${STEPS} training steps`, async () => {
    await initBackend();
    const model = GPT.create({ vocab_size: 64, n_positions: 32, n_embd: 32, n_layer: 1, n_head: 2, layer_norm_epsilon: 1e-5, dropout: 0 }, 1);
    const opt = new AdamW(model.namedVariables(), { lr: 1e-3, warmupSteps: 10, totalSteps: STEPS });
    const ids = tf.tensor2d(Array.from({ length: 4 }, (_, b) => Array.from({ length: 32 }, (_, t) => (b * 7 + t * 3) % 64)), undefined, 'int32');
    const step = () => opt.minimize(() => tf.neg(tf.mean(model.tokenLogprobs(ids))) as tf.Scalar);
    for (let i = 0; i < 100; i++) step(); // warm up: kernels, caches, heap growth
    const tensors = tf.memory().numTensors;
    const bytes0 = tf.memory().numBytes;
    const rss0 = process.memoryUsage().rss;
    let loss = 0;
    for (let i = 0; i < STEPS; i++) loss = step().loss;
    const rss1 = process.memoryUsage().rss;
    const report = { steps: STEPS, tensors_before: tensors, tensors_after: tf.memory().numTensors, bytes_before: bytes0, bytes_after: tf.memory().numBytes, rss_before_mb: Math.round(rss0 / 2 ** 20), rss_after_mb: Math.round(rss1 / 2 ** 20), final_loss: loss };
    console.log(JSON.stringify(report));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.memory().numBytes).toBe(bytes0);
    expect(rss1 - rss0).toBeLessThan(64 * 2 ** 20);
  }, 3_600_000);
});

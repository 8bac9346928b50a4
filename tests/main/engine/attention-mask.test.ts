import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { GPT, type GPTConfig } from '../../../src-main/engine/models/model.js';

const cfg: GPTConfig = { vocab_size: 50, n_positions: 16, n_embd: 16, n_layer: 2, n_head: 2, layer_norm_epsilon: 1e-5, dropout: 0 };
let model: GPT;

describe('attention mask', () => {
  beforeAll(async () => {
    await initBackend();
    model = GPT.create(cfg, 5);
  });
  afterAll(() => model.dispose());

  it('a left-padded sequence gets the same log-probabilities as the unpadded one', () => {
    const seq = [7, 3, 9, 12, 4, 30];
    const alone = model.tokenLogprobs(tf.tensor2d([seq], [1, 6], 'int32'));
    const padded = model.tokenLogprobs(tf.tensor2d([[0, 0, 0, ...seq], [1, 2, 3, 4, 5, 6, 7, 8, 9]], [2, 9], 'int32'), {
      attentionMask: tf.tensor2d([[0, 0, 0, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1]], [2, 9]),
    });
    const a = alone.dataSync();
    const p = padded.dataSync().slice(3, 8); // row 0, positions predicting seq[1..]
    a.forEach((v, i) => expect(p[i]).toBeCloseTo(v, 4));
  });

  it('tokens after a position do not change its log-probability (causality)', () => {
    const a = model.tokenLogprobs(tf.tensor2d([[1, 2, 3, 4, 5]], [1, 5], 'int32')).dataSync();
    const b = model.tokenLogprobs(tf.tensor2d([[1, 2, 3, 4, 40]], [1, 5], 'int32')).dataSync();
    for (let i = 0; i < 3; i++) expect(b[i]).toBeCloseTo(a[i]!, 5);
    expect(Math.abs(b[3]! - a[3]!)).toBeGreaterThan(1e-4);
  });

  it('temperature divides the logits before the softmax', () => {
    const ids = tf.tensor2d([[1, 2, 3, 4, 5]], [1, 5], 'int32');
    const hidden = model.hidden(ids);
    const logits = model.logits(hidden);
    const expected = tf.logSoftmax(tf.div(logits, 0.7)).arraySync() as number[][][];
    const got = model.tokenLogprobs(ids, { temperature: 0.7 }).dataSync();
    [2, 3, 4, 5].forEach((tok, t) => expect(got[t]).toBeCloseTo(expected[0]![t]![tok]!, 4));
  });
});

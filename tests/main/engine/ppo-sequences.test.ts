// Where prompt + response tokens sit in a packed batch: left padding puts every response at the
// end, the response mask marks exactly the positions that predict response tokens, and a
// sequence's log-probs do not depend on the padding around it.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { alignRows, packBatch, responseRows, textEncoder, tokenLogprobsAt } from '../../../src-main/engine/train/sequences.js';
import { PAD, tinyModel } from './rm-task.js';

beforeAll(async () => {
  await initBackend();
});

describe('packed prompt/response batches', () => {
  it('left-pads and marks the positions that predict response tokens', () => {
    const b = packBatch([[2, 3], [4]], [[8, 9, 1], [10]], PAD, 24);
    expect(b.width).toBe(5);
    expect(Array.from(b.ids.dataSync())).toEqual([2, 3, 8, 9, 1, PAD, PAD, PAD, 4, 10]);
    expect(Array.from(b.attentionMask.dataSync())).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 1, 1]);
    // position t predicts ids[t+1]: row 0 predicts 8, 9, 1 from t = 1..3; row 1 predicts 10 from t = 3
    expect(Array.from(b.responseMask.dataSync())).toEqual([0, 1, 1, 1, 0, 0, 0, 1]);
  });
  it('cuts the prompt from the left when prompt + response exceed the context', () => {
    const b = packBatch([[2, 3, 4, 5]], [[8, 1]], PAD, 4);
    expect(Array.from(b.ids.dataSync())).toEqual([4, 5, 8, 1]);
  });
  it('keeps the start of a response too long for the context, and never scores position 0', () => {
    const long = packBatch([[2, 3]], [[8, 9, 10, 11, 1]], PAD, 4);
    expect(Array.from(long.ids.dataSync())).toEqual([3, 8, 9, 10]);
    expect(long.responseLengths).toEqual([3]);
    const noPrompt = packBatch([[], [2]], [[8, 1], [9, 1]], PAD, 8);
    expect(noPrompt.responseLengths).toEqual([1, 2]);
    expect(Array.from(noPrompt.responseMask.dataSync())).toEqual([0, 1, 1, 1]);
  });
  it('moves per-token rows in and out of the aligned matrix', () => {
    const m = alignRows([[1, 2, 3], [4]], 4);
    expect(Array.from(m.dataSync())).toEqual([0, 1, 2, 3, 0, 0, 0, 4]);
    expect(responseRows(m, [3, 1])).toEqual([[1, 2, 3], [4]]);
  });
  it('gives a sequence the same log-probs alone and padded in a batch, with or without entropy', () => {
    const model = tinyModel(9);
    const alone = packBatch([[4]], [[10, 11, 1]], PAD, 24);
    const padded = packBatch([[2, 3, 5, 6], [4]], [[8, 9], [10, 11, 1]], PAD, 24);
    const a = responseRows(tokenLogprobsAt(model, alone, 0.7).logp, [3])[0]!;
    const withEntropy = tokenLogprobsAt(model, padded, 0.7, { entropy: true });
    const p = responseRows(withEntropy.logp, [2, 3])[1]!;
    a.forEach((x, i) => expect(p[i]).toBeCloseTo(x, 4));
    // entropy of a 16-way distribution lies in (0, log 16]
    for (const row of responseRows(withEntropy.entropy!, [2, 3])) {
      for (const e of row) {
        expect(e).toBeGreaterThan(0);
        expect(e).toBeLessThanOrEqual(Math.log(16) + 1e-4);
      }
    }
    tf.dispose([withEntropy.logp, withEntropy.entropy!]);
    model.dispose();
  });
  it('matches the full-vocabulary tf-op path (tiedLogits + targetLogprobs): log-probs, entropy and gradients', () => {
    const model = tinyModel(3);
    const batch = packBatch([[2, 3, 5, 6], [4], [9, 9]], [[8, 9], [10, 11, 12, 1], [13, 1]], PAD, 24);
    const T = 0.7;
    const mask = batch.responseMask;
    const weights = tf.randomNormal(mask.shape, 0, 1, 'float32', 5);
    const vars = model.variables();
    // Reference: every position's logits through the model's own ops, then masked.
    const ref = tf.variableGrads(() => tf.sum(tf.mul(tf.mul(model.tokenLogprobs(batch.ids, { attentionMask: batch.attentionMask, temperature: T }), mask), weights)) as tf.Scalar, vars);
    let entropy: tf.Tensor2D | undefined;
    let logp: tf.Tensor2D | undefined;
    const got = tf.variableGrads(() => {
      const out = tokenLogprobsAt(model, batch, T, { entropy: true });
      logp = tf.keep(out.logp);
      entropy = tf.keep(out.entropy!);
      return tf.sum(tf.mul(tf.mul(out.logp, mask), weights)) as tf.Scalar;
    }, vars);
    expect(got.value.dataSync()[0]).toBeCloseTo(ref.value.dataSync()[0]!, 4);
    for (const v of vars) {
      const r = ref.grads[v.name]!.dataSync();
      const g = got.grads[v.name]!.dataSync();
      const scale = Math.max(1e-3, ...Array.from(r, Math.abs));
      r.forEach((x, i) => expect(Math.abs(g[i]! - x) / scale).toBeLessThan(1e-4));
    }
    const expected = tf.tidy(() => {
      const l = tf.div(model.logits(model.hidden(batch.ids, { attentionMask: batch.attentionMask })), T);
      const ls = tf.logSoftmax(l);
      return tf.slice(tf.neg(tf.sum(tf.mul(tf.exp(ls), ls), -1)), [0, 0], [3, batch.width - 1]);
    });
    const m = mask.dataSync();
    const e = entropy!.dataSync();
    const x = expected.dataSync();
    const lp = logp!.dataSync();
    m.forEach((on, i) => {
      if (on) expect(e[i]).toBeCloseTo(x[i]!, 4);
      else if (i % (batch.width - 1) < batch.width - 1 - Math.max(...batch.responseLengths)) expect(lp[i]).toBe(0);
    });
    tf.dispose([ref.value, got.value, ...Object.values(ref.grads), ...Object.values(got.grads), weights, expected, entropy!, logp!]);
    model.dispose();
  });
  it('encodes a response as SFT does: text tokens then EOS', () => {
    const enc = textEncoder({ encode: (t: string) => [...t].map((c) => c.charCodeAt(0)), eosId: 1, padId: 0 });
    expect(enc.prompt('ab')).toEqual([97, 98]);
    expect(enc.response('c')).toEqual([99, 1]);
  });
});

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { GPT, ScalarHead, type GPTConfig } from '../../../src-main/engine/models/model.js';
import { AdamW } from '../../../src-main/engine/train/optim.js';

const tiny: GPTConfig = { vocab_size: 32, n_positions: 16, n_embd: 16, n_layer: 2, n_head: 2, layer_norm_epsilon: 1e-5, dropout: 0 };

/** A fixed batch of repeating sequences a tiny model can memorise. */
function batch(): tf.Tensor2D {
  const rows: number[][] = [];
  for (let b = 0; b < 4; b++) rows.push(Array.from({ length: 12 }, (_, t) => (b * 3 + t * (b + 1)) % tiny.vocab_size));
  return tf.tensor2d(rows, [4, 12], 'int32');
}

describe('GPT training', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('loss falls and every parameter changes', () => {
    const model = GPT.create(tiny, 1);
    const head = ScalarHead.create(tiny.n_embd, 2);
    const before = { ...model.getWeights(), ...head.getWeights() };
    const opt = new AdamW({ ...model.namedVariables(), ...Object.fromEntries(Object.entries(head.namedVariables()).map(([k, v]) => ['head.' + k, v])) }, { lr: 1e-2, warmupSteps: 2, totalSteps: 40 });
    const ids = batch();
    const losses: number[] = [];
    for (let step = 0; step < 40; step++) {
      const { loss, gradNorm } = opt.minimize(() =>
        tf.tidy(() => {
          const lm = tf.neg(tf.mean(model.tokenLogprobs(ids)));
          // The head is trained too so its parameters change: regress every token's value to 1.
          const values = head.apply(model.hidden(ids));
          return tf.add(lm, tf.mean(tf.square(tf.sub(values, 1)))) as tf.Scalar;
        }),
      );
      expect(Number.isFinite(gradNorm)).toBe(true);
      losses.push(loss);
    }
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.5);
    const after = { ...model.getWeights(), ...head.getWeights() };
    for (const [name, w] of Object.entries(before)) {
      const a = after[name]!;
      let diff = 0;
      for (let i = 0; i < w.length; i++) diff = Math.max(diff, Math.abs(w[i]! - a[i]!));
      expect(diff, name).toBeGreaterThan(0);
    }
    ids.dispose();
    opt.dispose();
    model.dispose();
    head.dispose();
  });

  it('dropout is off by default, applies only in training, and is reproducible from the seed', () => {
    const ids = batch();
    const withDropout = { ...tiny, dropout: 0.2 };
    const a = GPT.create(withDropout, 5);
    const b = GPT.create(withDropout, 5);
    const evalOut = a.hidden(ids).dataSync();
    const trainA = a.hidden(ids, { training: true }).dataSync();
    const trainB = b.hidden(ids, { training: true }).dataSync();
    expect(Array.from(trainA)).not.toEqual(Array.from(evalOut));
    expect(Array.from(trainA)).toEqual(Array.from(trainB));
    const plain = GPT.create(tiny, 5);
    expect(Array.from(plain.hidden(ids, { training: true }).dataSync())).toEqual(Array.from(plain.hidden(ids).dataSync()));
    [a, b, plain, ids].forEach((x) => x.dispose());
  });

  it('keeps the tensor count flat across training steps', () => {
    const model = GPT.create(tiny, 3);
    const opt = new AdamW(model.namedVariables(), { lr: 1e-3 });
    const ids = batch();
    const step = () => opt.minimize(() => tf.neg(tf.mean(model.tokenLogprobs(ids))) as tf.Scalar);
    step();
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) step();
    expect(tf.memory().numTensors).toBe(after1);
    ids.dispose();
    opt.dispose();
    model.dispose();
  });
});

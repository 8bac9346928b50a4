import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { GPT, type GPTConfig } from '../../../src-main/engine/models/model.js';
import { AdamW, learningRateAt, adamWConfigSchema } from '../../../src-main/engine/train/optim.js';
import { Rng } from '../../../src-main/engine/rng.js';

const cfg: GPTConfig = { vocab_size: 30, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2, layer_norm_epsilon: 1e-5, dropout: 0 };

describe('AdamW', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('warms up linearly, then decays by a cosine to the floor', () => {
    const c = adamWConfigSchema.parse({ lr: 1, warmupSteps: 4, totalSteps: 14, minLrRatio: 0.1 });
    expect([0, 1, 2, 3].map((s) => learningRateAt(c, s))).toEqual([0.25, 0.5, 0.75, 1]);
    expect(learningRateAt(c, 9)).toBeCloseTo(0.55, 6); // halfway through the decay
    expect(learningRateAt(c, 14)).toBeCloseTo(0.1, 6);
    expect(learningRateAt(c, 100)).toBeCloseTo(0.1, 6);
  });

  it('clips the global gradient norm and reports it before clipping', () => {
    const w = tf.variable(tf.tensor1d([0, 0]));
    const opt = new AdamW({ w }, { lr: 0.1, clipNorm: 1, weightDecay: 0 });
    const grad = tf.tensor1d([30, 40]);
    const { gradNorm } = opt.applyGradients({ [w.name]: grad });
    expect(gradNorm).toBeCloseTo(50, 4);
    // Adam's first step moves each coordinate by ≈ lr·sign(g), whatever the scale.
    const v = w.dataSync();
    expect(v[0]).toBeCloseTo(-0.1, 4);
    expect(v[1]).toBeCloseTo(-0.1, 4);
    opt.dispose();
  });

  it('matches torch.optim.AdamW arithmetic over several steps', () => {
    const w = tf.variable(tf.tensor2d([[0.5, -1], [2, 0.1]]));
    const cfg = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, clipNorm: 0 };
    const opt = new AdamW({ 'h.0.attn.c_proj.weight': w }, cfg);
    const p = [0.5, -1, 2, 0.1];
    const m = [0, 0, 0, 0];
    const v = [0, 0, 0, 0];
    const gradsSeq = [[0.3, -0.2, 0.1, 0.05], [-0.1, 0.4, 0.2, -0.3], [0.05, 0.05, -0.5, 0.2]];
    gradsSeq.forEach((g, step) => {
      const t = step + 1;
      for (let i = 0; i < 4; i++) {
        p[i] = p[i]! * (1 - cfg.lr * cfg.weightDecay);
        m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
        v[i] = 0.999 * v[i]! + 0.001 * g[i]! * g[i]!;
        p[i] = p[i]! - (cfg.lr * (m[i]! / (1 - 0.9 ** t))) / (Math.sqrt(v[i]! / (1 - 0.999 ** t)) + cfg.eps);
      }
      const gt = tf.tensor2d(g, [2, 2]);
      opt.applyGradients({ [w.name]: gt });
      gt.dispose();
    });
    Array.from(w.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(p[i]!, 6));
    opt.dispose();
  });

  it('decays matrices but not biases or LayerNorm parameters', () => {
    const mat = tf.variable(tf.ones([2, 2]));
    const bias = tf.variable(tf.ones([2]));
    const opt = new AdamW({ 'h.0.mlp.c_fc.weight': mat, 'h.0.mlp.c_fc.bias': bias }, { lr: 0.1, weightDecay: 0.5 });
    opt.applyGradients({ [mat.name]: tf.zeros([2, 2]), [bias.name]: tf.zeros([2]) });
    expect(mat.dataSync()[0]).toBeCloseTo(0.95, 6);
    expect(bias.dataSync()[0]).toBeCloseTo(1, 6);
    opt.dispose();
  });

  it('state round-trip: a resumed optimizer takes the identical next step', () => {
    const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6], [7, 8, 9, 1, 2, 3]], [2, 6], 'int32');
    const lossOf = (m: GPT) => () => tf.neg(tf.mean(m.tokenLogprobs(ids))) as tf.Scalar;
    const a = GPT.create(cfg, 3);
    const optA = new AdamW(a.namedVariables(), { lr: 1e-2, warmupSteps: 2, totalSteps: 10 });
    for (let i = 0; i < 3; i++) optA.minimize(lossOf(a));
    // "Checkpoint": weights + optimizer state into a fresh model and optimizer.
    const b = GPT.fromWeights(cfg, a.getWeights());
    const optB = new AdamW(b.namedVariables(), { lr: 1e-2, warmupSteps: 2, totalSteps: 10 });
    optB.setState(optA.getState());
    const stepA = optA.minimize(lossOf(a));
    const stepB = optB.minimize(lossOf(b));
    expect(stepB.loss).toBe(stepA.loss);
    expect(stepB.lr).toBe(stepA.lr);
    const wa = a.getWeights();
    const wb = b.getWeights();
    for (const name of Object.keys(wa)) expect(Array.from(wb[name]!)).toEqual(Array.from(wa[name]!));
    [a, b, optA, optB, ids].forEach((x) => x.dispose());
  });

  it('moments outside the wasm heap (large models) take the same steps and resume the same', () => {
    const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6], [7, 8, 9, 1, 2, 3]], [2, 6], 'int32');
    const lossOf = (m: GPT) => () => tf.neg(tf.mean(m.tokenLogprobs(ids))) as tf.Scalar;
    const a = GPT.create(cfg, 5);
    const b = GPT.fromWeights(cfg, a.getWeights());
    const heap = new AdamW(a.namedVariables(), { lr: 1e-2, weightDecay: 0.1 });
    const host = new AdamW(b.namedVariables(), { lr: 1e-2, weightDecay: 0.1 }, { hostMoments: true });
    const before = tf.memory().numBytes;
    for (let i = 0; i < 3; i++) expect(host.minimize(lossOf(b)).loss).toBeCloseTo(heap.minimize(lossOf(a)).loss, 5);
    expect(tf.memory().numBytes).toBe(before);
    const wa = a.getWeights();
    const wb = b.getWeights();
    for (const name of Object.keys(wa)) wb[name]!.forEach((x, i) => expect(x).toBeCloseTo(wa[name]![i]!, 5));
    const sa = heap.getState();
    const sb = host.getState();
    for (const k of Object.keys(sa.m)) sb.m[k]!.forEach((x, i) => expect(x).toBeCloseTo(sa.m[k]![i]!, 6));
    // Resumed from its state, a host optimizer takes the identical next step.
    const c = GPT.fromWeights(cfg, b.getWeights());
    const resumed = new AdamW(c.namedVariables(), { lr: 1e-2, weightDecay: 0.1 }, { hostMoments: true });
    resumed.setState(sb);
    expect(resumed.minimize(lossOf(c)).loss).toBe(host.minimize(lossOf(b)).loss);
    const wc = c.getWeights();
    const wb2 = b.getWeights();
    for (const name of Object.keys(wc)) expect(Array.from(wc[name]!)).toEqual(Array.from(wb2[name]!));
    [a, b, c, heap, host, resumed, ids].forEach((x) => x.dispose());
  });
});

describe('Rng', () => {
  it('is reproducible from a seed and resumable from its state', () => {
    const a = new Rng(42);
    const first = [a.next(), a.next(), a.next()];
    expect([new Rng(42).next(), new Rng(42).next()]).toEqual([first[0], first[0]]);
    const state = a.getState();
    const next = [a.next(), a.normal(), a.int(10)];
    const b = new Rng(0);
    b.setState(state);
    expect([b.next(), b.normal(), b.int(10)]).toEqual(next);
  });

  it('gives uniform floats in [0,1) and forks independent streams', () => {
    const r = new Rng('seed');
    let sum = 0;
    for (let i = 0; i < 10000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
    }
    expect(sum / 10000).toBeCloseTo(0.5, 1);
    expect(r.fork('a').next()).not.toBe(r.fork('b').next());
    expect(r.fork('a').next()).toBe(r.fork('a').next());
  });
});

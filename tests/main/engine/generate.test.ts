import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { generate, nextTokenProbs, sampleToken } from '../../../src-main/engine/models/generate.js';
import { GPT, type GPTConfig } from '../../../src-main/engine/models/model.js';
import { Rng } from '../../../src-main/engine/rng.js';

const cfg: GPTConfig = { vocab_size: 40, n_positions: 32, n_embd: 24, n_layer: 2, n_head: 3, layer_norm_epsilon: 1e-5, dropout: 0 };
let model: GPT;

describe('generate', () => {
  beforeAll(async () => {
    await initBackend();
    model = GPT.create(cfg, 11);
  });
  afterAll(() => model.dispose());

  const prompts = [[5, 6, 7, 8, 9], [3], [10, 11, 12]];

  it('the KV cache gives the same tokens and log-probabilities as full recomputation', () => {
    const opts = { maxNewTokens: 12, temperature: 1, seed: 4, padId: 0 };
    const cached = generate(model, prompts, opts);
    const uncached = generate(model, prompts, { ...opts, useCache: false });
    expect(cached.tokens).toEqual(uncached.tokens);
    cached.logprobs.forEach((row, b) => row.forEach((lp, i) => expect(lp).toBeCloseTo(uncached.logprobs[b]![i]!, 4)));
    expect(cached.tokens.every((t) => t.length === 12)).toBe(true);
  });

  it('the cache also matches with many rows (the tf-op attention path)', () => {
    const wide = GPT.create({ ...cfg, n_embd: 128, n_head: 4, n_layer: 1 }, 12);
    const many = Array.from({ length: 9 }, (_, i) => [1 + i, 2 + i, 3]); // 9 rows × 128 > 1024 values
    const opts = { maxNewTokens: 6, seed: 5, padId: 0 };
    const cached = generate(wide, many, opts);
    const uncached = generate(wide, many, { ...opts, useCache: false });
    expect(cached.tokens).toEqual(uncached.tokens);
    cached.logprobs.forEach((row, b) => row.forEach((lp, i) => expect(lp).toBeCloseTo(uncached.logprobs[b]![i]!, 4)));
    wide.dispose();
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = generate(model, prompts, { maxNewTokens: 10, seed: 1, padId: 0 });
    const b = generate(model, prompts, { maxNewTokens: 10, seed: 1, padId: 0 });
    const c = generate(model, prompts, { maxNewTokens: 10, seed: 2, padId: 0 });
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens).not.toEqual(c.tokens);
  });

  it('a prompt gives the same tokens alone and left-padded in a batch', () => {
    const alone = generate(model, [[3]], { maxNewTokens: 8, temperature: 0, seed: 1, padId: 0 });
    const batched = generate(model, prompts, { maxNewTokens: 8, temperature: 0, seed: 1, padId: 0 });
    expect(batched.tokens[1]).toEqual(alone.tokens[0]);
  });

  it('stops a sequence at EOS, keeps the EOS, and streams every token', () => {
    const free = generate(model, prompts, { maxNewTokens: 10, temperature: 0, seed: 1, padId: 0 });
    const eos = free.tokens[0]![3]!; // greedy: the 4th token of sequence 0 becomes the stop token
    const streamed: number[][] = prompts.map(() => []);
    const res = generate(model, prompts, { maxNewTokens: 10, temperature: 0, seed: 1, padId: 0, eosId: eos, onToken: (s, t) => streamed[s]!.push(t) });
    const firstEos = free.tokens[0]!.indexOf(eos);
    expect(res.tokens[0]).toEqual(free.tokens[0]!.slice(0, firstEos + 1));
    expect(res.finished[0]).toBe(true);
    expect(streamed).toEqual(res.tokens);
  });

  it('does not leak tensors', () => {
    generate(model, prompts, { maxNewTokens: 4, seed: 1, padId: 0 });
    const before = tf.memory().numTensors;
    generate(model, prompts, { maxNewTokens: 6, seed: 2, padId: 0 });
    generate(model, prompts, { maxNewTokens: 6, seed: 3, padId: 0, useCache: false });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('sampleToken', () => {
  const logits = new Float32Array([2, 1, 0.5, 0, -1, -3]);
  const probsAt = (temperature: number) => nextTokenProbs(tf.tensor2d(logits, [1, logits.length]), temperature);
  const draw = (opts: { temperature: number; topK: number; topP: number }, n = 2000) => {
    const rng = new Rng(9);
    const probs = probsAt(opts.temperature);
    const counts = new Array<number>(logits.length).fill(0);
    for (let i = 0; i < n; i++) counts[sampleToken(probs, opts, rng).id]! += 1;
    return counts;
  };

  it('temperature 0 is greedy', () => {
    expect(draw({ temperature: 0, topK: 0, topP: 1 }, 50)[0]).toBe(50);
  });

  it('top-k keeps only the k most likely tokens', () => {
    const c = draw({ temperature: 1, topK: 2, topP: 1 });
    expect(c.slice(2).every((x) => x === 0)).toBe(true);
    expect(c[0]! > c[1]! && c[1]! > 0).toBe(true);
  });

  it('top-p keeps the smallest set reaching p', () => {
    // softmax: p0 ≈ 0.52, p1 ≈ 0.19, p2 ≈ 0.12 → p = 0.6 keeps tokens 0 and 1.
    const c = draw({ temperature: 1, topK: 0, topP: 0.6 });
    expect(c.slice(2).every((x) => x === 0)).toBe(true);
    expect(c[1]).toBeGreaterThan(0);
  });

  it('a higher temperature flattens the distribution', () => {
    const cold = draw({ temperature: 0.5, topK: 0, topP: 1 });
    const hot = draw({ temperature: 2, topK: 0, topP: 1 });
    expect(hot[0]!).toBeLessThan(cold[0]!);
    expect(hot[5]!).toBeGreaterThan(cold[5]!);
  });

  it('reports the log-probability under the temperature-scaled distribution', () => {
    const { id, logprob } = sampleToken(probsAt(0), { temperature: 0, topK: 0, topP: 1 }, new Rng(1));
    const z = Array.from(logits).reduce((s, l) => s + Math.exp(l), 0);
    expect(id).toBe(0);
    expect(logprob).toBeCloseTo(2 - Math.log(z), 5);
    const hot = sampleToken(probsAt(2), { temperature: 2, topK: 2, topP: 1 }, new Rng(3));
    const z2 = Array.from(logits).reduce((s, l) => s + Math.exp(l / 2), 0);
    expect(hot.logprob).toBeCloseTo(logits[hot.id]! / 2 - Math.log(z2), 5);
  });
});

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { WasmDecoder, wasmDecoderApplies } from '../../../src-main/engine/kernels/decode-kernel.js';
import { generate, leftPad, nextTokenProbs } from '../../../src-main/engine/models/generate.js';
import { disposeCache, GPT, type GPTConfig, type KVCache } from '../../../src-main/engine/models/model.js';
import { Rng } from '../../../src-main/engine/rng.js';

const base: GPTConfig = { vocab_size: 37, n_positions: 40, n_embd: 32, n_layer: 2, n_head: 4, layer_norm_epsilon: 1e-5, dropout: 0 };

/** Random weights with non-trivial LayerNorm gains and biases (GPT.create leaves them 1 and 0). */
function randomModel(cfg: GPTConfig, seed: number): GPT {
  const m = GPT.create(cfg, seed);
  const rng = new Rng(seed).fork('extra');
  const w = m.getWeights();
  for (const [name, v] of Object.entries(w)) {
    if (name.includes('ln_') || name.endsWith('.bias')) {
      const noise = rng.normalArray(v.length, 0.3);
      w[name] = v.map((x, i) => x + noise[i]!);
    }
  }
  m.setWeights(w);
  return m;
}

/** Prompts of 1..maxLen tokens (different lengths: left padding). */
function randomPrompts(rng: Rng, B: number, V: number, maxLen = 7): number[][] {
  return Array.from({ length: B }, (_, b) => Array.from({ length: 1 + ((b * 3) % maxLen) }, () => Math.floor(rng.next() * V)));
}

function expectClose(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  expect(worst).toBeLessThan(1e-5);
}

describe('the one-token decode step as one wasm call (WasmDecoder)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  // B: 1 (the GEMV path), 3 and 6 (row-tile tails), 16 (with prompts of up to 30 tokens: the
  // prefill runs in two chunks of 16 positions); vocab 37 pads the last panel.
  const cases: Array<[string, GPTConfig, number, number, number]> = [
    ['B=1', base, 1, 1, 7],
    ['B=3, T=0.7', base, 3, 0.7, 7],
    ['B=6, hd 4, vocab 64', { ...base, vocab_size: 64, n_head: 8 }, 6, 1, 7],
    ['B=2, one layer, vocab 1000 (more than the layers hold: wte staged apart)', { ...base, vocab_size: 1000, n_layer: 1 }, 2, 1, 7],
    ['B=16, hd 16, 3 layers, T=1.3, chunked prompt', { ...base, n_embd: 48, n_head: 3, n_layer: 3 }, 16, 1.3, 30],
  ];
  for (const [label, cfg, B, temperature, promptLen] of cases) {
    it(`gives the tf path's next-token probabilities for the prompt and step after step: ${label}`, () => {
      const model = randomModel(cfg, 3 + B);
      const rng = new Rng(B);
      const padded = leftPad(randomPrompts(rng, B, cfg.vocab_size, promptLen), 0);
      const ids = tf.tensor2d(padded.ids, [B, padded.length], 'int32');
      const mask = tf.tensor2d(padded.mask, [B, padded.length], 'float32');
      const prefill = model.forwardCached(ids, null, mask);
      tf.dispose([ids, mask]);
      const steps = 6;
      const decoder = WasmDecoder.create(model, B, padded.length + steps)!;
      expectClose(decoder.prefill(padded.ids, padded.mask, temperature), nextTokenProbs(prefill.logits, temperature));
      let cache: KVCache = prefill.cache;
      for (let s = 0; s < steps; s++) {
        const next = Int32Array.from({ length: B }, () => Math.floor(rng.next() * cfg.vocab_size));
        const got = decoder.step(next, temperature);
        const t = tf.tensor2d(next, [B, 1], 'int32');
        const out = model.forwardCached(t, cache, undefined);
        t.dispose();
        cache = out.cache;
        expectClose(got, nextTokenProbs(out.logits, temperature));
      }
      expect(() => decoder.step(new Int32Array(B), 1)).toThrow(/full/);
      disposeCache(cache);
      model.dispose();
    });
  }

  it('generate() samples the same tokens as the tf-op steps: padding, EOS, top-k/top-p, several rows', () => {
    const model = randomModel({ ...base, vocab_size: 20 }, 21);
    const prompts = randomPrompts(new Rng(9), 7, 20);
    const variants = [
      { maxNewTokens: 20, temperature: 1, seed: 4, padId: 0 },
      { maxNewTokens: 20, temperature: 0.8, seed: 5, padId: 0, eosId: 3 },
      { maxNewTokens: 12, temperature: 1, seed: 6, padId: 0, topK: 5, topP: 0.9 },
      { maxNewTokens: 12, temperature: 0, seed: 7, padId: 0, eosId: 2 },
    ];
    for (const opts of variants) {
      const compiled = generate(model, prompts, opts);
      const tfOps = generate(model, prompts, { ...opts, compiledDecode: false });
      expect(compiled.tokens).toEqual(tfOps.tokens);
      expect(compiled.finished).toEqual(tfOps.finished);
      compiled.logprobs.forEach((row, b) => row.forEach((lp, i) => expect(Math.abs(lp - tfOps.logprobs[b]![i]!)).toBeLessThan(1e-4)));
    }
    expect(generate(model, prompts, { ...variants[1]!, compiledDecode: false }).finished.some(Boolean)).toBe(true);
    model.dispose();
  });

  it('a new decoder takes the thread\'s module over from the previous one', () => {
    const model = randomModel(base, 2);
    const first = WasmDecoder.create(model, 1, 4)!;
    const a = first.prefill(Int32Array.of(1, 2, 3), Float32Array.of(1, 1, 1), 1);
    const second = WasmDecoder.create(model, 1, 4)!;
    expect(() => first.step(Int32Array.of(5), 1)).toThrow(/newer decoder/);
    expect(second.prefill(Int32Array.of(1, 2, 3), Float32Array.of(1, 1, 1), 1)).toEqual(a);
    model.dispose();
  });

  it('is null where weights and cache would not fit wasm32 memory (generate() then uses tf ops)', () => {
    const model = randomModel(base, 5);
    expect(WasmDecoder.create(model, 1, 10_000_000)).toBeNull();
    expect(WasmDecoder.create(model, 1, 10)).not.toBeNull();
    model.dispose();
  });

  it('does not apply where n_embd is not a multiple of 8 or the head size not of 4', () => {
    expect(wasmDecoderApplies(base)).toBe(true);
    expect(wasmDecoderApplies({ ...base, n_embd: 12, n_head: 3 })).toBe(false);
    expect(wasmDecoderApplies({ ...base, n_embd: 24, n_head: 4 })).toBe(false);
  });
});

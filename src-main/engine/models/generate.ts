// Batched sampling from a GPT with a KV cache: the (left-padded) prompts are run once (prefill),
// then each step feeds one token per sequence. On wasm both run in a compiled decoder
// (compiled-decoder.ts), elsewhere as tf ops (GPT.forwardCached): the DecodePath, chosen once per
// call. Either turns logits into probabilities; the sampling (top-k, top-p) is done in JS with the seeded Rng, so a seed gives the
// same tokens on every run of a backend.
import * as tf from '@tensorflow/tfjs';
import { WasmDecoder, wasmDecoderApplies } from '../kernels/compiled-decoder.js';
import { disposeCache, type GPT, type KVCache } from './model.js';
import { Rng } from '../rng.js';

export interface GenerateOptions {
  maxNewTokens: number;
  temperature?: number;
  /** Keep only the k most likely tokens; 0 = off. */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p; 1 = off. */
  topP?: number;
  /** A sequence stops after emitting this token (kept in its output). */
  eosId?: number;
  seed: number;
  /** Token used for left padding of shorter prompts (never attended to). */
  padId: number;
  /** Called for each new token of each unfinished sequence, in order, as soon as it is sampled. */
  onToken?: (sequence: number, token: number) => void;
  /** Recompute the whole sequence every step instead of using the KV cache (tests only). */
  useCache?: boolean;
  /** With the cache on wasm, prompt and steps by the compiled decoder (default); false keeps tf ops. */
  compiledDecode?: boolean;
  /**
   * Index of prompts[0] in the whole batch when this call generates part of it (generation split
   * over threads): every row samples from its own random stream, seeded by seed and row index.
   */
  firstRow?: number;
}

export interface GenerateResult {
  /** Response ids per prompt, truncated after the first EOS (EOS kept). */
  tokens: number[][];
  /** True where the sequence ended with EOS within maxNewTokens. */
  finished: boolean[];
  /** log p(token) under the temperature-scaled full distribution (before top-k/top-p), per token. */
  logprobs: number[][];
}

export interface SamplingOptions {
  temperature: number;
  topK: number;
  topP: number;
}

/**
 * Next-token probabilities softmax(logits / T) of rows of logits [B, V], flat [B·V], computed by
 * the backend (temperature ≤ 0, greedy, uses T = 1). Disposes `logits`. On wasm the Softmax kernel
 * is vectorised: [16, 8192] with the read-back takes ~0.6 ms where an exp loop in JS took ~2 ms.
 */
export function nextTokenProbs(logits: tf.Tensor2D, temperature: number): Float32Array {
  const p = tf.tidy(() => tf.softmax(temperature > 0 && temperature !== 1 ? tf.div(logits, temperature) : logits));
  logits.dispose();
  const data = p.dataSync() as Float32Array;
  p.dispose();
  return data;
}

/**
 * Sample one token id from a row of next-token probabilities (nextTokenProbs, already at the
 * sampling temperature). Returns the id and its log-probability under that full distribution.
 * temperature 0 = greedy.
 */
export function sampleToken(probs: Float32Array, opts: SamplingOptions, rng: Rng): { id: number; logprob: number } {
  const V = probs.length;
  const logprobOf = (id: number) => Math.log(probs[id]!);
  if (opts.temperature <= 0) {
    let argmax = 0;
    for (let i = 1; i < V; i++) if (probs[i]! > probs[argmax]!) argmax = i;
    return { id: argmax, logprob: logprobOf(argmax) };
  }
  const k = opts.topK > 0 && opts.topK < V ? opts.topK : V;
  if (k === V && opts.topP >= 1) {
    const id = rng.categorical(probs);
    return { id, logprob: logprobOf(id) };
  }
  // Candidates by descending probability (ties by id, so results do not depend on sort stability).
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => probs[b]! - probs[a]! || a - b);
  let keep = k;
  if (opts.topP < 1) {
    let cum = 0;
    for (let i = 0; i < k; i++) {
      cum += probs[order[i]!]!;
      if (cum >= opts.topP) {
        keep = i + 1;
        break;
      }
    }
  }
  const weights = new Float64Array(keep);
  for (let i = 0; i < keep; i++) weights[i] = probs[order[i]!]!;
  const id = order[rng.categorical(weights)]!;
  return { id, logprob: logprobOf(id) };
}

/** Left-pad prompts to one length; returns ids and mask (1 real, 0 pad) as flat row-major arrays. */
export function leftPad(prompts: number[][], padId: number): { ids: Int32Array; mask: Float32Array; length: number } {
  const length = Math.max(1, ...prompts.map((p) => p.length));
  const ids = new Int32Array(prompts.length * length).fill(padId);
  const mask = new Float32Array(prompts.length * length);
  prompts.forEach((p, b) => {
    const off = b * length + (length - p.length);
    ids.set(p, off);
    mask.fill(1, off, off + p.length);
  });
  return { ids, mask, length };
}

export function generate(model: GPT, prompts: number[][], opts: GenerateOptions): GenerateResult {
  if (prompts.length === 0) return { tokens: [], finished: [], logprobs: [] };
  if (prompts.some((p) => p.length === 0)) throw new Error('every prompt needs at least one token');
  const sampling: SamplingOptions = { temperature: opts.temperature ?? 1, topK: opts.topK ?? 0, topP: opts.topP ?? 1 };
  // One random stream per row, so a row's tokens do not depend on the other rows of its batch.
  const root = new Rng(opts.seed);
  const rngs = prompts.map((_, b) => root.fork((opts.firstRow ?? 0) + b));
  const B = prompts.length;
  const V = model.config.vocab_size;
  const longest = Math.max(...prompts.map((p) => p.length));
  const maxNew = Math.max(0, Math.min(opts.maxNewTokens, model.config.n_positions - longest));
  // Callers cut long prompts first (sequences.ts promptTail); this names the limit if one did not.
  if (longest > model.config.n_positions) throw new Error(`a prompt of ${longest} tokens does not fit the model's context of ${model.config.n_positions} tokens`);
  const tokens: number[][] = prompts.map(() => []);
  const logprobs: number[][] = prompts.map(() => []);
  const finished = new Array<boolean>(B).fill(false);

  const padded = leftPad(prompts, opts.padId);
  // Full sequences (prompt + generated so far), only for the uncached path.
  const rows = prompts.map((p) => p.slice());
  const path = decodePathFor(model, opts, maxNew);
  const run = decodeRun(path, model, padded, B, maxNew, rows, opts.padId);
  try {
    let probs = run.prefill(sampling.temperature);
    for (let step = 0; step < maxNew; step++) {
      const next = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        if (finished[b]) {
          next[b] = opts.padId;
          continue;
        }
        const { id, logprob } = sampleToken(probs.subarray(b * V, (b + 1) * V), sampling, rngs[b]!);
        next[b] = id;
        tokens[b]!.push(id);
        logprobs[b]!.push(logprob);
        rows[b]!.push(id);
        opts.onToken?.(b, id);
        if (opts.eosId !== undefined && id === opts.eosId) finished[b] = true;
      }
      if (finished.every(Boolean) || step === maxNew - 1) break;
      probs = run.step(next, sampling.temperature);
    }
  } finally {
    run.dispose();
  }
  return { tokens, finished, logprobs };
}

/**
 * How generate() runs the model, chosen once per call: `compiled-decoder`, the prompt and every
 * step as calls into decode.c (compiled-decoder.ts: wasm, a GPT-2 whose weights fit); `tf-cache`,
 * the family's forwardCached with a KV cache, its kernels chosen per pass (family.ts
 * CachedAttention); `uncached`, the whole sequence through the training forward every step (the
 * reference the cache is tested against).
 */
export type DecodePath = 'compiled-decoder' | 'tf-cache' | 'uncached';

export function decodePathFor(model: GPT, opts: Pick<GenerateOptions, 'useCache' | 'compiledDecode'>, maxNew: number): DecodePath {
  if (!(opts.useCache ?? true)) return 'uncached';
  return maxNew > 0 && (opts.compiledDecode ?? true) && !model.adaptersActive() && wasmDecoderApplies(model.config) ? 'compiled-decoder' : 'tf-cache';
}

/** The prompt's and then each step's next-token probabilities [B·V] at a temperature, by one decode path. */
interface DecodeRun {
  prefill(temperature: number): Float32Array;
  step(next: Int32Array, temperature: number): Float32Array;
  dispose(): void;
}

function decodeRun(path: DecodePath, model: GPT, padded: ReturnType<typeof leftPad>, B: number, maxNew: number, rows: number[][], padId: number): DecodeRun {
  switch (path) {
    case 'compiled-decoder': {
      // Null where the weights do not fit the decoder's wasm32 memory: then the tf ops run it.
      const decoder = WasmDecoder.create(model, B, padded.length + maxNew - 1);
      if (!decoder) return decodeRun('tf-cache', model, padded, B, maxNew, rows, padId);
      return { prefill: (T) => decoder.prefill(padded.ids, padded.mask, T), step: (next, T) => decoder.step(next, T), dispose: () => {} };
    }
    case 'tf-cache': {
      let cache: KVCache | null = null;
      const forward = (ids: tf.Tensor2D, mask: tf.Tensor2D | undefined, T: number) => {
        const out = model.forwardCached(ids, cache, mask);
        tf.dispose(mask ? [ids, mask] : [ids]);
        cache = out.cache;
        return nextTokenProbs(out.logits, T);
      };
      return {
        prefill: (T) => forward(tf.tensor2d(padded.ids, [B, padded.length], 'int32'), tf.tensor2d(padded.mask, [B, padded.length], 'float32'), T),
        step: (next, T) => forward(tf.tensor2d(next, [B, 1], 'int32'), undefined, T),
        dispose: () => {
          if (cache) disposeCache(cache);
        },
      };
    }
    case 'uncached': {
      const probs = (T: number) => nextTokenProbs(lastLogitsUncached(model, rows, padId), T);
      return { prefill: probs, step: (_next, T) => probs(T), dispose: () => {} };
    }
  }
}

/** Logits of the last position of each row by a full forward pass (the reference for the cache). */
function lastLogitsUncached(model: GPT, rows: number[][], padId: number): tf.Tensor2D {
  const { ids, mask, length } = leftPad(rows, padId);
  const B = rows.length;
  return tf.tidy(() => {
    const idsT = tf.tensor2d(ids, [B, length], 'int32');
    const maskT = tf.tensor2d(mask, [B, length], 'float32');
    const h = model.hidden(idsT, { attentionMask: maskT });
    const last = tf.slice(h, [0, length - 1, 0], [B, 1, model.config.n_embd]);
    return tf.reshape(model.logits(last as tf.Tensor3D), [B, -1]) as tf.Tensor2D;
  });
}

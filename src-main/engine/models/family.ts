// The seam between the model every stage trains (GPT in model.ts: parameters, weights in and out,
// log-probs) and the architecture that computes it. A family says which parameters exist under
// their Hugging Face names, how they start, how the forward pass runs with and without a KV
// cache, which matrix produces the logits, and which compiled kernels its passes use.
import * as tf from '@tensorflow/tfjs';
import { attendOne, attendOneAvailable } from '../kernels/attend-one-kernel.js';
import { causalAttention } from '../kernels/fast-ops.js';
import { fusedAttendOne } from '../kernels/js-decode-ops.js';
import type { Rng } from '../rng.js';

export interface ForwardOptions {
  /** [B,T], 1 = real token, 0 = padding (left padding). */
  attentionMask?: tf.Tensor2D;
  /** Enables dropout (when config.dropout > 0). */
  training?: boolean;
}

/** Per-layer keys and values of the tokens seen so far: [B·H, T_past, hd] each. */
export interface KVCache {
  keys: tf.Tensor3D[];
  values: tf.Tensor3D[];
  /** Additive mask over the cached keys [B, T_past] (0 visible, −1e9 padding). */
  keyMaskAdd: tf.Tensor2D;
  /** Position id the next token of each row gets. */
  nextPosition: number[];
  /** The output matrix transposed, [C,V], for the logits, computed at prefill. */
  wteT: tf.Tensor2D;
}

/** What a family's forward passes reach for: the model's parameters and its dropout. */
export interface FamilyContext {
  p(name: string): tf.Tensor;
  dropout(x: tf.Tensor2D, training: boolean | undefined): tf.Tensor2D;
  /**
   * The output y of linear module `path` (a parameter prefix such as `h.0.attn.c_attn`) for its
   * input x, with the module's LoRA update added where an adapter is on (models/lora.ts).
   */
  adapt(path: string, x: tf.Tensor2D, y: tf.Tensor2D, training: boolean | undefined): tf.Tensor2D;
}

/** Which code runs a family's passes on the current backend, and why (shown by the CLI and jobs). */
export interface EnginePath {
  training: string;
  generation: string;
}

export interface ModelFamily<C> {
  readonly id: 'gpt2' | 'llama';
  parameterShapes(c: C): Array<[string, number[]]>;
  initialWeights(c: C, rng: Rng): Record<string, Float32Array>;
  /** The [V, C] matrix whose rows score each token (tied or not). */
  outputWeight(c: C): string;
  /** Final hidden states [B,T,C] (after the last norm). Differentiable. */
  hidden(ctx: FamilyContext, c: C, ids: tf.Tensor2D, opts: ForwardOptions): tf.Tensor3D;
  /** Logits of the last new position [B,V] for new tokens `ids` [B,t], extending (or starting) a cache. */
  forwardCached(ctx: FamilyContext, c: C, ids: tf.Tensor2D, cache: KVCache | null, attentionMask?: tf.Tensor2D): { logits: tf.Tensor2D; cache: KVCache };
  enginePath(c: C): EnginePath;
}

/** Position ids: cumsum(mask) − 1 per row (0 at padding), or 0..T−1 without a mask. */
export function positionIds(batch: number, seqLen: number, maxPositions: number, attentionMask?: tf.Tensor2D): Int32Array {
  if (seqLen > maxPositions) throw new Error(`sequence of ${seqLen} tokens exceeds n_positions ${maxPositions}`);
  const pos = new Int32Array(batch * seqLen);
  if (!attentionMask) {
    for (let b = 0; b < batch; b++) for (let t = 0; t < seqLen; t++) pos[b * seqLen + t] = t;
  } else {
    const m = attentionMask.dataSync();
    for (let b = 0; b < batch; b++) {
      let c = 0;
      for (let t = 0; t < seqLen; t++) {
        if (m[b * seqLen + t]! > 0) c++;
        pos[b * seqLen + t] = Math.max(c - 1, 0);
      }
    }
  }
  return pos;
}

/**
 * Position ids of t new tokens per row continuing a cache (padding repeats the previous position),
 * and each row's next position after them.
 */
export function cachedPositions(B: number, t: number, maxPositions: number, cache: KVCache | null, maskData: ArrayLike<number> | null): { pos: Int32Array; nextPosition: number[] } {
  const nextPosition = cache ? cache.nextPosition.slice() : new Array<number>(B).fill(0);
  const pos = new Int32Array(B * t);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < t; j++) {
      const real = !maskData || maskData[b * t + j]! > 0;
      pos[b * t + j] = Math.max(0, Math.min(nextPosition[b]! - (real ? 0 : 1), maxPositions - 1));
      if (real) nextPosition[b]! += 1;
    }
  }
  if (Math.max(...nextPosition) > maxPositions) throw new Error(`sequence exceeds n_positions ${maxPositions}`);
  return { pos, nextPosition };
}

/**
 * The key mask after t new tokens ([B, past + t], 0 visible, −1e9 padding) and the additive mask
 * of the new queries over all keys (causal among the new ones when t > 1).
 */
export function cachedMasks(B: number, t: number, cache: KVCache | null, maskData: Float32Array | null): { keyMaskAdd: tf.Tensor2D; maskAdd: tf.Tensor4D; total: number } {
  const newKeyMask = maskData ? tf.mul(tf.sub(1, tf.tensor2d(maskData, [B, t], 'float32')), -1e9) : tf.zeros([B, t]);
  const keyMaskAdd = (cache ? tf.concat([cache.keyMaskAdd, newKeyMask], 1) : newKeyMask) as tf.Tensor2D;
  const past = cache ? cache.keys[0]!.shape[1] : 0;
  const total = past + t;
  // One new query sees every cached key; several new queries (prefill) also need the causal mask.
  const maskAdd =
    t === 1
      ? (tf.reshape(keyMaskAdd, [B, 1, 1, total]) as tf.Tensor4D)
      : (tf.add(
          tf.reshape(tf.mul(tf.sub(1, tf.slice(tf.linalg.bandPart(tf.ones([total, total]), -1, 0), [past, 0], [t, total])), -1e9), [1, 1, t, total]),
          tf.reshape(keyMaskAdd, [B, 1, 1, total]),
        ) as tf.Tensor4D);
  return { keyMaskAdd, maskAdd, total };
}

/**
 * How a KV-cached pass attends its t new queries, chosen once per forwardCached call (every layer
 * of the call uses the same): `wasm-attend-one`, one new query per row by the wasm SIMD kernel
 * (attend-one.c) at every batch size (measured against the JS kernel at batch 1: tiny +35%,
 * small +17% tokens per CPU-second); `js-attend-one`, the JS-loop kernel (js-decode-ops.ts) where
 * that one cannot bind to tfjs's heap and the batch is narrow, so per-kernel overhead dominates;
 * `prefill`, no cache yet: the training attention over the prompt (one wasm kernel for all heads
 * on wasm); `tf-ops`, several new queries over a cache, or one where no kernel applies.
 */
export type CachedAttention = 'wasm-attend-one' | 'js-attend-one' | 'prefill' | 'tf-ops';

export function cachedAttentionFor(pass: { newTokens: number; cached: boolean; headDim: number; jsAttendOne: boolean }): CachedAttention {
  if (pass.newTokens === 1 && attendOneAvailable(pass.headDim)) return 'wasm-attend-one';
  if (pass.newTokens === 1 && pass.jsAttendOne) return 'js-attend-one';
  if (!pass.cached) return 'prefill';
  return 'tf-ops';
}

/** The new queries and the cached keys and values ([B·H, ·, hd]) one layer attends with. */
export interface CachedAttentionInput {
  q: tf.Tensor3D;
  k: tf.Tensor3D;
  v: tf.Tensor3D;
  /** The fused [B·t, 3·H·hd] q|k|v of the new tokens (k and v repeated to the query heads), for the prefill. */
  qkv: () => tf.Tensor2D;
}

/** One layer's attention by the kernel chosen for the pass; returns [B·t, H·hd]. */
export function attendWith(kernel: CachedAttention, a: CachedAttentionInput, masks: { keyMaskAdd: tf.Tensor2D; maskAdd: tf.Tensor4D; total: number }, B: number, H: number, t: number, hd: number): tf.Tensor2D {
  switch (kernel) {
    case 'wasm-attend-one':
      return attendOne(a.q, a.k, a.v, masks.keyMaskAdd, H);
    case 'js-attend-one':
      return fusedAttendOne(a.q, a.k, a.v, masks.keyMaskAdd, H, 1 / Math.sqrt(hd));
    case 'prefill':
      return causalAttention(a.qkv(), B, t, H, masks.maskAdd);
    case 'tf-ops':
      return attendCached(a.q, a.k, a.v, masks.maskAdd, B, H, t, masks.total, hd);
  }
}

/** Attention of t new queries over `total` cached keys; returns [B·t, H·hd]. */
export function attendCached(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, maskAdd: tf.Tensor4D, B: number, H: number, t: number, total: number, hd: number): tf.Tensor2D {
  const scale = 1 / Math.sqrt(hd);
  let o: tf.Tensor3D;
  if (t === 1) {
    // One query per row: broadcast multiply-and-sum beats B·H tiny matMuls.
    const s = tf.mul(tf.sum(tf.mul(q, k), -1), scale); // [BH, total]
    const p = tf.softmax(tf.reshape(tf.add(tf.reshape(s, [B, H, total]), tf.reshape(maskAdd, [B, 1, total])), [B * H, total]));
    o = tf.sum(tf.mul(tf.reshape(p, [B * H, total, 1]), v), 1, true) as tf.Tensor3D; // [BH,1,hd]
  } else {
    const kT = tf.transpose(k, [0, 2, 1]) as tf.Tensor3D;
    const s = tf.mul(tf.matMul(q, kT), scale);
    const p = tf.softmax(tf.reshape(tf.add(tf.reshape(s, [B, H, t, total]), maskAdd), [B * H, t, total])) as tf.Tensor3D;
    o = tf.matMul(p, v);
  }
  return tf.reshape(tf.transpose(tf.reshape(o, [B, H, t, hd]), [0, 2, 1, 3]), [B * t, H * hd]) as tf.Tensor2D;
}

/** What a family's layers see of one KV-cached pass (cachedForward). */
export interface CachedStep {
  B: number;
  /** New tokens per row. */
  t: number;
  /** Position ids of the new tokens, [B·t]. */
  pos: Int32Array;
  masks: { keyMaskAdd: tf.Tensor2D; maskAdd: tf.Tensor4D; total: number };
  /** Layer i's keys and values [B·H, total, hd]: the cache's followed by the new ones (kept for the next pass). */
  extend(layer: number, kNew: tf.Tensor3D, vNew: tf.Tensor3D): { k: tf.Tensor3D; v: tf.Tensor3D };
}

/**
 * The KV-cached forward every family shares: positions and masks of the new tokens `ids` [B,t],
 * the family's layers (`layers`, given the step, returns the last layer's output [B·t, C]), then
 * the final norm and the logits of each row's last new position [B,V]. With `cache` null it
 * starts one (prefill); the previous cache's keys and values are disposed, superseded by the new.
 * Inference only.
 */
export function cachedForward(
  ids: tf.Tensor2D,
  cache: KVCache | null,
  attentionMask: tf.Tensor2D | undefined,
  model: { nPositions: number; width: number; outputWeight: () => tf.Tensor },
  pass: { layers(step: CachedStep): tf.Tensor2D; finalNorm(x: tf.Tensor2D): tf.Tensor2D },
): { logits: tf.Tensor2D; cache: KVCache } {
  const [B, t] = ids.shape;
  const C = model.width;
  const maskData = attentionMask ? (attentionMask.dataSync() as Float32Array) : null;
  const { pos, nextPosition } = cachedPositions(B, t, model.nPositions, cache, maskData);
  const out = tf.tidy(() => {
    // The output matrix, transposed once per generation rather than once per token.
    const wteT = cache ? cache.wteT : (tf.transpose(model.outputWeight()) as tf.Tensor2D);
    const masks = cachedMasks(B, t, cache, maskData);
    const keys: tf.Tensor3D[] = [];
    const values: tf.Tensor3D[] = [];
    const extend = (i: number, kNew: tf.Tensor3D, vNew: tf.Tensor3D) => {
      const k = cache ? (tf.concat([cache.keys[i]!, kNew], 1) as tf.Tensor3D) : kNew;
      const v = cache ? (tf.concat([cache.values[i]!, vNew], 1) as tf.Tensor3D) : vNew;
      keys.push(k);
      values.push(v);
      return { k, v };
    };
    const x = pass.layers({ B, t, pos, masks, extend });
    const last = t === 1 ? x : (tf.reshape(tf.slice(tf.reshape(x, [B, t, C]), [0, t - 1, 0], [B, 1, C]), [B, C]) as tf.Tensor2D);
    const logits = tf.matMul(pass.finalNorm(last), wteT);
    return { logits, keys, values, keyMaskAdd: masks.keyMaskAdd, ...(cache ? {} : { wteT }) };
  });
  // The previous pass's keys/values are superseded (concat copied them); wteT carries over.
  if (cache) tf.dispose([...cache.keys, ...cache.values, cache.keyMaskAdd]);
  const wteT = cache ? cache.wteT : (out.wteT as tf.Tensor2D);
  return { logits: out.logits as tf.Tensor2D, cache: { keys: out.keys, values: out.values, keyMaskAdd: out.keyMaskAdd, wteT, nextPosition } };
}

/** [B·t, H·hd] → [B·H, t, hd], the cache's layout. */
export function toCacheHeads(z: tf.Tensor, B: number, t: number, H: number, hd: number): tf.Tensor3D {
  return (t === 1 ? tf.reshape(z, [B * H, 1, hd]) : tf.reshape(tf.transpose(tf.reshape(z, [B, t, H, hd]), [0, 2, 1, 3]), [B * H, t, hd])) as tf.Tensor3D;
}

export function disposeCache(cache: KVCache): void {
  tf.dispose([...cache.keys, ...cache.values, cache.keyMaskAdd, cache.wteT]);
}

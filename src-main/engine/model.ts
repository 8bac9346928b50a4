// GPT-2, exactly as Hugging Face's GPT2LMHeadModel computes it (learned positions, pre-LayerNorm,
// `gelu_new`, tied input/output embeddings, causal attention), with HF parameter names and
// layouts so imported checkpoints give PyTorch's log-probabilities. Activations are kept 2-D
// ([B·T, C]) and every heavy op comes from fast-ops.ts, whose gradients avoid tfjs-wasm's slow
// paths. Plus ScalarHead, the one-number-per-token head of reward and value models.
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { attentionMaskAdd, causalAttention, embedding, gelu, layerNorm, linear, targetLogprobs, tiedLogits } from './fast-ops.js';
import { attendOne, attendOneAvailable } from './attend-one-kernel.js';
import { decodeKernelsAvailable, fusedAttendOne, fusedGelu, fusedLayerNorm } from './decode-kernels.js';
import { Rng } from './rng.js';

export const gptConfigSchema = z
  .object({
    vocab_size: z.number().int().min(2),
    n_positions: z.number().int().min(1),
    n_embd: z.number().int().min(1),
    n_layer: z.number().int().min(1),
    n_head: z.number().int().min(1),
    layer_norm_epsilon: z.number().positive().default(1e-5),
    /** Residual and embedding dropout while training; 0 (off) by default, as RLHF wants. */
    dropout: z.number().min(0).max(0.9).default(0),
  })
  .strict()
  .refine((c) => c.n_embd % c.n_head === 0, { message: 'n_embd must be divisible by n_head', path: ['n_embd'] });

export type GPTConfig = z.infer<typeof gptConfigSchema>;

/** A tiny model that trains in minutes on a laptop CPU. */
export function defaultGPTConfig(): GPTConfig {
  return { vocab_size: 2048, n_positions: 256, n_embd: 256, n_layer: 4, n_head: 4, layer_norm_epsilon: 1e-5, dropout: 0 };
}

/** HF GPT-2 parameter names (without the `transformer.` prefix) and shapes, in a fixed order. */
export function parameterShapes(c: GPTConfig): Array<[string, number[]]> {
  const C = c.n_embd;
  const out: Array<[string, number[]]> = [
    ['wte.weight', [c.vocab_size, C]],
    ['wpe.weight', [c.n_positions, C]],
  ];
  for (let i = 0; i < c.n_layer; i++) {
    const p = `h.${i}.`;
    out.push(
      [p + 'ln_1.weight', [C]],
      [p + 'ln_1.bias', [C]],
      [p + 'attn.c_attn.weight', [C, 3 * C]],
      [p + 'attn.c_attn.bias', [3 * C]],
      [p + 'attn.c_proj.weight', [C, C]],
      [p + 'attn.c_proj.bias', [C]],
      [p + 'ln_2.weight', [C]],
      [p + 'ln_2.bias', [C]],
      [p + 'mlp.c_fc.weight', [C, 4 * C]],
      [p + 'mlp.c_fc.bias', [4 * C]],
      [p + 'mlp.c_proj.weight', [4 * C, C]],
      [p + 'mlp.c_proj.bias', [C]],
    );
  }
  out.push(['ln_f.weight', [C]], ['ln_f.bias', [C]]);
  return out;
}

let instanceCounter = 0;

/** tf.Variable names are global in tfjs; each model instance gets its own prefix. */
function uniquePrefix(kind: string): string {
  instanceCounter += 1;
  return `${kind}${instanceCounter}_${Math.random().toString(36).slice(2, 8)}/`;
}

export interface ForwardOptions {
  /** [B,T], 1 = real token, 0 = padding (left padding). */
  attentionMask?: tf.Tensor2D;
  /** Enables dropout (when config.dropout > 0). */
  training?: boolean;
}

export interface LogprobOptions extends ForwardOptions {
  /** Logits are divided by this before the softmax (PPO scores rollouts at the sampling temperature). */
  temperature?: number;
}

/** Per-layer keys and values of the tokens seen so far: [B·H, T_past, hd] each. */
export interface KVCache {
  keys: tf.Tensor3D[];
  values: tf.Tensor3D[];
  /** Additive mask over the cached keys [B, T_past] (0 visible, −1e9 padding). */
  keyMaskAdd: tf.Tensor2D;
  /** Position id the next token of each row gets. */
  nextPosition: number[];
  /** wteᵀ [C,V] for the output logits, computed at prefill. */
  wteT: tf.Tensor2D;
}

export class GPT {
  readonly config: GPTConfig;
  private readonly params: Map<string, tf.Variable>;
  private readonly rng: Rng;

  private constructor(config: GPTConfig, values: Record<string, tf.Tensor | Float32Array>, seed: number) {
    this.config = config;
    this.rng = new Rng(seed).fork('dropout');
    const prefix = uniquePrefix('gpt');
    this.params = new Map();
    for (const [name, shape] of parameterShapes(config)) {
      const v = values[name];
      if (v === undefined) throw new Error(`missing weight "${name}"`);
      const size = shape.reduce((a, b) => a * b, 1);
      if ((v instanceof Float32Array ? v.length : v.size) !== size) {
        throw new Error(`weight "${name}" has ${v instanceof Float32Array ? v.length : v.size} values, expected shape [${shape}]`);
      }
      const t = v instanceof Float32Array ? tf.tensor(v, shape, 'float32') : tf.reshape(v, shape);
      this.params.set(name, tf.variable(t, true, prefix + name));
      t.dispose();
    }
  }

  /** A freshly initialised model (GPT-2 init: N(0, 0.02), residual projections scaled by 1/√(2·n_layer)). */
  static create(config: GPTConfig, seed: number): GPT {
    const cfg = gptConfigSchema.parse(config);
    const rng = new Rng(seed).fork('init');
    const values: Record<string, Float32Array> = {};
    const residStd = 0.02 / Math.sqrt(2 * cfg.n_layer);
    for (const [name, shape] of parameterShapes(cfg)) {
      const size = shape.reduce((a, b) => a * b, 1);
      if (name.endsWith('ln_1.weight') || name.endsWith('ln_2.weight') || name === 'ln_f.weight') values[name] = new Float32Array(size).fill(1);
      else if (name.endsWith('.bias')) values[name] = new Float32Array(size);
      else values[name] = rng.normalArray(size, name.endsWith('c_proj.weight') ? residStd : 0.02);
    }
    return new GPT(cfg, values, seed);
  }

  /** A model from HF GPT-2 weights (names without `transformer.`; Conv1D layout [in,out]). */
  static fromWeights(config: GPTConfig, weights: Record<string, Float32Array>, seed = 0): GPT {
    return new GPT(gptConfigSchema.parse(config), weights, seed);
  }

  /** Copies of all weights by HF name. */
  getWeights(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const [name, v] of this.params) out[name] = v.dataSync() as Float32Array;
    return out;
  }

  /** Overwrite all weights in place (e.g. to reset a policy to its SFT start). */
  setWeights(weights: Record<string, Float32Array>): void {
    for (const [name, v] of this.params) {
      const w = weights[name];
      if (!w || w.length !== v.size) throw new Error(`weight "${name}" missing or of wrong size`);
      tf.tidy(() => v.assign(tf.tensor(w, v.shape, 'float32')));
    }
  }

  variables(): tf.Variable[] {
    return [...this.params.values()];
  }

  /** Variables by HF name (stable keys for optimizer state across processes). */
  namedVariables(): Record<string, tf.Variable> {
    return Object.fromEntries(this.params);
  }

  parameterCount(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }

  private dropout(x: tf.Tensor2D, training: boolean | undefined): tf.Tensor2D {
    const rate = this.config.dropout;
    if (!training || rate === 0) return x;
    return tf.dropout(x, rate, undefined, this.rng.seed()) as tf.Tensor2D;
  }

  /** Position ids: cumsum(mask) − 1 per row (0 at padding), or 0..T−1 without a mask. */
  private positionIds(batch: number, seqLen: number, attentionMask?: tf.Tensor2D): tf.Tensor1D {
    if (seqLen > this.config.n_positions) throw new Error(`sequence of ${seqLen} tokens exceeds n_positions ${this.config.n_positions}`);
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
    return tf.tensor1d(pos, 'int32');
  }

  /** Final hidden states [B,T,C] (after ln_f). */
  hidden(ids: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    const [B, T] = ids.shape;
    const { n_embd: C, n_layer, n_head, layer_norm_epsilon: eps } = this.config;
    return tf.tidy(() => {
      const flatIds = tf.reshape(tf.cast(ids, 'int32'), [-1]) as tf.Tensor1D;
      const pos = this.positionIds(B, T, opts.attentionMask);
      const mask = attentionMaskAdd(B, T, opts.attentionMask);
      let x = this.dropout(tf.add(embedding(this.p('wte.weight') as tf.Tensor2D, flatIds), embedding(this.p('wpe.weight') as tf.Tensor2D, pos)), opts.training);
      for (let i = 0; i < n_layer; i++) {
        const h = `h.${i}.`;
        const a = layerNorm(x, this.p(h + 'ln_1.weight') as tf.Tensor1D, this.p(h + 'ln_1.bias') as tf.Tensor1D, eps);
        const qkv = linear(a, this.p(h + 'attn.c_attn.weight') as tf.Tensor2D, this.p(h + 'attn.c_attn.bias') as tf.Tensor1D);
        const att = causalAttention(qkv, B, T, n_head, mask);
        x = tf.add(x, this.dropout(linear(att, this.p(h + 'attn.c_proj.weight') as tf.Tensor2D, this.p(h + 'attn.c_proj.bias') as tf.Tensor1D), opts.training));
        const m = layerNorm(x, this.p(h + 'ln_2.weight') as tf.Tensor1D, this.p(h + 'ln_2.bias') as tf.Tensor1D, eps);
        const f = gelu(linear(m, this.p(h + 'mlp.c_fc.weight') as tf.Tensor2D, this.p(h + 'mlp.c_fc.bias') as tf.Tensor1D));
        x = tf.add(x, this.dropout(linear(f, this.p(h + 'mlp.c_proj.weight') as tf.Tensor2D, this.p(h + 'mlp.c_proj.bias') as tf.Tensor1D), opts.training));
      }
      x = layerNorm(x, this.p('ln_f.weight') as tf.Tensor1D, this.p('ln_f.bias') as tf.Tensor1D, eps);
      return tf.reshape(x, [B, T, C]) as tf.Tensor3D;
    });
  }

  /** Next-token logits [B,T,V] from hidden states (tied embedding: hidden · wteᵀ). */
  logits(hidden: tf.Tensor3D): tf.Tensor3D {
    const [B, T, C] = hidden.shape;
    return tf.tidy(() => {
      return tf.reshape(tiedLogits(tf.reshape(hidden, [B * T, C]) as tf.Tensor2D, this.p('wte.weight') as tf.Tensor2D), [B, T, this.config.vocab_size]) as tf.Tensor3D;
    });
  }

  /** [B, T−1]: log p(ids[t+1] | ids[..t]). Differentiable. */
  tokenLogprobs(ids: tf.Tensor2D, opts: LogprobOptions = {}): tf.Tensor2D {
    const [B, T] = ids.shape;
    return tf.tidy(() => {
      const h = this.hidden(ids, opts);
      const C = this.config.n_embd;
      const hs = tf.reshape(tf.slice(h, [0, 0, 0], [B, T - 1, C]), [B * (T - 1), C]) as tf.Tensor2D;
      let logits = tiedLogits(hs, this.p('wte.weight') as tf.Tensor2D);
      if (opts.temperature !== undefined && opts.temperature !== 1) logits = tf.div(logits, opts.temperature);
      const targets = tf.reshape(tf.slice(tf.cast(ids, 'int32'), [0, 1], [B, T - 1]), [-1]) as tf.Tensor1D;
      return tf.reshape(targetLogprobs(logits, targets), [B, T - 1]) as tf.Tensor2D;
    });
  }

  /**
   * Inference-only forward of new tokens `ids` [B,t] given (and extending) a KV cache; returns the
   * logits of the last new position [B,V]. With `cache` null it starts one (prefill).
   * `attentionMask` [B,t] marks padding among the new tokens (left-padded prompts). Uses plain
   * (non-custom-gradient) ops: no tape, no saved copies, fewer kernels per generated token.
   */
  forwardCached(ids: tf.Tensor2D, cache: KVCache | null, attentionMask?: tf.Tensor2D): { logits: tf.Tensor2D; cache: KVCache } {
    const [B, t] = ids.shape;
    const { n_embd: C, n_layer, n_head: H, layer_norm_epsilon: eps } = this.config;
    const hd = C / H;
    const maskData = attentionMask ? attentionMask.dataSync() : null;
    const startPos = cache ? cache.nextPosition : new Array<number>(B).fill(0);
    const pos = new Int32Array(B * t);
    const nextPosition = startPos.slice();
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < t; j++) {
        const real = !maskData || maskData[b * t + j]! > 0;
        pos[b * t + j] = Math.max(0, Math.min(nextPosition[b]! - (real ? 0 : 1), this.config.n_positions - 1));
        if (real) nextPosition[b]! += 1;
      }
    }
    if (Math.max(...nextPosition) > this.config.n_positions) throw new Error(`sequence exceeds n_positions ${this.config.n_positions}`);
    const out = tf.tidy(() => {
      // The tied output matrix, transposed once per generation rather than once per token.
      const wteT = cache ? cache.wteT : (tf.transpose(this.p('wte.weight')) as tf.Tensor2D);
      const newKeyMask = maskData ? tf.mul(tf.sub(1, tf.tensor2d(maskData as Float32Array, [B, t], 'float32')), -1e9) : tf.zeros([B, t]);
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
      const flatIds = tf.reshape(tf.cast(ids, 'int32'), [-1]) as tf.Tensor1D;
      let x = tf.add(tf.gather(this.p('wte.weight'), flatIds), tf.gather(this.p('wpe.weight'), tf.tensor1d(pos, 'int32'))) as tf.Tensor2D;
      const keys: tf.Tensor3D[] = [];
      const values: tf.Tensor3D[] = [];
      const toHeads = (z: tf.Tensor) =>
        (t === 1 ? tf.reshape(z, [B * H, 1, hd]) : tf.reshape(tf.transpose(tf.reshape(z, [B, t, H, hd]), [0, 2, 1, 3]), [B * H, t, hd])) as tf.Tensor3D;
      // On wasm, LayerNorm, GELU and one-query attention run as single fused kernels (decode-kernels.ts).
      const fused = decodeKernelsAvailable();
      const ln = (z: tf.Tensor2D, name: string) =>
        (fused ? fusedLayerNorm : layerNormInference)(z, this.p(name + '.weight'), this.p(name + '.bias'), eps);
      const dense = (z: tf.Tensor2D, name: string) => tf.add(tf.matMul(z, this.p(name + '.weight') as tf.Tensor2D), this.p(name + '.bias')) as tf.Tensor2D;
      for (let i = 0; i < n_layer; i++) {
        const h = `h.${i}.`;
        const qkv = dense(ln(x, h + 'ln_1'), h + 'attn.c_attn');
        const q = toHeads(tf.slice(qkv, [0, 0], [-1, C]));
        const kNew = toHeads(tf.slice(qkv, [0, C], [-1, C]));
        const vNew = toHeads(tf.slice(qkv, [0, 2 * C], [-1, C]));
        const k = cache ? (tf.concat([cache.keys[i]!, kNew], 1) as tf.Tensor3D) : kNew;
        const v = cache ? (tf.concat([cache.values[i]!, vNew], 1) as tf.Tensor3D) : vNew;
        keys.push(k);
        values.push(v);
        // One new query: the wasm SIMD kernel (attend-one-kernel.ts) at every batch size (measured
        // against the JS kernel at batch 1: tiny +35%, small +17% tokens per CPU-second). Where it
        // cannot bind to tfjs's heap, the JS kernel wins while per-kernel overhead dominates
        // (batch 1); with many rows the vectorised wasm ops are faster. The prefill (no cache yet)
        // is the training attention on the prompt: one wasm kernel for all heads on wasm.
        const att =
          t === 1 && attendOneAvailable(hd)
            ? attendOne(q, k, v, keyMaskAdd, H)
            : fused && t === 1 && B * C <= FUSED_ATTENTION_MAX_WIDTH
              ? fusedAttendOne(q, k, v, keyMaskAdd, H, 1 / Math.sqrt(hd))
              : !cache
                ? causalAttention(qkv, B, t, H, maskAdd)
                : attendCached(q, k, v, maskAdd, B, H, t, total, hd);
        x = tf.add(x, dense(att, h + 'attn.c_proj'));
        const m = dense(ln(x, h + 'ln_2'), h + 'mlp.c_fc');
        x = tf.add(x, dense(fused && m.size <= FUSED_GELU_MAX_SIZE ? fusedGelu(m) : geluInference(m), h + 'mlp.c_proj'));
      }
      const last = t === 1 ? x : (tf.reshape(tf.slice(tf.reshape(x, [B, t, C]), [0, t - 1, 0], [B, 1, C]), [B, C]) as tf.Tensor2D);
      const logits = tf.matMul(ln(last, 'ln_f'), wteT);
      return { logits, keys, values, keyMaskAdd, ...(cache ? {} : { wteT }) };
    });
    // The previous step's keys/values are superseded (concat copied them); wteT carries over.
    if (cache) tf.dispose([...cache.keys, ...cache.values, cache.keyMaskAdd]);
    const wteT = cache ? cache.wteT : (out.wteT as tf.Tensor2D);
    return { logits: out.logits as tf.Tensor2D, cache: { keys: out.keys, values: out.values, keyMaskAdd: out.keyMaskAdd, wteT, nextPosition } };
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}

/** Above this many query values (B·C) one-query attention uses tf ops, not the JS kernel. */
const FUSED_ATTENTION_MAX_WIDTH = 1024;

/**
 * Above this many values GELU uses tf ops, not the JS kernel: one Math.exp per value costs ~14 ns
 * in JS, while wasm's vectorised Sigmoid amortises the five kernels' overhead from ~3,000 values
 * on (measured: [16,1536] 335 → 50 µs, a 512-token prefill [512,1536] 11.4 → 1.5 ms; [1,1536] JS
 * 37 µs vs 46 µs).
 */
const FUSED_GELU_MAX_SIZE = 2048;

/** Attention of t new queries over `total` cached keys; returns [B·t, C]. */
function attendCached(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, maskAdd: tf.Tensor4D, B: number, H: number, t: number, total: number, hd: number): tf.Tensor2D {
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

export function disposeCache(cache: KVCache): void {
  tf.dispose([...cache.keys, ...cache.values, cache.keyMaskAdd, cache.wteT]);
}

/** LayerNorm over the last axis without a custom gradient (inference only). */
function layerNormInference(x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor2D {
  const mean = tf.mean(x, -1, true);
  const xc = tf.sub(x, mean);
  const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), eps));
  return tf.add(tf.mul(tf.mul(xc, rstd), gamma), beta) as tf.Tensor2D;
}

/** gelu_new as x·σ(2u) (see fast-ops.ts), inference only. */
function geluInference(x: tf.Tensor2D): tf.Tensor2D {
  const c = Math.sqrt(2 / Math.PI);
  return tf.mul(x, tf.sigmoid(tf.mul(x, tf.add(tf.mul(tf.square(x), 2 * c * 0.044715), 2 * c)))) as tf.Tensor2D;
}

/** One scalar per token (reward or value), a linear map of the final hidden state. */
export class ScalarHead {
  private readonly w: tf.Variable; // [C,1]
  private readonly b: tf.Variable; // [1]
  readonly nEmbd: number;

  private constructor(nEmbd: number, w: Float32Array, b: Float32Array) {
    const prefix = uniquePrefix('head');
    this.nEmbd = nEmbd;
    this.w = tf.variable(tf.tensor2d(w, [nEmbd, 1]), true, prefix + 'score.weight');
    this.b = tf.variable(tf.tensor1d(b), true, prefix + 'score.bias');
  }

  static create(nEmbd: number, seed: number): ScalarHead {
    const w = new Rng(seed).fork('scalar-head').normalArray(nEmbd, 1 / Math.sqrt(nEmbd + 1));
    return new ScalarHead(nEmbd, w, new Float32Array(1));
  }

  /** `score.weight` is [1,C] (torch Linear layout, same values as our [C,1]); `score.bias` [1]. */
  static fromWeights(weights: Record<string, Float32Array>): ScalarHead {
    const w = weights['score.weight'];
    if (!w) throw new Error('missing weight "score.weight"');
    return new ScalarHead(w.length, w, weights['score.bias'] ?? new Float32Array(1));
  }

  getWeights(): Record<string, Float32Array> {
    return { 'score.weight': this.w.dataSync() as Float32Array, 'score.bias': this.b.dataSync() as Float32Array };
  }

  /** hidden [B,T,C] → [B,T]. */
  apply(hidden: tf.Tensor3D): tf.Tensor2D {
    const [B, T, C] = hidden.shape;
    return tf.tidy(() => tf.reshape(linear(tf.reshape(hidden, [B * T, C]) as tf.Tensor2D, this.w as tf.Tensor2D, this.b as tf.Tensor1D), [B, T]) as tf.Tensor2D);
  }

  variables(): tf.Variable[] {
    return [this.w, this.b];
  }

  namedVariables(): Record<string, tf.Variable> {
    return { 'score.weight': this.w, 'score.bias': this.b };
  }

  dispose(): void {
    this.w.dispose();
    this.b.dispose();
  }
}

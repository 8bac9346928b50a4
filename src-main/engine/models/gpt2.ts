// GPT-2, exactly as Hugging Face's GPT2LMHeadModel computes it (learned positions, pre-LayerNorm,
// `gelu_new`, tied input/output embeddings, causal attention), with HF parameter names and
// layouts so imported checkpoints give PyTorch's log-probabilities. Activations are kept 2-D
// ([B·T, C]) and every heavy op comes from fast-ops.ts, whose gradients avoid tfjs-wasm's slow
// paths. On wasm every pass has a compiled kernel: attention and LayerNorm/GELU/cross-entropy in
// training, and the whole decode step in generation (decode-kernel.ts, used by generate.ts).
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { attentionMaskAdd, causalAttention, embedding, gelu, layerNorm, linear } from '../kernels/fast-ops.js';
import { attendOne, attendOneAvailable } from '../kernels/attend-one-kernel.js';
import { decodeKernelsAvailable, fusedAttendOne, fusedGelu, fusedLayerNorm } from '../kernels/decode-kernels.js';
import { attentionKernelAvailable } from '../kernels/attention-kernel.js';
import type { Rng } from '../rng.js';
import { attendCached, cachedMasks, cachedPositions, positionIds, toCacheHeads, type EnginePath, type FamilyContext, type ForwardOptions, type KVCache, type ModelFamily } from './family.js';

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

/** Above this many query values (B·C) one-query attention uses tf ops, not the JS kernel. */
const FUSED_ATTENTION_MAX_WIDTH = 1024;

/**
 * Above this many values GELU uses tf ops, not the JS kernel: one Math.exp per value costs ~14 ns
 * in JS, while wasm's vectorised Sigmoid amortises the five kernels' overhead from ~3,000 values
 * on (measured: [16,1536] 335 → 50 µs, a 512-token prefill [512,1536] 11.4 → 1.5 ms; [1,1536] JS
 * 37 µs vs 46 µs).
 */
const FUSED_GELU_MAX_SIZE = 2048;

export const gpt2Family: ModelFamily<GPTConfig> = {
  id: 'gpt2',
  parameterShapes,

  /** GPT-2 init: N(0, 0.02), residual projections scaled by 1/√(2·n_layer). */
  initialWeights(cfg: GPTConfig, rng: Rng): Record<string, Float32Array> {
    const values: Record<string, Float32Array> = {};
    const residStd = 0.02 / Math.sqrt(2 * cfg.n_layer);
    for (const [name, shape] of parameterShapes(cfg)) {
      const size = shape.reduce((a, b) => a * b, 1);
      if (name.endsWith('ln_1.weight') || name.endsWith('ln_2.weight') || name === 'ln_f.weight') values[name] = new Float32Array(size).fill(1);
      else if (name.endsWith('.bias')) values[name] = new Float32Array(size);
      else values[name] = rng.normalArray(size, name.endsWith('c_proj.weight') ? residStd : 0.02);
    }
    return values;
  },

  outputWeight: () => 'wte.weight',

  hidden(ctx: FamilyContext, config: GPTConfig, ids: tf.Tensor2D, opts: ForwardOptions): tf.Tensor3D {
    const [B, T] = ids.shape;
    const { n_embd: C, n_layer, n_head, layer_norm_epsilon: eps } = config;
    const p = (name: string) => ctx.p(name);
    return tf.tidy(() => {
      const flatIds = tf.reshape(tf.cast(ids, 'int32'), [-1]) as tf.Tensor1D;
      const pos = tf.tensor1d(positionIds(B, T, config.n_positions, opts.attentionMask), 'int32');
      const mask = attentionMaskAdd(B, T, opts.attentionMask);
      let x = ctx.dropout(tf.add(embedding(p('wte.weight') as tf.Tensor2D, flatIds), embedding(p('wpe.weight') as tf.Tensor2D, pos)), opts.training);
      for (let i = 0; i < n_layer; i++) {
        const h = `h.${i}.`;
        const a = layerNorm(x, p(h + 'ln_1.weight') as tf.Tensor1D, p(h + 'ln_1.bias') as tf.Tensor1D, eps);
        const qkv = linear(a, p(h + 'attn.c_attn.weight') as tf.Tensor2D, p(h + 'attn.c_attn.bias') as tf.Tensor1D);
        const att = causalAttention(qkv, B, T, n_head, mask);
        x = tf.add(x, ctx.dropout(linear(att, p(h + 'attn.c_proj.weight') as tf.Tensor2D, p(h + 'attn.c_proj.bias') as tf.Tensor1D), opts.training));
        const m = layerNorm(x, p(h + 'ln_2.weight') as tf.Tensor1D, p(h + 'ln_2.bias') as tf.Tensor1D, eps);
        const f = gelu(linear(m, p(h + 'mlp.c_fc.weight') as tf.Tensor2D, p(h + 'mlp.c_fc.bias') as tf.Tensor1D));
        x = tf.add(x, ctx.dropout(linear(f, p(h + 'mlp.c_proj.weight') as tf.Tensor2D, p(h + 'mlp.c_proj.bias') as tf.Tensor1D), opts.training));
      }
      x = layerNorm(x, p('ln_f.weight') as tf.Tensor1D, p('ln_f.bias') as tf.Tensor1D, eps);
      return tf.reshape(x, [B, T, C]) as tf.Tensor3D;
    });
  },

  /**
   * Inference-only forward with a KV cache. Uses plain (non-custom-gradient) ops: no tape, no
   * saved copies, fewer kernels per generated token.
   */
  forwardCached(ctx: FamilyContext, config: GPTConfig, ids: tf.Tensor2D, cache: KVCache | null, attentionMask?: tf.Tensor2D): { logits: tf.Tensor2D; cache: KVCache } {
    const [B, t] = ids.shape;
    const { n_embd: C, n_layer, n_head: H, layer_norm_epsilon: eps } = config;
    const hd = C / H;
    const p = (name: string) => ctx.p(name);
    const maskData = attentionMask ? (attentionMask.dataSync() as Float32Array) : null;
    const { pos, nextPosition } = cachedPositions(B, t, config.n_positions, cache, maskData);
    const out = tf.tidy(() => {
      // The tied output matrix, transposed once per generation rather than once per token.
      const wteT = cache ? cache.wteT : (tf.transpose(p('wte.weight')) as tf.Tensor2D);
      const { keyMaskAdd, maskAdd, total } = cachedMasks(B, t, cache, maskData);
      const flatIds = tf.reshape(tf.cast(ids, 'int32'), [-1]) as tf.Tensor1D;
      let x = tf.add(tf.gather(p('wte.weight'), flatIds), tf.gather(p('wpe.weight'), tf.tensor1d(pos, 'int32'))) as tf.Tensor2D;
      const keys: tf.Tensor3D[] = [];
      const values: tf.Tensor3D[] = [];
      const toHeads = (z: tf.Tensor) => toCacheHeads(z, B, t, H, hd);
      // On wasm, LayerNorm, GELU and one-query attention run as single fused kernels (decode-kernels.ts).
      const fused = decodeKernelsAvailable();
      const ln = (z: tf.Tensor2D, name: string) => (fused ? fusedLayerNorm : layerNormInference)(z, p(name + '.weight'), p(name + '.bias'), eps);
      const dense = (z: tf.Tensor2D, name: string) => tf.add(tf.matMul(z, p(name + '.weight') as tf.Tensor2D), p(name + '.bias')) as tf.Tensor2D;
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
  },

  enginePath(): EnginePath {
    const wasm = tf.getBackend() === 'wasm';
    return {
      training: wasm && attentionKernelAvailable() ? 'compiled wasm kernels (attention, LayerNorm, GELU, cross-entropy) and tfjs matMuls' : `tfjs ops on ${tf.getBackend()}`,
      generation: wasm ? 'the compiled GPT-2 decoder (kernels/decode.c) where the weights fit wasm32 memory, else tfjs ops' : `tfjs ops on ${tf.getBackend()} with a KV cache`,
    };
  },
};

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

// GPT-2, exactly as Hugging Face's GPT2LMHeadModel computes it (learned positions, pre-LayerNorm,
// `gelu_new`, tied input/output embeddings, causal attention), with HF parameter names and
// layouts so imported checkpoints give PyTorch's log-probabilities. Activations are kept 2-D
// ([B·T, C]) and every heavy op comes from fast-ops.ts, whose gradients avoid tfjs-wasm's slow
// paths. On wasm every pass has a compiled kernel: attention and LayerNorm/GELU/cross-entropy in
// training, and the whole decode step in generation (compiled-decoder.ts, used by generate.ts).
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { attentionMaskAdd, causalAttention, embedding, gelu, layerNorm, linear } from '../kernels/fast-ops.js';
import { jsDecodeOpsAvailable, fusedGelu, fusedLayerNorm } from '../kernels/js-decode-ops.js';
import { attentionKernelAvailable } from '../kernels/attention-kernel.js';
import type { Rng } from '../rng.js';
import { attendWith, cachedAttentionFor, cachedForward, positionIds, toCacheHeads, type EnginePath, type FamilyContext, type ForwardOptions, type KVCache, type ModelFamily } from './family.js';

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

/**
 * The ops GPT-2's layers run with, chosen once per pass: training's differentiable ones
 * (fast-ops.ts) or the decode step's inference ones. `name` is a parameter prefix (`h.0.ln_1`).
 */
interface Gpt2Ops {
  layerNorm(x: tf.Tensor2D, name: string): tf.Tensor2D;
  dense(x: tf.Tensor2D, name: string): tf.Tensor2D;
  gelu(x: tf.Tensor2D): tf.Tensor2D;
  /** Layer i's attention from its fused q|k|v [n, 3C]: [n, C]. */
  attention(layer: number, qkv: tf.Tensor2D): tf.Tensor2D;
  /** What a residual branch goes through before it is added (dropout while training). */
  residual(x: tf.Tensor2D): tf.Tensor2D;
}

/** GPT-2's layers, the one forward of both passes: the embeddings [n, C] in, the last layer's output (before ln_f) out. */
function gpt2Layers(config: GPTConfig, x: tf.Tensor2D, ops: Gpt2Ops): tf.Tensor2D {
  for (let i = 0; i < config.n_layer; i++) {
    const h = `h.${i}.`;
    const qkv = ops.dense(ops.layerNorm(x, h + 'ln_1'), h + 'attn.c_attn');
    x = tf.add(x, ops.residual(ops.dense(ops.attention(i, qkv), h + 'attn.c_proj')));
    const f = ops.gelu(ops.dense(ops.layerNorm(x, h + 'ln_2'), h + 'mlp.c_fc'));
    x = tf.add(x, ops.residual(ops.dense(f, h + 'mlp.c_proj')));
  }
  return x;
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
    const { n_embd: C, n_head, layer_norm_epsilon: eps } = config;
    const p = (name: string) => ctx.p(name);
    return tf.tidy(() => {
      const flatIds = tf.reshape(tf.cast(ids, 'int32'), [-1]) as tf.Tensor1D;
      const pos = tf.tensor1d(positionIds(B, T, config.n_positions, opts.attentionMask), 'int32');
      const mask = attentionMaskAdd(B, T, opts.attentionMask);
      const x = ctx.dropout(tf.add(embedding(p('wte.weight') as tf.Tensor2D, flatIds), embedding(p('wpe.weight') as tf.Tensor2D, pos)), opts.training);
      const ops: Gpt2Ops = {
        layerNorm: (z, name) => layerNorm(z, p(name + '.weight') as tf.Tensor1D, p(name + '.bias') as tf.Tensor1D, eps),
        dense: (z, name) => ctx.adapt(name, z, linear(z, p(name + '.weight') as tf.Tensor2D, p(name + '.bias') as tf.Tensor1D), opts.training),
        gelu,
        attention: (_layer, qkv) => causalAttention(qkv, B, T, n_head, mask),
        residual: (z) => ctx.dropout(z, opts.training),
      };
      const out = ops.layerNorm(gpt2Layers(config, x, ops), 'ln_f');
      return tf.reshape(out, [B, T, C]) as tf.Tensor3D;
    });
  },

  /**
   * Inference-only forward with a KV cache. Uses plain (non-custom-gradient) ops: no tape, no
   * saved copies, fewer kernels per generated token.
   */
  forwardCached(ctx: FamilyContext, config: GPTConfig, ids: tf.Tensor2D, cache: KVCache | null, attentionMask?: tf.Tensor2D): { logits: tf.Tensor2D; cache: KVCache } {
    const [B, t] = ids.shape;
    const { n_embd: C, n_head: H, layer_norm_epsilon: eps } = config;
    const hd = C / H;
    const p = (name: string) => ctx.p(name);
    // The kernels of this pass, chosen once: on wasm LayerNorm, GELU (up to a size) and narrow
    // one-query attention as fused JS-loop kernels (js-decode-ops.ts), elsewhere inference tf ops.
    const fused = jsDecodeOpsAvailable();
    const norm = fused ? fusedLayerNorm : layerNormInference;
    const geluKernel = fused && B * t * 4 * C <= FUSED_GELU_MAX_SIZE ? fusedGelu : geluInference;
    const attention = cachedAttentionFor({ newTokens: t, cached: cache !== null, headDim: hd, jsAttendOne: fused && B * C <= FUSED_ATTENTION_MAX_WIDTH });
    const ln = (z: tf.Tensor2D, name: string) => norm(z, p(name + '.weight'), p(name + '.bias'), eps);
    const toHeads = (z: tf.Tensor) => toCacheHeads(z, B, t, H, hd);
    return cachedForward(ids, cache, attentionMask, { nPositions: config.n_positions, width: C, outputWeight: () => p('wte.weight') }, {
      layers: (step) => {
        const flatIds = tf.reshape(tf.cast(ids, 'int32'), [-1]) as tf.Tensor1D;
        const x0 = tf.add(tf.gather(p('wte.weight'), flatIds), tf.gather(p('wpe.weight'), tf.tensor1d(step.pos, 'int32'))) as tf.Tensor2D;
        return gpt2Layers(config, x0, {
          layerNorm: ln,
          dense: (z, name) => ctx.adapt(name, z, tf.add(tf.matMul(z, p(name + '.weight') as tf.Tensor2D), p(name + '.bias')) as tf.Tensor2D, false),
          gelu: geluKernel,
          attention: (i, qkv) => {
            const q = toHeads(tf.slice(qkv, [0, 0], [-1, C]));
            const { k, v } = step.extend(i, toHeads(tf.slice(qkv, [0, C], [-1, C])), toHeads(tf.slice(qkv, [0, 2 * C], [-1, C])));
            return attendWith(attention, { q, k, v, qkv: () => qkv }, step.masks, B, H, t, hd);
          },
          residual: (z) => z,
        });
      },
      finalNorm: (x) => ln(x, 'ln_f'),
    });
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

// The Llama family as transformers' LlamaForCausalLM / Qwen2ForCausalLM / MistralForCausalLM
// compute it: token embeddings without learned positions, pre-RMSNorm blocks, rotary position
// embeddings (default or llama3-scaled, rope_theta) on queries and keys, grouped-query attention
// (num_key_value_heads), a SwiGLU MLP, a final RMSNorm and a tied or untied output matrix;
// optional q/k/v biases (Qwen2) and o_proj bias (Llama's attention_bias).
//
// Kernels: the causal attention of training, scoring and the prompt prefill is fast-ops.ts's (on
// wasm the compiled kernels/attention.c: q and the repeated k, v are concatenated into the
// [n, 3·H·hd] layout it takes), the one-query attention of a decode step is attend-one-kernel.ts,
// and the cross-entropy is the compiled layer-ops kernel. RMSNorm, RoPE and SwiGLU are tfjs ops
// (llama-ops.ts); the whole-step compiled decoder (kernels/decode.c) implements GPT-2's layer
// only, so Llama generation runs layer by layer as tfjs ops with a KV cache.
import * as tf from '@tensorflow/tfjs';
import { attendOneAvailable } from '../kernels/attend-one-kernel.js';
import { attentionKernelAvailable } from '../kernels/attention-kernel.js';
import { attentionMaskAdd, causalAttention, embedding, linear } from '../kernels/fast-ops.js';
import type { Rng } from '../rng.js';
import { attendWith, cachedAttentionFor, cachedForward, positionIds, toCacheHeads, type EnginePath, type FamilyContext, type ForwardOptions, type KVCache, type ModelFamily } from './family.js';
import { llamaOutputWeight, llamaParameterShapes, ropeInverseFrequencies, ropeTables, type LlamaConfig } from './llama-config.js';
import { repeatKvHeads, rmsNorm, rope, swiglu } from './llama-ops.js';

/** Inverse frequencies per config object (a model's config never changes). */
const inverseFrequencies = new WeakMap<LlamaConfig, Float32Array>();

/** cos, sin [n, 1, hd] for n rows at the given positions. */
function ropeTensors(c: LlamaConfig, positions: Int32Array): { cos: tf.Tensor3D; sin: tf.Tensor3D } {
  let inv = inverseFrequencies.get(c);
  if (!inv) {
    inv = ropeInverseFrequencies(c);
    inverseFrequencies.set(c, inv);
  }
  const { cos, sin } = ropeTables(inv, positions);
  return { cos: tf.tensor3d(cos, [positions.length, 1, c.head_dim]), sin: tf.tensor3d(sin, [positions.length, 1, c.head_dim]) };
}

/** One layer's q, k, v after the projections and RoPE: q [n, H·hd], k and v [n, KV·hd]. */
function projectQkv(ctx: FamilyContext, c: LlamaConfig, layer: string, a: tf.Tensor2D, cos: tf.Tensor3D, sin: tf.Tensor3D, training: boolean | undefined): { q: tf.Tensor2D; k: tf.Tensor2D; v: tf.Tensor2D } {
  const project = (name: string) => {
    const path = layer + 'self_attn.' + name;
    return ctx.adapt(path, a, linear(a, ctx.p(path + '.weight') as tf.Tensor2D, c.qkv_bias ? (ctx.p(path + '.bias') as tf.Tensor1D) : undefined), training);
  };
  const q = project('q_proj');
  const k = project('k_proj');
  const v = project('v_proj');
  return { q: rope(q, cos, sin, c.n_head), k: rope(k, cos, sin, c.n_kv_head), v };
}

function outputProjection(ctx: FamilyContext, c: LlamaConfig, layer: string, att: tf.Tensor2D, training: boolean | undefined): tf.Tensor2D {
  const path = layer + 'self_attn.o_proj';
  return ctx.adapt(path, att, linear(att, ctx.p(path + '.weight') as tf.Tensor2D, c.o_bias ? (ctx.p(path + '.bias') as tf.Tensor1D) : undefined), training);
}

function mlp(ctx: FamilyContext, layer: string, m: tf.Tensor2D, training: boolean | undefined): tf.Tensor2D {
  const project = (name: string, x: tf.Tensor2D) => {
    const path = layer + 'mlp.' + name;
    return ctx.adapt(path, x, linear(x, ctx.p(path + '.weight') as tf.Tensor2D), training);
  };
  return project('down_proj', swiglu(project('gate_proj', m), project('up_proj', m)));
}

/** One layer's attention from its q, k, v (after RoPE), as the pass computes it: [n, H·hd]. */
type LlamaAttention = (layer: number, qkv: { q: tf.Tensor2D; k: tf.Tensor2D; v: tf.Tensor2D }) => tf.Tensor2D;

/**
 * The Llama family's layers, the one forward of both passes (training's and the KV-cached one):
 * the embeddings [n, C] in, the last layer's output (before the final norm) out. `residual` is
 * what a residual branch goes through before it is added (dropout while training).
 */
function llamaLayers(ctx: FamilyContext, c: LlamaConfig, x: tf.Tensor2D, rope: { cos: tf.Tensor3D; sin: tf.Tensor3D }, attention: LlamaAttention, residual: (z: tf.Tensor2D) => tf.Tensor2D, training: boolean | undefined): tf.Tensor2D {
  for (let i = 0; i < c.n_layer; i++) {
    const layer = `model.layers.${i}.`;
    const a = rmsNorm(x, ctx.p(layer + 'input_layernorm.weight') as tf.Tensor1D, c.rms_norm_eps);
    const att = attention(i, projectQkv(ctx, c, layer, a, rope.cos, rope.sin, training));
    x = tf.add(x, residual(outputProjection(ctx, c, layer, att, training)));
    const m = rmsNorm(x, ctx.p(layer + 'post_attention_layernorm.weight') as tf.Tensor1D, c.rms_norm_eps);
    x = tf.add(x, residual(mlp(ctx, layer, m, training)));
  }
  return x;
}

export const llamaFamily: ModelFamily<LlamaConfig> = {
  id: 'llama',
  parameterShapes: llamaParameterShapes,

  /** transformers' init: N(0, initializer_range 0.02) for every matrix, norms at 1, biases at 0. */
  initialWeights(c: LlamaConfig, rng: Rng): Record<string, Float32Array> {
    const values: Record<string, Float32Array> = {};
    for (const [name, shape] of llamaParameterShapes(c)) {
      const size = shape.reduce((a, b) => a * b, 1);
      if (name.endsWith('norm.weight')) values[name] = new Float32Array(size).fill(1);
      else if (name.endsWith('.bias')) values[name] = new Float32Array(size);
      else values[name] = rng.normalArray(size, 0.02);
    }
    return values;
  },

  outputWeight: llamaOutputWeight,

  hidden(ctx: FamilyContext, c: LlamaConfig, ids: tf.Tensor2D, opts: ForwardOptions): tf.Tensor3D {
    const [B, T] = ids.shape;
    const groups = c.n_head / c.n_kv_head;
    return tf.tidy(() => {
      const flatIds = tf.reshape(tf.cast(ids, 'int32'), [-1]) as tf.Tensor1D;
      const mask = attentionMaskAdd(B, T, opts.attentionMask);
      const x0 = ctx.dropout(embedding(ctx.p('model.embed_tokens.weight') as tf.Tensor2D, flatIds), opts.training);
      const attention: LlamaAttention = (_layer, { q, k, v }) =>
        causalAttention(tf.concat([q, repeatKvHeads(k, c.n_kv_head, groups), repeatKvHeads(v, c.n_kv_head, groups)], 1), B, T, c.n_head, mask);
      const x = llamaLayers(ctx, c, x0, ropeTensors(c, positionIds(B, T, c.n_positions, opts.attentionMask)), attention, (z) => ctx.dropout(z, opts.training), opts.training);
      const out = rmsNorm(x, ctx.p('model.norm.weight') as tf.Tensor1D, c.rms_norm_eps);
      return tf.reshape(out, [B, T, c.n_embd]) as tf.Tensor3D;
    });
  },

  /** Keys and values are cached after RoPE, repeated to the query heads (the one-query kernel's layout). */
  forwardCached(ctx: FamilyContext, c: LlamaConfig, ids: tf.Tensor2D, cache: KVCache | null, attentionMask?: tf.Tensor2D): { logits: tf.Tensor2D; cache: KVCache } {
    const [B, t] = ids.shape;
    const H = c.n_head;
    const hd = c.head_dim;
    const groups = c.n_head / c.n_kv_head;
    // The attention kernel of this pass, chosen once (there is no JS-loop one-query kernel for this family).
    const kernel = cachedAttentionFor({ newTokens: t, cached: cache !== null, headDim: hd, jsAttendOne: false });
    return cachedForward(ids, cache, attentionMask, { nPositions: c.n_positions, width: c.n_embd, outputWeight: () => ctx.p(llamaOutputWeight(c)) }, {
      layers: (step) => {
        const x0 = tf.gather(ctx.p('model.embed_tokens.weight'), tf.reshape(tf.cast(ids, 'int32'), [-1])) as tf.Tensor2D;
        const attention: LlamaAttention = (i, proj) => {
          const kRep = repeatKvHeads(proj.k, c.n_kv_head, groups);
          const vRep = repeatKvHeads(proj.v, c.n_kv_head, groups);
          const q = toCacheHeads(proj.q, B, t, H, hd);
          const { k, v } = step.extend(i, toCacheHeads(kRep, B, t, H, hd), toCacheHeads(vRep, B, t, H, hd));
          return attendWith(kernel, { q, k, v, qkv: () => tf.concat([proj.q, kRep, vRep], 1) }, step.masks, B, H, t, hd);
        };
        return llamaLayers(ctx, c, x0, ropeTensors(c, step.pos), attention, (z) => z, false);
      },
      finalNorm: (x) => rmsNorm(x, ctx.p('model.norm.weight') as tf.Tensor1D, c.rms_norm_eps),
    });
  },

  enginePath(c: LlamaConfig): EnginePath {
    const backend = tf.getBackend();
    const wasm = backend === 'wasm';
    return {
      training: wasm && attentionKernelAvailable()
        ? 'compiled wasm attention and cross-entropy kernels; RMSNorm, RoPE and SwiGLU as tfjs ops'
        : `tfjs ops on ${backend}`,
      generation:
        (wasm && attendOneAvailable(c.head_dim) ? 'tfjs ops with the compiled one-query attention kernel' : `tfjs ops on ${backend}`) +
        ' and a KV cache, layer by layer: the compiled decoder (kernels/decode.c) implements GPT-2 layers only',
    };
  },
};

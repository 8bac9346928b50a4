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
import { attendOne, attendOneAvailable } from '../kernels/attend-one-kernel.js';
import { attentionKernelAvailable } from '../kernels/attention-kernel.js';
import { attentionMaskAdd, causalAttention, embedding, linear } from '../kernels/fast-ops.js';
import type { Rng } from '../rng.js';
import { attendCached, cachedMasks, cachedPositions, positionIds, toCacheHeads, type EnginePath, type FamilyContext, type ForwardOptions, type KVCache, type ModelFamily } from './family.js';
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
function projectQkv(ctx: FamilyContext, c: LlamaConfig, layer: string, a: tf.Tensor2D, cos: tf.Tensor3D, sin: tf.Tensor3D): { q: tf.Tensor2D; k: tf.Tensor2D; v: tf.Tensor2D } {
  const bias = (name: string) => (c.qkv_bias ? (ctx.p(layer + name + '.bias') as tf.Tensor1D) : undefined);
  const q = linear(a, ctx.p(layer + 'self_attn.q_proj.weight') as tf.Tensor2D, bias('self_attn.q_proj'));
  const k = linear(a, ctx.p(layer + 'self_attn.k_proj.weight') as tf.Tensor2D, bias('self_attn.k_proj'));
  const v = linear(a, ctx.p(layer + 'self_attn.v_proj.weight') as tf.Tensor2D, bias('self_attn.v_proj'));
  return { q: rope(q, cos, sin, c.n_head), k: rope(k, cos, sin, c.n_kv_head), v };
}

function outputProjection(ctx: FamilyContext, c: LlamaConfig, layer: string, att: tf.Tensor2D): tf.Tensor2D {
  return linear(att, ctx.p(layer + 'self_attn.o_proj.weight') as tf.Tensor2D, c.o_bias ? (ctx.p(layer + 'self_attn.o_proj.bias') as tf.Tensor1D) : undefined);
}

function mlp(ctx: FamilyContext, layer: string, m: tf.Tensor2D): tf.Tensor2D {
  const gate = linear(m, ctx.p(layer + 'mlp.gate_proj.weight') as tf.Tensor2D);
  const up = linear(m, ctx.p(layer + 'mlp.up_proj.weight') as tf.Tensor2D);
  return linear(swiglu(gate, up), ctx.p(layer + 'mlp.down_proj.weight') as tf.Tensor2D);
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
      const { cos, sin } = ropeTensors(c, positionIds(B, T, c.n_positions, opts.attentionMask));
      const mask = attentionMaskAdd(B, T, opts.attentionMask);
      let x = ctx.dropout(embedding(ctx.p('model.embed_tokens.weight') as tf.Tensor2D, flatIds), opts.training);
      for (let i = 0; i < c.n_layer; i++) {
        const layer = `model.layers.${i}.`;
        const a = rmsNorm(x, ctx.p(layer + 'input_layernorm.weight') as tf.Tensor1D, c.rms_norm_eps);
        const { q, k, v } = projectQkv(ctx, c, layer, a, cos, sin);
        const qkv = tf.concat([q, repeatKvHeads(k, c.n_kv_head, groups), repeatKvHeads(v, c.n_kv_head, groups)], 1);
        const att = causalAttention(qkv, B, T, c.n_head, mask);
        x = tf.add(x, ctx.dropout(outputProjection(ctx, c, layer, att), opts.training));
        const m = rmsNorm(x, ctx.p(layer + 'post_attention_layernorm.weight') as tf.Tensor1D, c.rms_norm_eps);
        x = tf.add(x, ctx.dropout(mlp(ctx, layer, m), opts.training));
      }
      x = rmsNorm(x, ctx.p('model.norm.weight') as tf.Tensor1D, c.rms_norm_eps);
      return tf.reshape(x, [B, T, c.n_embd]) as tf.Tensor3D;
    });
  },

  /** Keys and values are cached after RoPE, repeated to the query heads (the one-query kernel's layout). */
  forwardCached(ctx: FamilyContext, c: LlamaConfig, ids: tf.Tensor2D, cache: KVCache | null, attentionMask?: tf.Tensor2D): { logits: tf.Tensor2D; cache: KVCache } {
    const [B, t] = ids.shape;
    const H = c.n_head;
    const hd = c.head_dim;
    const groups = c.n_head / c.n_kv_head;
    const maskData = attentionMask ? (attentionMask.dataSync() as Float32Array) : null;
    const { pos, nextPosition } = cachedPositions(B, t, c.n_positions, cache, maskData);
    const out = tf.tidy(() => {
      const wteT = cache ? cache.wteT : (tf.transpose(ctx.p(llamaOutputWeight(c))) as tf.Tensor2D);
      const { keyMaskAdd, maskAdd, total } = cachedMasks(B, t, cache, maskData);
      const { cos, sin } = ropeTensors(c, pos);
      let x = tf.gather(ctx.p('model.embed_tokens.weight'), tf.reshape(tf.cast(ids, 'int32'), [-1])) as tf.Tensor2D;
      const keys: tf.Tensor3D[] = [];
      const values: tf.Tensor3D[] = [];
      for (let i = 0; i < c.n_layer; i++) {
        const layer = `model.layers.${i}.`;
        const a = rmsNorm(x, ctx.p(layer + 'input_layernorm.weight') as tf.Tensor1D, c.rms_norm_eps);
        const proj = projectQkv(ctx, c, layer, a, cos, sin);
        const kRep = repeatKvHeads(proj.k, c.n_kv_head, groups);
        const vRep = repeatKvHeads(proj.v, c.n_kv_head, groups);
        const q = toCacheHeads(proj.q, B, t, H, hd);
        const kNew = toCacheHeads(kRep, B, t, H, hd);
        const vNew = toCacheHeads(vRep, B, t, H, hd);
        const k = cache ? (tf.concat([cache.keys[i]!, kNew], 1) as tf.Tensor3D) : kNew;
        const v = cache ? (tf.concat([cache.values[i]!, vNew], 1) as tf.Tensor3D) : vNew;
        keys.push(k);
        values.push(v);
        const att =
          t === 1 && attendOneAvailable(hd)
            ? attendOne(q, k, v, keyMaskAdd, H)
            : !cache
              ? causalAttention(tf.concat([proj.q, kRep, vRep], 1), B, t, H, maskAdd)
              : attendCached(q, k, v, maskAdd, B, H, t, total, hd);
        x = tf.add(x, outputProjection(ctx, c, layer, att));
        const m = rmsNorm(x, ctx.p(layer + 'post_attention_layernorm.weight') as tf.Tensor1D, c.rms_norm_eps);
        x = tf.add(x, mlp(ctx, layer, m));
      }
      const C = c.n_embd;
      const last = t === 1 ? x : (tf.reshape(tf.slice(tf.reshape(x, [B, t, C]), [0, t - 1, 0], [B, 1, C]), [B, C]) as tf.Tensor2D);
      const logits = tf.matMul(rmsNorm(last, ctx.p('model.norm.weight') as tf.Tensor1D, c.rms_norm_eps), wteT);
      return { logits, keys, values, keyMaskAdd, ...(cache ? {} : { wteT }) };
    });
    if (cache) tf.dispose([...cache.keys, ...cache.values, cache.keyMaskAdd]);
    const wteT = cache ? cache.wteT : (out.wteT as tf.Tensor2D);
    return { logits: out.logits as tf.Tensor2D, cache: { keys: out.keys, values: out.values, keyMaskAdd: out.keyMaskAdd, wteT, nextPosition } };
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

// Llama-family folders in Hugging Face's layout ↔ our LlamaConfig and weights: config.json fields
// of LlamaConfig / Qwen2Config / MistralConfig, tensor names of *ForCausalLM, and torch's
// nn.Linear layout [out, in] (stored here as [in, out], as fast-ops' linear takes it).
import { z } from 'zod';
import type { Tensor } from '../io/safetensors.js';
import { isTransposedLinear, llamaConfigSchema, llamaParameterShapes, type LlamaConfig, type LlamaModelType } from './llama-config.js';

/** The config.json fields we read; others (dtype, initializer_range…) do not change the computation. */
const hfLlamaConfigSchema = z
  .object({
    model_type: z.enum(['llama', 'qwen2', 'mistral']),
    vocab_size: z.number().int().positive(),
    hidden_size: z.number().int().positive(),
    intermediate_size: z.number().int().positive(),
    num_hidden_layers: z.number().int().positive(),
    num_attention_heads: z.number().int().positive(),
    num_key_value_heads: z.number().int().positive().nullable().optional(),
    head_dim: z.number().int().positive().nullable().optional(),
    max_position_embeddings: z.number().int().positive(),
    rms_norm_eps: z.number().positive().default(1e-6),
    rope_theta: z.number().positive().default(10000),
    rope_scaling: z.record(z.string(), z.unknown()).nullable().optional(),
    hidden_act: z.string().default('silu'),
    tie_word_embeddings: z.boolean().optional(),
    attention_bias: z.boolean().default(false),
    mlp_bias: z.boolean().default(false),
    sliding_window: z.number().int().positive().nullable().optional(),
    use_sliding_window: z.boolean().optional(),
    bos_token_id: z.union([z.number().int(), z.array(z.number().int())]).nullable().optional(),
    eos_token_id: z.union([z.number().int(), z.array(z.number().int())]).nullable().optional(),
  })
  .loose();

const ARCHITECTURE: Record<LlamaModelType, string> = { llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM', mistral: 'MistralForCausalLM' };

/** Our config from a Llama-family config.json; what we cannot compute exactly is a clear error naming the field. */
export function llamaConfigFromHf(raw: unknown, cfgPath: string): LlamaConfig {
  const parsed = hfLlamaConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`${cfgPath}: field ${i.path.join('.')}: ${i.message}`);
  }
  const hf = parsed.data;
  const unsupported: string[] = [];
  if (hf.hidden_act !== 'silu') unsupported.push(`hidden_act "${hf.hidden_act}" (silu is)`);
  if (hf.mlp_bias) unsupported.push('mlp_bias');
  let ropeScaling: LlamaConfig['rope_scaling'] = null;
  if (hf.rope_scaling) {
    const type = hf.rope_scaling.rope_type ?? hf.rope_scaling.type;
    if (type === 'llama3') {
      const { type: _t, ...rest } = hf.rope_scaling;
      ropeScaling = { ...(rest as object), rope_type: 'llama3' } as LlamaConfig['rope_scaling'];
    } else if (type !== 'default') unsupported.push(`rope_scaling type "${String(type)}" (default and llama3 are)`);
  }
  if (unsupported.length) throw new Error(`${cfgPath}: unsupported ${unsupported.join(', ')}`);
  // Qwen2 always has q/k/v biases and no o_proj bias; Llama's attention_bias covers all four.
  const qwen = hf.model_type === 'qwen2';
  // Within a sliding window attention is full, so limiting the context to it computes exactly.
  const windowed = hf.model_type === 'mistral' || (qwen && hf.use_sliding_window === true);
  const window = windowed && hf.sliding_window ? hf.sliding_window : Infinity;
  const firstId = (v: number | number[] | null | undefined) => (Array.isArray(v) ? (v[0] ?? null) : (v ?? null));
  const heads = hf.num_attention_heads;
  const candidate = {
    family: 'llama',
    model_type: hf.model_type,
    vocab_size: hf.vocab_size,
    n_positions: Math.min(hf.max_position_embeddings, window),
    n_embd: hf.hidden_size,
    n_layer: hf.num_hidden_layers,
    n_head: heads,
    n_kv_head: hf.num_key_value_heads ?? heads,
    head_dim: hf.head_dim ?? hf.hidden_size / heads,
    intermediate_size: hf.intermediate_size,
    rms_norm_eps: hf.rms_norm_eps,
    rope_theta: hf.rope_theta,
    rope_scaling: ropeScaling,
    // transformers' default: Llama and Mistral untied, Qwen2 untied unless the config says so.
    tie_word_embeddings: hf.tie_word_embeddings ?? false,
    qkv_bias: qwen || hf.attention_bias,
    o_bias: !qwen && hf.attention_bias,
    bos_token_id: firstId(hf.bos_token_id),
    eos_token_id: firstId(hf.eos_token_id),
    dropout: 0,
  };
  const ours = llamaConfigSchema.safeParse(candidate);
  if (!ours.success) {
    const i = ours.error.issues[0]!;
    throw new Error(`${cfgPath}: ${i.path.join('.')}: ${i.message}`);
  }
  return ours.data;
}

/** Transposes a row-major [rows, cols] matrix. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/**
 * Our weights from a *ForCausalLM state dict (names as saved; shapes checked against the config).
 * A tied model may carry lm_head.weight (a copy of the embedding); it is not read.
 */
export function llamaWeightsFromHf(tensors: Record<string, Tensor>, c: LlamaConfig, where: string): Record<string, Float32Array> {
  const weights: Record<string, Float32Array> = {};
  for (const [name, shape] of llamaParameterShapes(c)) {
    const t = tensors[name];
    if (!t) throw new Error(`${where}: missing tensor ${name}`);
    const torchShape = isTransposedLinear(name) ? [shape[1]!, shape[0]!] : shape;
    if (t.shape.join(',') !== torchShape.join(',')) throw new Error(`${where}: ${name} has shape [${t.shape}], config.json implies [${torchShape}]`);
    weights[name] = isTransposedLinear(name) ? transpose2d(t.data, torchShape[0]!, torchShape[1]!) : t.data;
  }
  return weights;
}

/** The state dict transformers loads: torch layouts, lm_head only when untied. */
export function llamaWeightsToHf(weights: Record<string, Float32Array>, c: LlamaConfig): Record<string, Tensor> {
  const tensors: Record<string, Tensor> = {};
  for (const [name, shape] of llamaParameterShapes(c)) {
    const data = weights[name];
    if (!data) throw new Error(`missing weight ${name}`);
    tensors[name] = isTransposedLinear(name) ? { shape: [shape[1]!, shape[0]!], data: transpose2d(data, shape[0]!, shape[1]!) } : { shape, data };
  }
  return tensors;
}

/** config.json for transformers' class of the model's type. */
export function llamaConfigToHf(c: LlamaConfig, tokenIds: { bos: number; eos: number }): Record<string, unknown> {
  const common = {
    architectures: [ARCHITECTURE[c.model_type]],
    model_type: c.model_type,
    vocab_size: c.vocab_size,
    hidden_size: c.n_embd,
    intermediate_size: c.intermediate_size,
    num_hidden_layers: c.n_layer,
    num_attention_heads: c.n_head,
    num_key_value_heads: c.n_kv_head,
    head_dim: c.head_dim,
    max_position_embeddings: c.n_positions,
    hidden_act: 'silu',
    rms_norm_eps: c.rms_norm_eps,
    rope_theta: c.rope_theta,
    rope_scaling: c.rope_scaling,
    tie_word_embeddings: c.tie_word_embeddings,
    attention_dropout: 0,
    initializer_range: 0.02,
    use_cache: true,
    bos_token_id: c.bos_token_id ?? tokenIds.bos,
    eos_token_id: c.eos_token_id ?? tokenIds.eos,
    torch_dtype: 'float32',
  };
  if (c.model_type === 'qwen2') {
    if (!c.qkv_bias || c.o_bias) throw new Error('a qwen2 model has q/k/v biases and no o_proj bias');
    return { ...common, use_sliding_window: false, sliding_window: null, max_window_layers: c.n_layer };
  }
  if (c.qkv_bias !== c.o_bias) throw new Error(`a ${c.model_type} model has biases on all of q/k/v/o_proj or none (attention_bias)`);
  return { ...common, attention_bias: c.qkv_bias, mlp_bias: false, ...(c.model_type === 'mistral' ? { sliding_window: null } : { pretraining_tp: 1 }) };
}

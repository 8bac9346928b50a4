// The Llama family's config (Llama 1–3, SmolLM2, TinyLlama, Qwen2/2.5, Mistral without a sliding
// window in use): our field names for what every family shares (vocab_size, n_positions, n_embd,
// n_layer, n_head, the names every stage reads), plus what makes a Llama a Llama. `model_type`
// records which Hugging Face class it exports to.
import { z } from 'zod';

/** Llama-3's frequency-dependent RoPE scaling (rope_type "llama3" in config.json). */
export const llama3RopeScalingSchema = z
  .object({
    rope_type: z.literal('llama3'),
    factor: z.number().positive(),
    low_freq_factor: z.number().positive(),
    high_freq_factor: z.number().positive(),
    original_max_position_embeddings: z.number().int().positive(),
  })
  .strict()
  .refine((s) => s.high_freq_factor > s.low_freq_factor, { message: 'high_freq_factor must exceed low_freq_factor', path: ['high_freq_factor'] });

export const LLAMA_MODEL_TYPES = ['llama', 'qwen2', 'mistral'] as const;
export type LlamaModelType = (typeof LLAMA_MODEL_TYPES)[number];

export const llamaConfigSchema = z
  .object({
    family: z.literal('llama'),
    model_type: z.enum(LLAMA_MODEL_TYPES).default('llama'),
    vocab_size: z.number().int().min(2),
    /** Context length (max_position_embeddings, or a smaller sliding window). */
    n_positions: z.number().int().min(1),
    /** hidden_size. */
    n_embd: z.number().int().min(1),
    n_layer: z.number().int().min(1),
    /** num_attention_heads. */
    n_head: z.number().int().min(1),
    /** num_key_value_heads (grouped-query attention; n_head = multi-head). */
    n_kv_head: z.number().int().min(1),
    head_dim: z.number().int().min(2).multipleOf(2),
    intermediate_size: z.number().int().min(1),
    rms_norm_eps: z.number().positive().default(1e-6),
    rope_theta: z.number().positive().default(10000),
    rope_scaling: llama3RopeScalingSchema.nullable().default(null),
    tie_word_embeddings: z.boolean().default(false),
    /** Biases on q_proj, k_proj, v_proj (Qwen2; Llama's attention_bias). */
    qkv_bias: z.boolean().default(false),
    /** A bias on o_proj (Llama's attention_bias; Qwen2 has none). */
    o_bias: z.boolean().default(false),
    bos_token_id: z.number().int().min(0).nullable().default(null),
    eos_token_id: z.number().int().min(0).nullable().default(null),
    dropout: z.number().min(0).max(0.9).default(0),
  })
  .strict()
  .refine((c) => c.n_head % c.n_kv_head === 0, { message: 'n_head must be a multiple of n_kv_head', path: ['n_kv_head'] });

export type LlamaConfig = z.infer<typeof llamaConfigSchema>;

/** HF parameter names and shapes, in a fixed order. Projection matrices are [in, out] here (torch's [out, in] transposed on import/export). */
export function llamaParameterShapes(c: LlamaConfig): Array<[string, number[]]> {
  const C = c.n_embd;
  const q = c.n_head * c.head_dim;
  const kv = c.n_kv_head * c.head_dim;
  const I = c.intermediate_size;
  const out: Array<[string, number[]]> = [['model.embed_tokens.weight', [c.vocab_size, C]]];
  for (let i = 0; i < c.n_layer; i++) {
    const p = `model.layers.${i}.`;
    out.push([p + 'input_layernorm.weight', [C]], [p + 'self_attn.q_proj.weight', [C, q]]);
    if (c.qkv_bias) out.push([p + 'self_attn.q_proj.bias', [q]]);
    out.push([p + 'self_attn.k_proj.weight', [C, kv]]);
    if (c.qkv_bias) out.push([p + 'self_attn.k_proj.bias', [kv]]);
    out.push([p + 'self_attn.v_proj.weight', [C, kv]]);
    if (c.qkv_bias) out.push([p + 'self_attn.v_proj.bias', [kv]]);
    out.push([p + 'self_attn.o_proj.weight', [q, C]]);
    if (c.o_bias) out.push([p + 'self_attn.o_proj.bias', [C]]);
    out.push(
      [p + 'post_attention_layernorm.weight', [C]],
      [p + 'mlp.gate_proj.weight', [C, I]],
      [p + 'mlp.up_proj.weight', [C, I]],
      [p + 'mlp.down_proj.weight', [I, C]],
    );
  }
  out.push(['model.norm.weight', [C]]);
  if (!c.tie_word_embeddings) out.push(['lm_head.weight', [c.vocab_size, C]]);
  return out;
}

/** True for the weights stored transposed relative to torch (every nn.Linear except lm_head). */
export function isTransposedLinear(name: string): boolean {
  return /\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\.weight$/.test(name);
}

/** The output (unembedding) matrix [V, C]: the input embedding when tied. */
export function llamaOutputWeight(c: LlamaConfig): string {
  return c.tie_word_embeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
}

/**
 * RoPE inverse frequencies [head_dim / 2], computed in float32 step by step as transformers does
 * (`1 / base ** (arange(0, dim, 2) / dim)`, then the llama3 rescaling), so positions far into the
 * context rotate by the same float32 angles as in PyTorch.
 */
export function ropeInverseFrequencies(c: LlamaConfig): Float32Array {
  const f = Math.fround;
  const dim = c.head_dim;
  const inv = new Float32Array(dim / 2);
  for (let j = 0; j < dim / 2; j++) inv[j] = f(1 / f(Math.pow(c.rope_theta, f(f(2 * j) / dim))));
  const s = c.rope_scaling;
  if (!s) return inv;
  const lowWavelen = s.original_max_position_embeddings / s.low_freq_factor;
  const highWavelen = s.original_max_position_embeddings / s.high_freq_factor;
  for (let j = 0; j < inv.length; j++) {
    const freq = inv[j]!;
    const wavelen = f((2 * Math.PI) / freq);
    if (wavelen > lowWavelen) inv[j] = f(freq / s.factor);
    else if (wavelen >= highWavelen) {
      // Between the two wavelengths: a blend of the scaled and unscaled frequency.
      const smooth = f((f(s.original_max_position_embeddings / wavelen) - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor));
      inv[j] = f(f(f(f(1 - smooth) * freq) / s.factor) + f(smooth * freq));
    }
  }
  return inv;
}

/**
 * cos and sin tables [rows, head_dim] for the given position ids (each half of a row repeats
 * the half-size table, transformers' `cat((freqs, freqs))` layout), float32 like PyTorch.
 */
export function ropeTables(inv: Float32Array, positions: ArrayLike<number>): { cos: Float32Array; sin: Float32Array } {
  const half = inv.length;
  const dim = 2 * half;
  const cos = new Float32Array(positions.length * dim);
  const sin = new Float32Array(positions.length * dim);
  for (let r = 0; r < positions.length; r++) {
    const p = positions[r]!;
    for (let j = 0; j < half; j++) {
      const angle = Math.fround(p * inv[j]!);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[r * dim + j] = c;
      cos[r * dim + half + j] = c;
      sin[r * dim + j] = s;
      sin[r * dim + half + j] = s;
    }
  }
  return { cos, sin };
}

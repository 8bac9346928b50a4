// A new model for a project: a byte-level BPE trained on the project's own texts (prompts,
// responses, SFT examples) and a randomly initialised GPT-2 or Llama-family model of any size,
// stored as a 'base' checkpoint.
import { z } from 'zod';
import { saveModel } from '../io/checkpoint-io.js';
import { GPT, parseModelConfig, type ModelConfig } from './model.js';
import { MAX_TRAINED_VOCAB, MIN_TRAINED_VOCAB, TextTokenizer } from './tokenizer.js';
import type { Project } from '../../store/project.js';

export const newModelSchema = z
  .object({
    /** gpt2, or llama (RMSNorm, RoPE, SwiGLU, grouped-query attention). */
    family: z.enum(['gpt2', 'llama']).default('gpt2'),
    n_layer: z.number().int().min(1).max(48).default(4),
    n_head: z.number().int().min(1).max(64).default(4),
    n_embd: z.number().int().min(8).max(4096).default(128),
    /** Context length (n_positions). */
    n_positions: z.number().int().min(8).max(4096).default(256),
    /** Requested tokenizer vocabulary; a small corpus may yield fewer merges. */
    vocab_size: z.number().int().min(MIN_TRAINED_VOCAB).max(MAX_TRAINED_VOCAB).default(2048),
    dropout: z.number().min(0).max(0.9).default(0),
    /** Llama family: key/value heads (grouped-query attention); n_head when not given. */
    n_kv_head: z.number().int().min(1).max(64).optional(),
    /** Llama family: the SwiGLU MLP's width; 8/3·n_embd rounded up to a multiple of 8 when not given. */
    intermediate_size: z.number().int().min(1).max(65536).optional(),
    /** Llama family: the output matrix is the input embedding (as SmolLM2 and Llama-3.2 small models). */
    tie_word_embeddings: z.boolean().default(true),
    /** Llama family: biases on q/k/v (model_type qwen2 on export). */
    qkv_bias: z.boolean().default(false),
    rope_theta: z.number().positive().default(10000),
    seed: z.number().int().min(0).default(0),
    name: z.string().min(1).max(200).optional(),
  })
  .strict();

export type NewModelOptions = z.input<typeof newModelSchema>;

/** The model config of a new model with a tokenizer of `vocabSize` tokens; a clear error for a shape that does not divide. */
export function newModelConfig(o: z.output<typeof newModelSchema>, vocabSize: number): ModelConfig {
  if (o.n_embd % o.n_head !== 0) throw new Error(`n_embd (${o.n_embd}) must be divisible by n_head (${o.n_head})`);
  const common = { vocab_size: vocabSize, n_positions: o.n_positions, n_embd: o.n_embd, n_layer: o.n_layer, n_head: o.n_head, dropout: o.dropout };
  if (o.family === 'gpt2') return parseModelConfig(common);
  const kv = o.n_kv_head ?? o.n_head;
  if (o.n_head % kv !== 0) throw new Error(`n_head (${o.n_head}) must be a multiple of n_kv_head (${kv})`);
  return parseModelConfig({
    ...common,
    family: 'llama',
    model_type: o.qkv_bias ? 'qwen2' : 'llama',
    n_kv_head: kv,
    head_dim: o.n_embd / o.n_head,
    intermediate_size: o.intermediate_size ?? Math.ceil((8 * o.n_embd) / 3 / 8) * 8,
    rope_theta: o.rope_theta,
    tie_word_embeddings: o.tie_word_embeddings,
    qkv_bias: o.qkv_bias,
    o_bias: false,
  });
}

/** Every text of the project, for tokenizer training. */
export function projectTexts(project: Project): string[] {
  const texts: string[] = [];
  for (const p of project.prompts.iterate()) {
    texts.push(p.text);
    for (const r of project.responses.forPrompt(p.id)) texts.push(r.text);
  }
  for (const ex of project.sft.iterate()) {
    if (ex.kind === 'completion') texts.push(ex.prompt, ex.completion);
    else if (ex.kind === 'messages') texts.push(...ex.messages.map((m) => m.content));
    else texts.push(ex.text);
  }
  return texts;
}

export function createNewModel(project: Project, options: NewModelOptions): { checkpoint: number; vocabSize: number; parameters: number; config: ModelConfig } {
  const o = newModelSchema.parse(options);
  const texts = projectTexts(project);
  if (texts.length === 0) throw new Error('the project has no texts to train a tokenizer on: import prompts or SFT examples first');
  const tokenizer = TextTokenizer.train(texts, o.vocab_size);
  const config = newModelConfig(o, tokenizer.vocabSize);
  const model = GPT.create(config, o.seed);
  try {
    const checkpoint = saveModel(project, {
      name: o.name ?? `base ${o.family === 'llama' ? 'llama ' : ''}${o.n_layer}L-${o.n_embd}d`,
      stage: 'base',
      model,
      tokenizer,
      extra: { created: { ...o, texts: texts.length } },
    });
    return { checkpoint, vocabSize: tokenizer.vocabSize, parameters: model.parameterCount(), config };
  } finally {
    model.dispose();
  }
}

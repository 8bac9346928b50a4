// GPT-2-family models in a local Hugging Face folder (config.json, model.safetensors, tokenizer)
// in and out. Export writes the layout `GPT2LMHeadModel.from_pretrained` reads, so a model trained
// here continues in PyTorch/transformers.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { gptConfigOf, weightsFromBytes } from './checkpoint-io.js';
import { GPT, gptConfigSchema, parameterShapes, type GPTConfig } from './model.js';
import { readSafetensors, writeSafetensors, type Tensor } from './safetensors.js';
import { TextTokenizer } from './tokenizer.js';
import type { Project } from '../store/project.js';

/** The config.json fields we read; others (task params, dtype…) do not change the computation. */
const hfGpt2ConfigSchema = z
  .object({
    model_type: z.string().optional(),
    architectures: z.array(z.string()).optional(),
    vocab_size: z.number().int().positive(),
    n_positions: z.number().int().positive(),
    n_embd: z.number().int().positive(),
    n_layer: z.number().int().positive(),
    n_head: z.number().int().positive(),
    n_inner: z.number().int().positive().nullable().optional(),
    layer_norm_epsilon: z.number().positive().default(1e-5),
    activation_function: z.string().default('gelu_new'),
    scale_attn_weights: z.boolean().default(true),
    scale_attn_by_inverse_layer_idx: z.boolean().default(false),
    reorder_and_upcast_attn: z.boolean().default(false),
    tie_word_embeddings: z.boolean().default(true),
  })
  .loose();

export interface HfModel {
  config: GPTConfig;
  weights: Record<string, Float32Array>;
  tokenizer: TextTokenizer;
}

/** Reads and checks a GPT-2-family folder; every mismatch with our architecture is a clear error. */
export function readHfFolder(dir: string): HfModel {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new Error(`${dir}: no config.json (not a Hugging Face model folder)`);
  const parsed = hfGpt2ConfigSchema.safeParse(JSON.parse(readFileSync(cfgPath, 'utf8')));
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`${cfgPath}: field ${i.path.join('.')}: ${i.message}`);
  }
  const hf = parsed.data;
  const isGpt2 = hf.model_type === 'gpt2' || (hf.architectures ?? []).some((a) => a.startsWith('GPT2'));
  if (!isGpt2) throw new Error(`${cfgPath}: model_type "${hf.model_type}" is not GPT-2 (only GPT-2-family models can be imported)`);
  const unsupported: string[] = [];
  if (hf.activation_function !== 'gelu_new') unsupported.push(`activation_function "${hf.activation_function}" (gelu_new is)`);
  if (hf.n_inner != null && hf.n_inner !== 4 * hf.n_embd) unsupported.push(`n_inner ${hf.n_inner} (4·n_embd is)`);
  if (!hf.scale_attn_weights || hf.scale_attn_by_inverse_layer_idx || hf.reorder_and_upcast_attn) unsupported.push('attention scaling options');
  if (!hf.tie_word_embeddings) unsupported.push('untied lm_head');
  if (unsupported.length) throw new Error(`${cfgPath}: unsupported ${unsupported.join(', ')}`);

  // Dropout is off: RLHF fine-tuning trains without it (ALGORITHMS.md); it can be set per run.
  const config = gptConfigSchema.parse({
    vocab_size: hf.vocab_size,
    n_positions: hf.n_positions,
    n_embd: hf.n_embd,
    n_layer: hf.n_layer,
    n_head: hf.n_head,
    layer_norm_epsilon: hf.layer_norm_epsilon,
    dropout: 0,
  });

  const stPath = join(dir, 'model.safetensors');
  if (!existsSync(stPath)) {
    const bin = existsSync(join(dir, 'pytorch_model.bin')) ? ' (pytorch_model.bin is not read: save it with safe_serialization=True)' : '';
    throw new Error(`${dir}: no model.safetensors${bin}`);
  }
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(stPath)));
  const weights: Record<string, Float32Array> = {};
  for (const [rawName, t] of Object.entries(tensors)) {
    const name = rawName.startsWith('transformer.') ? rawName.slice('transformer.'.length) : rawName;
    // lm_head is tied to wte; attn.bias / attn.masked_bias are causal-mask buffers, not weights.
    if (name === 'lm_head.weight' || /\.attn\.(masked_)?bias$/.test(name)) continue;
    weights[name] = t.data;
  }
  for (const [name, shape] of parameterShapes(config)) {
    const t = tensors[name] ?? tensors[`transformer.${name}`];
    if (!t) throw new Error(`${stPath}: missing tensor ${name}`);
    if (t.shape.join(',') !== shape.join(',')) throw new Error(`${stPath}: ${name} has shape [${t.shape}], config.json implies [${shape}]`);
  }

  const tokenizer = TextTokenizer.fromFolder(dir);
  if (tokenizer.vocabSize > config.vocab_size) {
    throw new Error(`${dir}: the tokenizer has ${tokenizer.vocabSize} tokens, more than the model's vocab_size ${config.vocab_size}`);
  }
  return { config, weights, tokenizer };
}

/** Writes model.safetensors + config.json (GPT-2 layout) + tokenizer.json (+ tokenizer_config.json). */
export function writeHfFolder(dir: string, config: GPTConfig, weights: Record<string, Float32Array>, tokenizer: TextTokenizer): void {
  mkdirSync(dir, { recursive: true });
  const tensors: Record<string, Tensor> = {};
  for (const [name, shape] of parameterShapes(config)) {
    const data = weights[name];
    if (!data) throw new Error(`missing weight ${name}`);
    tensors[`transformer.${name}`] = { shape, data };
  }
  writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
  const hfConfig = {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: config.vocab_size,
    n_positions: config.n_positions,
    n_ctx: config.n_positions,
    n_embd: config.n_embd,
    n_layer: config.n_layer,
    n_head: config.n_head,
    n_inner: null,
    activation_function: 'gelu_new',
    layer_norm_epsilon: config.layer_norm_epsilon,
    resid_pdrop: config.dropout,
    embd_pdrop: config.dropout,
    attn_pdrop: 0,
    initializer_range: 0.02,
    scale_attn_weights: true,
    tie_word_embeddings: true,
    bos_token_id: tokenizer.eosId,
    eos_token_id: tokenizer.eosId,
    torch_dtype: 'float32',
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(hfConfig, null, 2) + '\n');
  writeFileSync(join(dir, 'tokenizer.json'), tokenizer.toJSON());
  const tokenName = (id: number) => tokenizer.tokenString(id) ?? null;
  const tokenizerConfig = {
    tokenizer_class: 'GPT2TokenizerFast',
    model_max_length: config.n_positions,
    bos_token: tokenName(tokenizer.eosId),
    eos_token: tokenName(tokenizer.eosId),
    pad_token: tokenName(tokenizer.padId),
    add_prefix_space: false,
    clean_up_tokenization_spaces: false,
  };
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2) + '\n');
}

/** Imports a folder as a new 'base' checkpoint; returns its id. */
export function importHfModel(project: Project, dir: string, name?: string): number {
  const { config, weights, tokenizer } = readHfFolder(dir);
  // Through GPT.fromWeights so a folder the model cannot load never becomes a checkpoint.
  const model = GPT.fromWeights(config, weights);
  try {
    return project.checkpoints.save({
      name: name ?? basename(resolve(dir)),
      stage: 'base',
      modelConfig: config,
      tokenizer: tokenizer.toJSON(),
      weights: writeSafetensors(
        Object.fromEntries(parameterShapes(config).map(([n, shape]) => [n, { shape, data: weights[n]! }])),
        { format: 'pt' },
      ),
      extra: { imported_from: resolve(dir) },
    });
  } finally {
    model.dispose();
  }
}

/** Exports a checkpoint's GPT as a Hugging Face folder (sha256 verified on the way out). */
export function exportHfModel(project: Project, checkpointId: number, dir: string): void {
  const c = project.checkpoints.load(checkpointId);
  writeHfFolder(dir, gptConfigOf(c.model_config), weightsFromBytes(c.weights), TextTokenizer.fromJSON(c.tokenizer));
}

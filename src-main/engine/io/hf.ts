// Models in a local Hugging Face folder (config.json, model.safetensors or shards with their
// index, tokenizer) in and out: GPT-2, and the Llama family (llama, qwen2, mistral) through
// models/llama-hf.ts. Export writes the layout `*ForCausalLM.from_pretrained` reads, so a model
// trained here continues in PyTorch/transformers.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { modelConfigOf, weightsFromBytes, type ModelStore } from './checkpoint-io.js';
import { downloadHubModel, HF_PREFIX, parseHubId, type HubDownloadOptions } from './hf-hub.js';
import { GPT, gptConfigSchema, isLlamaConfig, modelParameterShapes, parameterShapes, type GPTConfig, type ModelConfig } from '../models/model.js';
import { llamaConfigFromHf, llamaConfigToHf, llamaWeightsFromHf, llamaWeightsToHf } from '../models/llama-hf.js';
import { readSafetensors, writeSafetensors, type Tensor } from './safetensors.js';
import { TextTokenizer } from '../models/tokenizer.js';

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

/** The model_types `model import` reads. */
export const SUPPORTED_MODEL_TYPES = ['gpt2', 'llama', 'qwen2', 'mistral'] as const;

export interface HfModel {
  config: ModelConfig;
  weights: Record<string, Float32Array>;
  tokenizer: TextTokenizer;
  /** The weights' dtype in the folder before conversion to float32 ("BF16"; mixed: "F16+F32", most tensors first). */
  sourceDtype: string;
}

/** Tensors converted so far and in all the folder's weight files. */
export type TensorProgress = (done: number, total: number) => void;

/** "BF16", or "F16+F32" for mixed files (the dtype most tensors have first). */
export function dtypeLabel(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([d]) => d)
    .join('+');
}

/**
 * Every tensor of a folder's weights: model.safetensors, or the shards listed by
 * model.safetensors.index.json (weight_map), converted to float32 from F32/F16/BF16.
 */
export function readWeightFiles(dir: string, onTensor?: TensorProgress): { tensors: Record<string, Tensor>; where: string; dtypes: Record<string, number> } {
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) {
    const file = readSafetensors(new Uint8Array(readFileSync(single)), onTensor);
    return { tensors: file.tensors, where: single, dtypes: file.dtypes };
  }
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (existsSync(indexPath)) {
    let index: { weight_map?: Record<string, string> };
    try {
      index = JSON.parse(readFileSync(indexPath, 'utf8'));
    } catch (e) {
      throw new Error(`${indexPath}: not JSON (${(e as Error).message})`);
    }
    if (!index.weight_map || typeof index.weight_map !== 'object') throw new Error(`${indexPath}: no weight_map`);
    const tensors: Record<string, Tensor> = {};
    const dtypes: Record<string, number> = {};
    const total = Object.keys(index.weight_map).length;
    let before = 0;
    for (const shard of [...new Set(Object.values(index.weight_map))]) {
      const shardPath = join(dir, shard);
      if (basename(shard) !== shard || !existsSync(shardPath)) throw new Error(`${indexPath}: shard ${shard} is missing from ${dir}`);
      let part: ReturnType<typeof readSafetensors>;
      try {
        part = readSafetensors(new Uint8Array(readFileSync(shardPath)), onTensor && ((done) => onTensor(Math.min(total, before + done), total)));
      } catch (e) {
        throw new Error(`${shardPath}: ${(e as Error).message}`);
      }
      Object.assign(tensors, part.tensors);
      for (const [d, n] of Object.entries(part.dtypes)) dtypes[d] = (dtypes[d] ?? 0) + n;
      before += Object.keys(part.tensors).length;
    }
    for (const [name, shard] of Object.entries(index.weight_map)) if (!tensors[name]) throw new Error(`${join(dir, shard)}: missing tensor ${name} (listed in the index)`);
    return { tensors, where: indexPath, dtypes };
  }
  const bin = existsSync(join(dir, 'pytorch_model.bin')) ? ' (pytorch_model.bin is not read: save it with safe_serialization=True)' : '';
  throw new Error(`${dir}: no model.safetensors or model.safetensors.index.json${bin}`);
}

/** The model_type of a config.json (older GPT-2 configs name only the architecture). */
export function modelTypeOf(raw: Record<string, unknown>): string | undefined {
  if (typeof raw.model_type === 'string') return raw.model_type;
  const arch = Array.isArray(raw.architectures) ? String(raw.architectures[0] ?? '') : '';
  return arch.startsWith('GPT2') ? 'gpt2' : undefined;
}

/** Reads and checks a model folder; every mismatch with our architectures is a clear error. */
export function readHfFolder(dir: string, onTensor?: TensorProgress): HfModel {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new Error(`${dir}: no config.json (not a Hugging Face model folder)`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(cfgPath, 'utf8'));
  } catch (e) {
    throw new Error(`${cfgPath}: not JSON (${(e as Error).message})`);
  }
  const modelType = modelTypeOf(raw);
  if (modelType === undefined || !(SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw new Error(`${cfgPath}: model_type ${modelType === undefined ? '(none)' : `"${modelType}"`} is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`);
  }
  if (modelType !== 'gpt2') {
    const config = llamaConfigFromHf(raw, cfgPath);
    const { tensors, where, dtypes } = readWeightFiles(dir, onTensor);
    return { config, weights: llamaWeightsFromHf(tensors, config, where), tokenizer: checkedTokenizer(dir, config), sourceDtype: dtypeLabel(dtypes) };
  }
  const parsed = hfGpt2ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`${cfgPath}: field ${i.path.join('.')}: ${i.message}`);
  }
  const hf = parsed.data;
  const unsupported: string[] = [];
  if (hf.activation_function !== 'gelu_new') unsupported.push(`activation_function "${hf.activation_function}" (gelu_new is)`);
  if (hf.n_inner != null && hf.n_inner !== 4 * hf.n_embd) unsupported.push(`n_inner ${hf.n_inner} (4·n_embd is)`);
  if (!hf.scale_attn_weights || hf.scale_attn_by_inverse_layer_idx || hf.reorder_and_upcast_attn) unsupported.push('attention scaling options');
  if (!hf.tie_word_embeddings) unsupported.push('untied lm_head');
  if (unsupported.length) throw new Error(`${cfgPath}: unsupported ${unsupported.join(', ')}`);

  // Dropout is off: RLHF fine-tuning trains without it (docs/algorithms.md); it can be set per run.
  const config = gptConfigSchema.parse({
    vocab_size: hf.vocab_size,
    n_positions: hf.n_positions,
    n_embd: hf.n_embd,
    n_layer: hf.n_layer,
    n_head: hf.n_head,
    layer_norm_epsilon: hf.layer_norm_epsilon,
    dropout: 0,
  });

  const { tensors, where: stPath, dtypes } = readWeightFiles(dir, onTensor);
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

  return { config, weights, tokenizer: checkedTokenizer(dir, config), sourceDtype: dtypeLabel(dtypes) };
}

function checkedTokenizer(dir: string, config: ModelConfig): TextTokenizer {
  const tokenizer = TextTokenizer.fromFolder(dir);
  if (tokenizer.vocabSize > config.vocab_size) {
    throw new Error(`${dir}: the tokenizer has ${tokenizer.vocabSize} tokens, more than the model's vocab_size ${config.vocab_size}`);
  }
  return tokenizer;
}

/** Writes model.safetensors + config.json (the family's layout) + tokenizer.json (+ tokenizer_config.json). */
export function writeHfFolder(dir: string, config: ModelConfig, weights: Record<string, Float32Array>, tokenizer: TextTokenizer): void {
  if (isLlamaConfig(config)) {
    // Everything is built before anything is written, so a bad config leaves no half folder.
    const hfConfig = llamaConfigToHf(config, { bos: tokenizer.eosId, eos: tokenizer.eosId });
    const bytes = writeSafetensors(llamaWeightsToHf(weights, config), { format: 'pt' });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.safetensors'), bytes);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(hfConfig, null, 2) + '\n');
    writeTokenizerFiles(dir, tokenizer, config.n_positions, 'PreTrainedTokenizerFast');
    return;
  }
  writeGpt2Folder(dir, config, weights, tokenizer);
}

function writeGpt2Folder(dir: string, config: GPTConfig, weights: Record<string, Float32Array>, tokenizer: TextTokenizer): void {
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
  writeTokenizerFiles(dir, tokenizer, config.n_positions, 'GPT2TokenizerFast');
}

function writeTokenizerFiles(dir: string, tokenizer: TextTokenizer, maxLength: number, tokenizerClass: string): void {
  writeFileSync(join(dir, 'tokenizer.json'), tokenizer.hfTokenizerJSON());
  const tokenName = (id: number) => tokenizer.tokenString(id) ?? null;
  const tokenizerConfig = {
    tokenizer_class: tokenizerClass,
    model_max_length: maxLength,
    bos_token: tokenName(tokenizer.eosId),
    eos_token: tokenName(tokenizer.eosId),
    pad_token: tokenName(tokenizer.padId),
    add_prefix_space: false,
    clean_up_tokenization_spaces: false,
    ...(tokenizer.meta.bos_token ? { bos_token: tokenizer.meta.bos_token } : {}),
    ...(tokenizer.meta.chat_template ? { chat_template: tokenizer.meta.chat_template } : {}),
  };
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2) + '\n');
}

/**
 * Imports a folder as a new 'base' checkpoint; returns its id. `source` is recorded as where it
 * came from, with the model_type and the dtype the weights had before conversion.
 */
export function importHfModel(project: ModelStore, dir: string, name?: string, source?: string, onTensor?: TensorProgress): number {
  return saveHfModel(project, readHfFolder(dir, onTensor), dir, name, source);
}

/** Stores a folder already read (readHfFolder) as a new 'base' checkpoint; returns its id. */
export function saveHfModel(project: ModelStore, hf: HfModel, dir: string, name?: string, source?: string): number {
  const { config, weights, tokenizer, sourceDtype } = hf;
  // Through GPT.fromWeights so a folder the model cannot load never becomes a checkpoint.
  const model = GPT.fromWeights(config, weights);
  try {
    return project.checkpoints.save({
      name: name ?? basename(resolve(dir)),
      stage: 'base',
      modelConfig: config,
      tokenizer: tokenizer.toJSON(),
      weights: writeSafetensors(
        Object.fromEntries(modelParameterShapes(config).map(([n, shape]) => [n, { shape, data: weights[n]! }])),
        { format: 'pt' },
      ),
      extra: { imported_from: source ?? resolve(dir), source_dtype: sourceDtype },
    });
  } finally {
    model.dispose();
  }
}

/** Exports a checkpoint's model as a Hugging Face folder (sha256 verified on the way out). */
export function exportHfModel(project: ModelStore, checkpointId: number, dir: string): void {
  const c = project.checkpoints.load(checkpointId);
  if (c.extra?.adapter) throw new Error(`checkpoint ${checkpointId} holds a LoRA adapter, not full weights: export it with adapter-io.ts exportCheckpoint`);
  writeHfFolder(dir, modelConfigOf(c.model_config), weightsFromBytes(c.weights), TextTokenizer.fromJSON(c.tokenizer));
}

export interface ImportOptions extends HubDownloadOptions {
  name?: string;
  /** Tensors converted to float32 so far / in all (after any download). */
  onTensor?: TensorProgress;
}

/**
 * Imports a local folder or `hf:OWNER/NAME[@revision]` (downloaded into, or found in, the Hugging
 * Face cache: hf-hub.ts) as a new 'base' checkpoint.
 */
export async function importModelSource(
  project: ModelStore,
  source: string,
  opts: ImportOptions = {},
): Promise<{ checkpoint: number; folder: string; commit?: string; downloaded?: number; fromCache?: boolean }> {
  if (!source.startsWith(HF_PREFIX)) return { checkpoint: importHfModel(project, source, opts.name, undefined, opts.onTensor), folder: resolve(source) };
  const { repo } = parseHubId(source);
  const snap = await downloadHubModel(source, opts);
  const checkpoint = importHfModel(project, snap.folder, opts.name ?? repo, `hf:${repo}@${snap.commit}`, opts.onTensor);
  return { checkpoint, folder: snap.folder, commit: snap.commit, downloaded: snap.downloaded, fromCache: snap.fromCache };
}

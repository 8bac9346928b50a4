// Models ↔ checkpoints in the project store: weights and optimizer state as safetensors bytes, the
// model config (GPT-2 or Llama family) as JSON, the tokenizer as tokenizer.json text. Every stage saves and loads through here.
import { GPT, parseModelConfig, type ModelConfig } from '../models/model.js';
import type { AdapterMetadata } from '../models/lora.js';
import type { AdamWState } from '../train/optim.js';
import { readSafetensors, writeSafetensors, type Tensor } from './safetensors.js';
import { TextTokenizer } from '../models/tokenizer.js';
import type { CheckpointInfo, LoadedCheckpoint, NewCheckpoint } from '../../shared/records.js';
import type { CheckpointStage } from '../../shared/vocabulary.js';

/**
 * What saving and loading models needs of a project: its checkpoints. The store's Project
 * (store/project.ts, with store/checkpoints.ts) is one, so the engine imports no store module.
 */
export interface ModelStore {
  checkpoints: {
    /** Writes a checkpoint; returns its id. */
    save(c: NewCheckpoint): number;
    /** Reads one back, its sha256 verified. */
    load(id: number): LoadedCheckpoint;
    /** Every checkpoint's metadata (where a store can list them: a merged LoRA base is then reused). */
    list?(): CheckpointInfo[];
  };
}

export function weightsToBytes(weights: Record<string, Float32Array>, shapes?: Record<string, number[]>): Uint8Array {
  const tensors: Record<string, Tensor> = {};
  for (const [name, data] of Object.entries(weights)) tensors[name] = { shape: shapes?.[name] ?? [data.length], data };
  return writeSafetensors(tensors, { format: 'pt' });
}

export function weightsFromBytes(bytes: Uint8Array): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(readSafetensors(bytes).tensors)) out[name] = t.data;
  return out;
}

/** AdamW moments as tensors `m.<key>` / `v.<key>`, the step count in the metadata. */
export function optimizerToBytes(state: AdamWState): Uint8Array {
  const tensors: Record<string, Tensor> = {};
  for (const [k, d] of Object.entries(state.m)) tensors[`m.${k}`] = { shape: [d.length], data: d };
  for (const [k, d] of Object.entries(state.v)) tensors[`v.${k}`] = { shape: [d.length], data: d };
  return writeSafetensors(tensors, { step: String(state.step) });
}

export function optimizerFromBytes(bytes: Uint8Array): AdamWState {
  const { tensors, metadata } = readSafetensors(bytes);
  const state: AdamWState = { step: Number(metadata.step ?? 0), m: {}, v: {} };
  for (const [name, t] of Object.entries(tensors)) {
    if (name.startsWith('m.')) state.m[name.slice(2)] = t.data;
    else if (name.startsWith('v.')) state.v[name.slice(2)] = t.data;
  }
  return state;
}

/** Weight shapes by HF name, so stored safetensors carry real shapes (readable by other tools). */
export function modelShapes(model: GPT): Record<string, number[]> {
  return Object.fromEntries(Object.entries(model.weightVariables()).map(([name, v]) => [name, v.shape]));
}

/**
 * The language-model part of a stored model config. Reward/value checkpoints may store a `head`
 * key next to the model's fields; anything else unknown is rejected by the strict schemas.
 */
export function modelConfigOf(modelConfig: unknown): ModelConfig {
  const { head: _head, ...lm } = (modelConfig ?? {}) as Record<string, unknown>;
  return parseModelConfig(lm);
}

export interface SaveModelOptions {
  name: string;
  stage: CheckpointStage;
  model: GPT;
  tokenizer: TextTokenizer;
  runId?: number | null;
  parentId?: number | null;
  step?: number;
  optimizer?: AdamWState | null;
  extra?: Record<string, unknown> | null;
  /** Extra tensors stored with the weights (e.g. a reward head's `score.*`). */
  extraWeights?: Record<string, Float32Array>;
  /** For a model with LoRA adapters: the checkpoint holding the base weights they go on. */
  adapterBase?: number;
}

/**
 * Saves a model as a checkpoint. A model with LoRA adapters stores only the adapters' tensors,
 * and `extra.adapter` (r, alpha, dropout, targets, base) points to the checkpoint of its base.
 */
export function saveModel(project: ModelStore, o: SaveModelOptions): number {
  const lora = o.model.lora;
  if (lora) {
    if (o.adapterBase === undefined) throw new Error('a model with LoRA adapters is saved with the checkpoint of its base (adapterBase)');
    const adapter: AdapterMetadata = { ...lora.config, base: o.adapterBase };
    const vars = lora.namedVariables();
    return project.checkpoints.save({
      name: o.name,
      stage: o.stage,
      runId: o.runId ?? null,
      parentId: o.parentId ?? null,
      step: o.step ?? 0,
      modelConfig: o.model.config,
      tokenizer: o.tokenizer.toJSON(),
      weights: weightsToBytes({ ...lora.getWeights(), ...(o.extraWeights ?? {}) }, Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v.shape]))),
      optimizer: o.optimizer ? optimizerToBytes(o.optimizer) : null,
      extra: { ...(o.extra ?? {}), adapter },
    });
  }
  const weights = { ...o.model.getWeights(), ...(o.extraWeights ?? {}) };
  return project.checkpoints.save({
    name: o.name,
    stage: o.stage,
    runId: o.runId ?? null,
    parentId: o.parentId ?? null,
    step: o.step ?? 0,
    modelConfig: o.model.config,
    tokenizer: o.tokenizer.toJSON(),
    weights: weightsToBytes(weights, modelShapes(o.model)),
    optimizer: o.optimizer ? optimizerToBytes(o.optimizer) : null,
    extra: o.extra ?? null,
  });
}

export interface LoadedModel {
  model: GPT;
  tokenizer: TextTokenizer;
  config: ModelConfig;
  info: CheckpointInfo;
  /** Every stored tensor by name (the GPT's and any head's). */
  weights: Record<string, Float32Array>;
  optimizer: AdamWState | null;
}

/** The stored tensors that are not LoRA adapter weights (e.g. a reward head's `score.*`). */
export function nonAdapterTensors(weights: Record<string, Float32Array>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(weights).filter(([k]) => !/\.lora_[AB]\.weight$/.test(k)));
}

/** The LoRA adapter a checkpoint holds (its `extra.adapter`), or null for full weights. */
export function adapterOf(info: { extra?: Record<string, unknown> | null }): AdapterMetadata | null {
  const a = info.extra?.adapter as AdapterMetadata | undefined;
  return a && typeof a.base === 'number' ? a : null;
}

/**
 * Loads a checkpoint (sha256 verified by the store) into a GPT; the caller disposes the model.
 * An adapter checkpoint loads as its base's weights with the adapter: attached (`adapter:
 * 'attach'`: training goes on in the adapter alone, the forward is exactly base + adapter) or, by
 * default, merged into the weights (W + (alpha/r)·(B·A)ᵀ), so stages and tools that know nothing of
 * adapters get a plain model and `weights` holds every weight.
 */
export function loadModel(project: ModelStore, checkpointId: number, seed = 0, opts: { adapter?: 'attach' | 'merge' } = {}): LoadedModel {
  const c = project.checkpoints.load(checkpointId);
  const config = modelConfigOf(c.model_config);
  let weights = weightsFromBytes(c.weights);
  const tokenizer = TextTokenizer.fromJSON(c.tokenizer);
  const adapter = adapterOf(c);
  let model: GPT;
  if (adapter) {
    let base: ReturnType<ModelStore['checkpoints']['load']>;
    try {
      base = project.checkpoints.load(adapter.base);
    } catch (e) {
      throw new Error(`checkpoint ${checkpointId} is a LoRA adapter on checkpoint ${adapter.base}, which cannot be loaded: ${(e as Error).message}`);
    }
    if (adapterOf(base)) throw new Error(`checkpoint ${checkpointId}: its base ${adapter.base} is itself an adapter`);
    model = GPT.fromWeights(config, weightsFromBytes(base.weights), seed);
    const { base: _b, ...loraConfig } = adapter;
    model.loadLora(loraConfig, weights, seed);
    if (opts.adapter !== 'attach') {
      model.mergeLora();
      // The merged weights, plus what else the checkpoint stored (a reward model's score head).
      weights = { ...model.getWeights(), ...nonAdapterTensors(weights) };
    }
  } else {
    model = GPT.fromWeights(config, weights, seed);
  }
  const { tokenizer: _t, weights: _w, optimizer, ...info } = c;
  return { model, tokenizer, config, info, weights, optimizer: optimizer ? optimizerFromBytes(optimizer) : null };
}

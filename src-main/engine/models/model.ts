// The language model every stage trains and samples from, whatever its architecture: parameters
// as tf.Variables under their Hugging Face names, weights in and out, hidden states, log-probs and
// the KV-cached forward. The architecture is a family (models/family.ts) chosen by the config:
// GPT-2 (models/gpt2.ts) or the Llama family (models/llama.ts: Llama, Qwen2, Mistral). Plus
// ScalarHead, the one-number-per-token head of reward and value models.
import * as tf from '@tensorflow/tfjs';
import { linear, targetLogprobs, tiedLogits } from '../kernels/fast-ops.js';
import type { EnginePath, FamilyContext, ForwardOptions, KVCache, ModelFamily } from './family.js';
import { gpt2Family, gptConfigSchema, type GPTConfig } from './gpt2.js';
import { llamaFamily } from './llama.js';
import { llamaConfigSchema, type LlamaConfig } from './llama-config.js';
import { LoraAdapter, type LoraConfig, type LoraConfigInput } from './lora.js';
import { Rng } from '../rng.js';

export { gptConfigSchema, parameterShapes, type GPTConfig } from './gpt2.js';
export { llamaConfigSchema, type LlamaConfig } from './llama-config.js';
export { disposeCache, type EnginePath, type ForwardOptions, type KVCache } from './family.js';

/** A model's config: GPT-2's fields as they always were, or a Llama-family config (`family: 'llama'`). */
export type ModelConfig = GPTConfig | LlamaConfig;

export function isLlamaConfig(c: ModelConfig): c is LlamaConfig {
  return (c as { family?: string }).family === 'llama';
}

/** Checks a stored or given config: a `family` field selects the Llama schema, none is GPT-2. */
export function parseModelConfig(raw: unknown): ModelConfig {
  const family = (raw as { family?: unknown } | null)?.family;
  if (family === undefined) return gptConfigSchema.parse(raw);
  if (family === 'llama') return llamaConfigSchema.parse(raw);
  throw new Error(`unknown model family ${JSON.stringify(family)} (gpt2 and llama are supported)`);
}

/** The family that computes a config. */
export function familyOf(c: ModelConfig): ModelFamily<ModelConfig> {
  return (isLlamaConfig(c) ? llamaFamily : gpt2Family) as ModelFamily<ModelConfig>;
}

/** Which kernels and ops run a model of this config on the current backend, and why. */
export function enginePathOf(c: ModelConfig): EnginePath {
  return familyOf(c).enginePath(c);
}

/** Parameter names and shapes of any family, in a fixed order. */
export function modelParameterShapes(c: ModelConfig): Array<[string, number[]]> {
  return familyOf(c).parameterShapes(c);
}

/** A tiny model that trains in minutes on a laptop CPU. */
export function defaultGPTConfig(): GPTConfig {
  return { vocab_size: 2048, n_positions: 256, n_embd: 256, n_layer: 4, n_head: 4, layer_norm_epsilon: 1e-5, dropout: 0 };
}

let instanceCounter = 0;

/** tf.Variable names are global in tfjs; each model instance gets its own prefix. */
function uniquePrefix(kind: string): string {
  instanceCounter += 1;
  return `${kind}${instanceCounter}_${Math.random().toString(36).slice(2, 8)}/`;
}

export interface LogprobOptions extends ForwardOptions {
  /** Logits are divided by this before the softmax (PPO scores rollouts at the sampling temperature). */
  temperature?: number;
}

/** A causal language model of any family (the name is GPT-2's, which came first). */
export class GPT {
  readonly config: ModelConfig;
  readonly family: ModelFamily<ModelConfig>;
  private readonly params: Map<string, tf.Variable>;
  private readonly rng: Rng;
  private readonly ctx: FamilyContext;
  private adapter: LoraAdapter | null = null;

  private constructor(config: ModelConfig, values: Record<string, tf.Tensor | Float32Array>, seed: number) {
    this.config = config;
    this.family = familyOf(config);
    this.rng = new Rng(seed).fork('dropout');
    const prefix = uniquePrefix(this.family.id === 'gpt2' ? 'gpt' : this.family.id);
    this.params = new Map();
    for (const [name, shape] of this.family.parameterShapes(config)) {
      const v = values[name];
      if (v === undefined) throw new Error(`missing weight "${name}"`);
      const size = shape.reduce((a, b) => a * b, 1);
      if ((v instanceof Float32Array ? v.length : v.size) !== size) {
        throw new Error(`weight "${name}" has ${v instanceof Float32Array ? v.length : v.size} values, expected shape [${shape}]`);
      }
      const t = v instanceof Float32Array ? tf.tensor(v, shape, 'float32') : tf.reshape(v, shape);
      this.params.set(name, tf.variable(t, true, prefix + name));
      t.dispose();
    }
    this.ctx = {
      p: (name) => this.p(name),
      dropout: (x, training) => this.dropout(x, training),
      adapt: (path, x, y, training) => {
        const d = this.adapter?.delta(path, x, training);
        return d ? (tf.add(y, d) as tf.Tensor2D) : y;
      },
    };
  }

  /** A freshly initialised model (the family's init; GPT-2: N(0, 0.02), residual projections by 1/√(2·n_layer)). */
  static create(config: ModelConfig, seed: number): GPT {
    const cfg = parseModelConfig(config);
    return new GPT(cfg, familyOf(cfg).initialWeights(cfg, new Rng(seed).fork('init')), seed);
  }

  /** A model from weights by HF name (GPT-2: without `transformer.`, Conv1D layout [in,out]; Llama: projections [in,out]). */
  static fromWeights(config: ModelConfig, weights: Record<string, Float32Array>, seed = 0): GPT {
    return new GPT(parseModelConfig(config), weights, seed);
  }

  /**
   * Adds fresh LoRA adapters (B = 0: the model computes exactly what it did). From then on only
   * the adapters train: namedVariables() returns theirs, the base weights stay as they are.
   */
  addLora(config: LoraConfigInput, seed: number): LoraAdapter {
    if (this.adapter) throw new Error('this model already has LoRA adapters');
    this.adapter = LoraAdapter.create(this.family.parameterShapes(this.config), config, new Rng(seed).fork('lora'));
    return this.adapter;
  }

  /** Adds stored LoRA adapters (weights keyed `<module>.lora_A.weight` / `.lora_B.weight`). */
  loadLora(config: LoraConfigInput, weights: Record<string, Float32Array>, seed = 0): LoraAdapter {
    if (this.adapter) throw new Error('this model already has LoRA adapters');
    this.adapter = LoraAdapter.fromWeights(this.family.parameterShapes(this.config), config, weights, new Rng(seed).fork('lora'));
    return this.adapter;
  }

  /** The model's LoRA adapters, or null for a fully trained model. */
  get lora(): LoraAdapter | null {
    return this.adapter;
  }

  /** The LoRA config when adapters are attached. */
  loraConfig(): LoraConfig | null {
    return this.adapter?.config ?? null;
  }

  /** True when adapters are attached and on: the forward differs from the base weights' alone. */
  adaptersActive(): boolean {
    return this.adapter !== null && this.adapter.enabled;
  }

  /**
   * Runs fn on the base model, adapters switched off (e.g. the reference model of PPO/DPO: the
   * same weights, no second copy), and switches them back on after.
   */
  withAdaptersOff<T>(fn: () => T): T {
    const a = this.adapter;
    if (!a || !a.enabled) return fn();
    a.enabled = false;
    try {
      return fn();
    } finally {
      a.enabled = true;
    }
  }

  /** Folds the adapters into the weights (W + (alpha/r)·(B·A)ᵀ) and drops them: a fully trainable model. */
  mergeLora(): void {
    const a = this.adapter;
    if (!a) return;
    this.setWeights(a.merge(this.getWeights()));
    a.dispose();
    this.adapter = null;
  }

  /** Copies of all base weights by HF name (without any adapter). */
  getWeights(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const [name, v] of this.params) out[name] = v.dataSync() as Float32Array;
    return out;
  }

  /** Overwrite all weights in place (e.g. to reset a policy to its SFT start). */
  setWeights(weights: Record<string, Float32Array>): void {
    for (const [name, v] of this.params) {
      const w = weights[name];
      if (!w || w.length !== v.size) throw new Error(`weight "${name}" missing or of wrong size`);
      tf.tidy(() => v.assign(tf.tensor(w, v.shape, 'float32')));
    }
  }

  /** The variables training updates: every weight, or only the LoRA adapters' when attached. */
  variables(): tf.Variable[] {
    return Object.values(this.namedVariables());
  }

  /**
   * The variables training updates, by stable name (keys of optimizer state across processes):
   * the weights by HF name, or, with LoRA adapters attached, only the adapters' (the base is frozen).
   */
  namedVariables(): Record<string, tf.Variable> {
    return this.adapter ? this.adapter.namedVariables() : Object.fromEntries(this.params);
  }

  /** The base weights' variables by HF name, adapters or not (e.g. for kernels that pack them). */
  weightVariables(): Record<string, tf.Variable> {
    return Object.fromEntries(this.params);
  }

  /** Base weights (adapters not counted). */
  parameterCount(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  /** Parameters training updates: all of them, or the adapters' alone. */
  trainableParameterCount(): number {
    return this.adapter ? this.adapter.parameterCount() : this.parameterCount();
  }

  /** Which kernels and ops run this model's training and generation on the current backend, and why. */
  enginePath(): EnginePath {
    return this.family.enginePath(this.config);
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }

  private dropout(x: tf.Tensor2D, training: boolean | undefined): tf.Tensor2D {
    const rate = this.config.dropout;
    if (!training || rate === 0) return x;
    return tf.dropout(x, rate, undefined, this.rng.seed()) as tf.Tensor2D;
  }

  /** Final hidden states [B,T,C] (after the last norm). */
  hidden(ids: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    return this.family.hidden(this.ctx, this.config, ids, opts);
  }

  /** The [V,C] output matrix whose rows score the tokens (GPT-2: wte, tied; Llama: lm_head or the tied embedding). */
  outputMatrix(): tf.Tensor2D {
    return this.p(this.family.outputWeight(this.config)) as tf.Tensor2D;
  }

  /** Next-token logits [B,T,V] from hidden states (hidden · outputᵀ). */
  logits(hidden: tf.Tensor3D): tf.Tensor3D {
    const [B, T, C] = hidden.shape;
    return tf.tidy(() => {
      return tf.reshape(tiedLogits(tf.reshape(hidden, [B * T, C]) as tf.Tensor2D, this.outputMatrix()), [B, T, this.config.vocab_size]) as tf.Tensor3D;
    });
  }

  /** [B, T−1]: log p(ids[t+1] | ids[..t]). Differentiable. */
  tokenLogprobs(ids: tf.Tensor2D, opts: LogprobOptions = {}): tf.Tensor2D {
    const [B, T] = ids.shape;
    return tf.tidy(() => {
      const h = this.hidden(ids, opts);
      const C = this.config.n_embd;
      const hs = tf.reshape(tf.slice(h, [0, 0, 0], [B, T - 1, C]), [B * (T - 1), C]) as tf.Tensor2D;
      let logits = tiedLogits(hs, this.outputMatrix());
      if (opts.temperature !== undefined && opts.temperature !== 1) logits = tf.div(logits, opts.temperature);
      const targets = tf.reshape(tf.slice(tf.cast(ids, 'int32'), [0, 1], [B, T - 1]), [-1]) as tf.Tensor1D;
      return tf.reshape(targetLogprobs(logits, targets), [B, T - 1]) as tf.Tensor2D;
    });
  }

  /**
   * Inference-only forward of new tokens `ids` [B,t] given (and extending) a KV cache; returns the
   * logits of the last new position [B,V]. With `cache` null it starts one (prefill).
   * `attentionMask` [B,t] marks padding among the new tokens (left-padded prompts).
   */
  forwardCached(ids: tf.Tensor2D, cache: KVCache | null, attentionMask?: tf.Tensor2D): { logits: tf.Tensor2D; cache: KVCache } {
    return this.family.forwardCached(this.ctx, this.config, ids, cache, attentionMask);
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
    this.adapter?.dispose();
    this.adapter = null;
  }
}

/** One scalar per token (reward or value), a linear map of the final hidden state. */
export class ScalarHead {
  private readonly w: tf.Variable; // [C,1]
  private readonly b: tf.Variable; // [1]
  readonly nEmbd: number;

  private constructor(nEmbd: number, w: Float32Array, b: Float32Array) {
    const prefix = uniquePrefix('head');
    this.nEmbd = nEmbd;
    this.w = tf.variable(tf.tensor2d(w, [nEmbd, 1]), true, prefix + 'score.weight');
    this.b = tf.variable(tf.tensor1d(b), true, prefix + 'score.bias');
  }

  static create(nEmbd: number, seed: number): ScalarHead {
    const w = new Rng(seed).fork('scalar-head').normalArray(nEmbd, 1 / Math.sqrt(nEmbd + 1));
    return new ScalarHead(nEmbd, w, new Float32Array(1));
  }

  /** `score.weight` is [1,C] (torch Linear layout, same values as our [C,1]); `score.bias` [1]. */
  static fromWeights(weights: Record<string, Float32Array>): ScalarHead {
    const w = weights['score.weight'];
    if (!w) throw new Error('missing weight "score.weight"');
    return new ScalarHead(w.length, w, weights['score.bias'] ?? new Float32Array(1));
  }

  getWeights(): Record<string, Float32Array> {
    return { 'score.weight': this.w.dataSync() as Float32Array, 'score.bias': this.b.dataSync() as Float32Array };
  }

  /** hidden [B,T,C] → [B,T]. */
  apply(hidden: tf.Tensor3D): tf.Tensor2D {
    const [B, T, C] = hidden.shape;
    return tf.tidy(() => tf.reshape(linear(tf.reshape(hidden, [B * T, C]) as tf.Tensor2D, this.w as tf.Tensor2D, this.b as tf.Tensor1D), [B, T]) as tf.Tensor2D);
  }

  variables(): tf.Variable[] {
    return [this.w, this.b];
  }

  namedVariables(): Record<string, tf.Variable> {
    return { 'score.weight': this.w, 'score.bias': this.b };
  }

  dispose(): void {
    this.w.dispose();
    this.b.dispose();
  }
}

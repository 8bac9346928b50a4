// Messages between the trainer (main side) and its replica workers.
import type { ModelConfig } from '../models/model.js';
import type { Backend } from '../../shared/vocabulary.js';

/** What a worker needs to build one replica of a model. */
export interface ReplicaSpec {
  /** `gpt`, or the kind a module registered its builder under (replicable.ts defineReplicaBuilder). */
  kind: string;
  /** `import.meta.url` of the module that registers the builder of `kind` (none for `gpt`). */
  module?: string;
  config: ModelConfig;
  /** HF parameter names (plus e.g. a reward head's `score.*`); without the GPT's when `base` names a role. */
  weights: Record<string, Float32Array>;
  /**
   * The role (built before this one) whose GPT base weights this model computes with, shared and
   * not copied (models/model.ts GPT.shareBase): e.g. a LoRA policy's reference, or a LoRA value
   * model on the reward model's backbone.
   */
  base?: string;
  /** Numbers the builder needs besides the weights (e.g. a reward model's normalisation). */
  numbers?: Record<string, number>;
  /** A GPT's LoRA adapters (models/lora.ts): their config and weights, keyed as the adapter names them. */
  lora?: { config: unknown; weights: Record<string, Float32Array> };
}

export interface ReplicaWorkerInput {
  specs: Record<string, ReplicaSpec>;
  /** The main side's tfjs backend: replicas must compute exactly like it. */
  backend: Extract<Backend, 'wasm' | 'cpu'>;
}

export type ToReplica =
  | { type: 'weights'; role: string; weights: Record<string, Float32Array> }
  | { type: 'grads'; id: number; module: string; task: string; roles: string[]; input: unknown }
  | { type: 'run'; id: number; module: string; task: string; input: unknown };

export type FromReplica =
  | { type: 'ready' }
  | { type: 'grads'; id: number; loss: number; grads: Record<string, Float32Array>; extras: Record<string, Float32Array> }
  | { type: 'result'; id: number; output: unknown }
  | { type: 'error'; id: number | null; message: string };

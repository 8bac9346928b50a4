// Messages between the trainer (main side) and its replica workers.
import type { ModelConfig } from '../models/model.js';
import type { Backend } from '../../shared/vocabulary.js';

/** What a worker needs to build one replica of a model. */
export interface ReplicaSpec {
  kind: 'gpt' | 'reward';
  config: ModelConfig;
  /** HF parameter names (plus `score.*` for a reward model). */
  weights: Record<string, Float32Array>;
  /** Reward normalisation (reward models only). */
  gain?: number;
  bias?: number;
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

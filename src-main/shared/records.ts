// The records the store keeps and the engine reads and writes: a checkpoint (new, listed, loaded)
// and an SFT demonstration. Defined here, below both, so the engine names no store module
// (the two sit side by side; neither imports the other).
import type { CheckpointStage } from './vocabulary.js';

export interface NewCheckpoint {
  name: string;
  stage: CheckpointStage;
  runId?: number | null;
  parentId?: number | null;
  step?: number;
  /** The resolved model config (GPTConfig, plus the head for reward/value models). */
  modelConfig: unknown;
  /** tokenizer.json text. */
  tokenizer: string;
  weights: Uint8Array;
  optimizer?: Uint8Array | null;
  /** Anything else a stage needs back: resume state, reward normalisation, final metrics. */
  extra?: Record<string, unknown> | null;
}

export interface CheckpointInfo {
  id: number;
  name: string;
  stage: CheckpointStage;
  run_id: number | null;
  parent_id: number | null;
  step: number;
  model_config: unknown;
  extra: Record<string, unknown> | null;
  sha256: string;
  created_at: number;
  weights_bytes: number;
  has_optimizer: boolean;
  /** Ancestor ids, parent first (the parent chain up to a base or imported model). */
  lineage: number[];
}

export interface LoadedCheckpoint extends CheckpointInfo {
  tokenizer: string;
  weights: Uint8Array;
  optimizer: Uint8Array | null;
}

export interface ChatMessage {
  role: string;
  content: string;
}

export type SftRecord =
  | { kind: 'completion'; prompt: string; completion: string }
  | { kind: 'messages'; messages: ChatMessage[] }
  | { kind: 'text'; text: string };

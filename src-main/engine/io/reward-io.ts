// Reward models ↔ checkpoints: the backbone's GPT-2 weights plus the head's `score.weight` /
// `score.bias` (the names of HF's GPT2ForSequenceClassification), the normalisation gain and bias
// in `extra.normalisation`. Used by PPO, best-of-N and Compare.
import type { AdamWState } from '../train/optim.js';
import { loadModel, saveModel, type LoadedModel, type ModelStore } from './checkpoint-io.js';
import { ScalarHead } from '../models/model.js';
import { RewardModel } from '../train/reward.js';
import type { TextTokenizer } from '../models/tokenizer.js';

export interface LoadedRewardModel extends Omit<LoadedModel, 'model'> {
  model: RewardModel;
  /** Frees the backbone and the head (same as `model.dispose()`). */
  dispose(): void;
}

/**
 * Loads a reward model. A LoRA reward model (adapter and head stored, extra.adapter naming its
 * base) loads as its base with the adapter merged in, like any checkpoint (checkpoint-io.ts).
 */
export function loadRewardModel(project: ModelStore, checkpointId: number, seed = 0): LoadedRewardModel {
  return rewardModelOf(loadModel(project, checkpointId, seed));
}

/** A loaded checkpoint (any LoRA adapter merged or attached) with its stored head and normalisation, as a reward model. */
export function rewardModelOf<L extends LoadedModel>(loaded: L): Omit<L, 'model'> & { model: RewardModel; dispose(): void } {
  if (!loaded.weights['score.weight']) {
    loaded.model.dispose();
    throw new Error(`checkpoint ${loaded.info.id} (${loaded.info.stage}) is not a reward model: it has no scalar head`);
  }
  const head = ScalarHead.fromWeights(loaded.weights);
  const norm = (loaded.info.extra?.normalisation ?? { gain: 1, bias: 0 }) as { gain: number; bias: number };
  const model = new RewardModel(loaded.model, head, norm.gain, norm.bias);
  return { ...loaded, model, dispose: () => model.dispose() };
}

export function saveRewardModel(
  project: ModelStore,
  o: {
    name: string;
    model: RewardModel;
    tokenizer: TextTokenizer;
    runId: number;
    parentId: number;
    step: number;
    optimizer?: AdamWState | null;
    extra?: Record<string, unknown>;
    /** A backbone with LoRA adapters: the checkpoint of its base (the checkpoint then stores the adapter and the head only). */
    adapterBase?: number;
  },
): number {
  return saveModel(project, {
    name: o.name,
    stage: 'rm',
    model: o.model.backbone,
    tokenizer: o.tokenizer,
    runId: o.runId,
    parentId: o.parentId,
    step: o.step,
    optimizer: o.optimizer ?? null,
    extraWeights: o.model.head.getWeights(),
    extra: { ...(o.extra ?? {}), normalisation: { gain: o.model.gain, bias: o.model.bias } },
    ...(o.adapterBase !== undefined ? { adapterBase: o.adapterBase } : {}),
  });
}

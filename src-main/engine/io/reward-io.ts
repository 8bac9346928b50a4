// Reward models ↔ checkpoints: the backbone's GPT-2 weights plus the head's `score.weight` /
// `score.bias` (the names of HF's GPT2ForSequenceClassification), the normalisation gain and bias
// in `extra.normalisation`. Used by PPO, best-of-N and Compare.
import type { AdamWState } from '../train/optim.js';
import { loadModel, saveModel, type LoadedModel } from './checkpoint-io.js';
import { ScalarHead } from '../models/model.js';
import { RewardModel } from '../train/reward.js';
import type { TextTokenizer } from '../models/tokenizer.js';
import type { Project } from '../../store/project.js';

export interface LoadedRewardModel extends Omit<LoadedModel, 'model'> {
  model: RewardModel;
  /** Frees the backbone and the head (same as `model.dispose()`). */
  dispose(): void;
}

export function loadRewardModel(project: Project, checkpointId: number, seed = 0): LoadedRewardModel {
  const loaded = loadModel(project, checkpointId, seed);
  if (!loaded.weights['score.weight']) {
    loaded.model.dispose();
    throw new Error(`checkpoint ${checkpointId} (${loaded.info.stage}) is not a reward model: it has no scalar head`);
  }
  const head = ScalarHead.fromWeights(loaded.weights);
  const norm = (loaded.info.extra?.normalisation ?? { gain: 1, bias: 0 }) as { gain: number; bias: number };
  const model = new RewardModel(loaded.model, head, norm.gain, norm.bias);
  return { ...loaded, model, dispose: () => model.dispose() };
}

export function saveRewardModel(
  project: Project,
  o: {
    name: string;
    model: RewardModel;
    tokenizer: TextTokenizer;
    runId: number;
    parentId: number;
    step: number;
    optimizer?: AdamWState | null;
    extra?: Record<string, unknown>;
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
  });
}

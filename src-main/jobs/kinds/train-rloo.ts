// The `train-rloo` job: RLOO (engine/train/rloo.ts) from an SFT checkpoint against a reward model,
// or the resume of an interrupted run; what it shares with GRPO is in train-critic-free.ts.
import { trainRloo } from '../../engine/train/rloo.js';
import { rlooRunConfigSchema, type RlooRunConfig } from '../../train/critic-free-run-config.js';
import { criticFreeJob } from './train-critic-free.js';

export const trainRlooJob = criticFreeJob<RlooRunConfig>({
  stage: 'rloo',
  label: 'RLOO',
  schema: rlooRunConfigSchema,
  train: trainRloo,
  message: (m) => `score ${m['objective/scores']!.toFixed(3)} · KL ${m['objective/kl']!.toFixed(3)}`,
});

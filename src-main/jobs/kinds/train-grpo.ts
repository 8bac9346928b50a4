// The `train-grpo` job: GRPO (engine/train/grpo.ts) from an SFT checkpoint against a reward model,
// or the resume of an interrupted run; what it shares with RLOO is in train-critic-free.ts.
import { trainGrpo } from '../../engine/train/grpo.js';
import { grpoRunConfigSchema, type GrpoRunConfig } from '../../train/critic-free-run-config.js';
import { criticFreeJob } from './train-critic-free.js';

export const trainGrpoJob = criticFreeJob<GrpoRunConfig>({
  stage: 'grpo',
  label: 'GRPO',
  schema: grpoRunConfigSchema,
  train: trainGrpo,
  message: (m) => `reward ${m.reward!.toFixed(3)} ± ${m.reward_std!.toFixed(3)} · KL ${m.kl!.toFixed(4)}`,
});

// The configs of the RLOO and GRPO stages: their engine's config plus the reward model the policy
// is optimised against (a checkpoint of stage 'rm'). The catalogue (stages.ts) validates and shows
// them; their jobs (jobs/kinds/train-rloo.ts, train-grpo.ts) run them.
import { z } from 'zod';
import { grpoConfigSchema } from '../engine/train/grpo.js';
import { rlooConfigSchema } from '../engine/train/rloo.js';

const rewardModelField = { reward_model: z.number().int().positive() };

export const rlooRunConfigSchema = rlooConfigSchema.extend(rewardModelField);
export type RlooRunConfig = z.infer<typeof rlooRunConfigSchema>;

export const grpoRunConfigSchema = grpoConfigSchema.extend(rewardModelField);
export type GrpoRunConfig = z.infer<typeof grpoRunConfigSchema>;

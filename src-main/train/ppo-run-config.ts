// What a PPO run is configured with: the engine's PPO config plus the reward model to optimise
// against, named by its checkpoint id. The run form, the CLI and the `train-ppo` job validate it.
import { z } from 'zod';
import { ppoConfigSchema } from '../engine/train/ppo.js';

export const ppoRunConfigSchema = ppoConfigSchema.extend({
  /** Checkpoint id of the reward model (stage 'rm'). */
  reward_model: z.number().int().positive(),
});
export type PpoRunConfig = z.infer<typeof ppoRunConfigSchema>;

// The names of the training stages, the one word each that runs, checkpoints, job kinds
// (`train-<stage>`) and the CLI (`rlhf-lab train <stage>`) use. Everything else about a stage
// (its config, job, colour, form) is declared in its catalogue entry, src-main/train/stages.ts,
// which must have one entry per name here (the type checker holds it to that).
import { z } from 'zod';

export const RUN_STAGES = ['sft', 'rm', 'ppo', 'dpo', 'rloo', 'grpo'] as const;
export type RunStage = (typeof RUN_STAGES)[number];
export const runStageSchema = z.enum(RUN_STAGES);

/** A checkpoint's stage: a training stage's, or 'base' for a model made or imported untrained. */
export type CheckpointStage = 'base' | RunStage;

export function isRunStage(stage: string): stage is RunStage {
  return (RUN_STAGES as readonly string[]).includes(stage);
}

export function isCheckpointStage(stage: string): stage is CheckpointStage {
  return stage === 'base' || isRunStage(stage);
}

// The words of the domain, each defined once: a `const` list (the order the UI and the CLI show),
// its zod enum (to validate input at the API and in data files) and its type. Everything above
// this folder names these words through here instead of retyping them.
import { z } from 'zod';

/** Which part of the data a prompt or SFT example belongs to: trained on, or held out to evaluate on. */
export const splits = ['train', 'eval'] as const;
export const splitSchema = z.enum(splits);
export type Split = (typeof splits)[number];

/**
 * The training stages a run can be: the one word each that runs, checkpoints, job kinds
 * (`train-<stage>`) and the CLI (`rlhf-lab train <stage>`) use. Everything else about a stage is
 * its entry in the stage catalogue (train/stages.ts), which must have one per name here.
 */
export const runStages = ['sft', 'rm', 'ppo', 'dpo', 'rloo', 'grpo'] as const;
export const runStageSchema = z.enum(runStages);
export type RunStage = (typeof runStages)[number];
export function isRunStage(v: string): v is RunStage {
  return (runStages as readonly string[]).includes(v);
}

/** The RL methods the demo can train side by side from its SFT model against its reward model (`demo --rl`). */
export const demoRlMethods = ['ppo', 'rloo', 'grpo'] as const;
export const demoRlMethodSchema = z.enum(demoRlMethods);
export type DemoRlMethod = (typeof demoRlMethods)[number];

/** What wrote a checkpoint: a run of one of the stages, or nothing yet (a new or imported model, 'base'). */
export const checkpointStages = ['base', ...runStages] as const;
export const checkpointStageSchema = z.enum(checkpointStages);
export type CheckpointStage = (typeof checkpointStages)[number];
export function isCheckpointStage(v: string): v is CheckpointStage {
  return (checkpointStages as readonly string[]).includes(v);
}

/** A pairwise vote on responses A and B, as shown: A better, B better, a tie, or both bad. */
export const voteOutcomes = ['a', 'b', 'tie', 'both_bad'] as const;
export const voteOutcomeSchema = z.enum(voteOutcomes);
export type VoteOutcome = (typeof voteOutcomes)[number];
/** A verdict on A and B that never says "both bad": a judge's, or a vote with "both bad" counted as a tie (what win rates and ratings count). */
export type PairOutcome = Exclude<VoteOutcome, 'both_bad'>;

/** How a labeling task asks for preferences: a ranking of k responses, or a vote on two. */
export const labelModes = ['ranking', 'pairwise'] as const;
export const labelModeSchema = z.enum(labelModes);
export type LabelMode = (typeof labelModes)[number];
/** A pairwise vote compares two responses (a ranking shows the task's k). */
export const PAIRWISE_RESPONSES = 2;

/** The tfjs backends the engine can run on, in the order it tries them when none is asked for. */
export const backends = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export const backendSchema = z.enum(backends);
export type Backend = (typeof backends)[number];
export function isBackend(v: string | undefined): v is Backend {
  return v !== undefined && (backends as readonly string[]).includes(v);
}

/** What a data file can be imported as (data/import.ts reads each). */
export const importKinds = ['prompts', 'sft', 'preferences', 'rankings'] as const;
export const importKindSchema = z.enum(importKinds);
export type ImportKind = (typeof importKinds)[number];

/** What a project's data can be exported as (data/export.ts). */
export const exportKinds = ['preferences', 'sft', 'rankings', 'comparisons', 'prompts'] as const;
export const exportKindSchema = z.enum(exportKinds);
export type ExportKind = (typeof exportKinds)[number];

/** What an annotator can flag a response as, beside ranking or voting on it. */
export const labelFlags = ['unsafe', 'factually_wrong', 'should_say_idk'] as const;
export const labelFlagSchema = z.enum(labelFlags);
export type LabelFlag = (typeof labelFlags)[number];

/** What `data.delete` (data/delete.ts) can delete. */
export const deletableKinds = ['run', 'prompt', 'response', 'sft', 'ranking', 'vote', 'task', 'comparison', 'annotator'] as const;
export const deletableKindSchema = z.enum(deletableKinds);
export type DeletableKind = (typeof deletableKinds)[number];

// The words of the domain, each defined once: a `const` list (the order the UI and the CLI show),
// its zod enum (to validate input at the API and in data files) and its type. Everything above
// this folder names these words through here instead of retyping them.
import { z } from 'zod';

/** The training stages a run can be (train/stages.ts says how each one is trained). */
export const runStages = ['sft', 'rm', 'ppo', 'dpo'] as const;
export const runStageSchema = z.enum(runStages);
export type RunStage = (typeof runStages)[number];

/** What wrote a checkpoint: a run of one of the stages, or nothing yet (a new or imported model, 'base'). */
export const checkpointStages = ['base', ...runStages] as const;
export const checkpointStageSchema = z.enum(checkpointStages);
export type CheckpointStage = (typeof checkpointStages)[number];

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

/** The tfjs backends the engine can run on, in the order it tries them when none is asked for. */
export const backends = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export const backendSchema = z.enum(backends);
export type Backend = (typeof backends)[number];
export function isBackend(v: string | undefined): v is Backend {
  return v !== undefined && (backends as readonly string[]).includes(v);
}

/** What `data.delete` (data/delete.ts) can delete. */
export const deletableKinds = ['run', 'prompt', 'response', 'sft', 'ranking', 'vote', 'task', 'comparison', 'annotator'] as const;
export const deletableKindSchema = z.enum(deletableKinds);
export type DeletableKind = (typeof deletableKinds)[number];

// The stage catalogue: the one place a training stage is declared. Each entry gives the stage's
// label, colour, config schema (the engine's, so every default the engine uses is the default the
// form and the CLI show), the checkpoints it starts from, and how its form presents each field.
// What reads it: the CLI (`rlhf-lab train <stage>`, cli/commands/train.ts), the API (train.stages,
// train.validate, train.start, train.resume), Compare's default pair, the renderer's StageBadge
// and New run form (through train.stages). The job that runs a stage is `train-<stage>`, exported
// as `train<Stage>Job` by jobs/kinds/train-<stage>.ts (jobs/registry.ts lists one per name).
// Adding a stage: its engine file, its job, its name in shared/vocabulary.ts (runStages) and its entry here.
import type { z } from 'zod';
import type { StageInfo } from '../shared/contract.js';
import { runStages, type CheckpointStage, type RunStage } from '../shared/vocabulary.js';
import { sftConfigSchema } from '../engine/train/sft.js';
import { rewardConfigSchema } from '../engine/train/reward.js';
import { dpoConfigSchema } from '../engine/train/dpo.js';
import { ppoRunConfigSchema } from './ppo-run-config.js';
import { grpoRunConfigSchema, rlooRunConfigSchema } from './critic-free-run-config.js';
import { demoSettings } from '../demo/pipeline.js';
import { configFields, field, loraFields, rlFields, type FieldInfo } from './config-fields.js';

export interface StageDef {
  /** How people name it ("Reward model", "GRPO"). */
  label: string;
  /** One line under the stage picker. */
  summary: string;
  /** Its badge's background (CSS colour). */
  colour: string;
  /** The strict config schema: the CLI's --config/--set, the form and the job all validate against it. */
  schema: z.ZodType;
  /** Stages whose checkpoints a new run may start from. */
  from: CheckpointStage[];
  /** Config keys that name a checkpoint, with the stage that checkpoint must have (e.g. reward_model → rm). */
  checkpointFields: Record<string, RunStage>;
  /** A policy tuned on preferences: Compare pairs the newest one with the newest SFT by default. */
  rlhf: boolean;
  /** How the form presents the stage's fields (label, help, group); common fields need no entry. */
  form: Record<string, FieldInfo>;
  /** The unbounded field that sets a run's length: the form asks before starting an absurd one. */
  lengthField?: string;
}

/** The stages with a frozen reference say where it comes from when adapters train. */
const referenceLora: Record<string, FieldInfo> = {
  lora_r: field('LoRA rank', 'Train low-rank adapters of this rank on the policy; the reference is then the same weights with them off (no second copy). 0 trains every weight.', 'lora'),
};

const sft: StageDef = {
  lengthField: 'max_steps',
  label: 'SFT',
  summary: 'Supervised fine-tuning on the SFT examples: the model learns to answer as they do.',
  colour: '#e3ecff',
  schema: sftConfigSchema,
  from: ['base', 'sft'],
  checkpointFields: {},
  rlhf: false,
  form: {
    epochs: field('Epochs', 'Passes over the SFT examples (unless Max steps is set).', 'essentials'),
    max_steps: field('Max steps', 'Stop after this many optimizer steps; 0 runs whole epochs.', 'essentials'),
    min_lr_ratio: field('Final LR ratio', 'The cosine decay ends at learning rate × this.', 'advanced'),
    max_length: field('Max tokens per example', "Longer examples are cut, and listed when the run starts; at most the model's context.", 'stage'),
    eval_max_examples: field('Max eval examples', 'Upper bound on held-out examples, so an evaluation stays short.', 'advanced'),
    sample_count: field('Samples per eval', 'Held-out prompts the model answers at each evaluation.', 'stage'),
    sample_max_tokens: field('Sample length', 'Tokens per sample answer.', 'advanced'),
    ...loraFields,
  },
};

const rm: StageDef = {
  label: 'Reward model',
  summary: 'A scalar head learns to score the answers people preferred above the others (Bradley–Terry).',
  colour: '#fdebd3',
  schema: rewardConfigSchema,
  from: ['sft', 'base'],
  checkpointFields: {},
  rlhf: false,
  form: {
    batch_prompts: field('Prompts per step', 'Prompts (each with all its ranked pairs) per optimizer step.', 'essentials'),
    centering: field('Score centering', 'c in c · mean((r_chosen + r_rejected)²): keeps scores near 0; 0 turns it off.', 'stage'),
    margin_per_tier_gap: field('Margin per tier gap', 'Extra margin per ranking tier between two responses; 0 is plain Bradley–Terry.', 'stage'),
    norm_samples: field('Normalisation samples', 'SFT answers to training prompts that set the scores to mean 0, std 1.', 'advanced'),
    norm_temperature: field('Normalisation temperature', 'Sampling temperature of those answers.', 'advanced'),
    norm_max_new_tokens: field('Normalisation answer length', 'Tokens per normalisation answer.', 'advanced'),
    ...loraFields,
    lora_r: field('LoRA rank', 'Train low-rank adapters of this rank on the backbone (the score head trains fully); 0 trains every weight.', 'lora'),
  },
};

const ppo: StageDef = {
  lengthField: 'steps',
  label: 'PPO',
  summary: 'Samples answers, scores them with the reward model and updates the policy with a learned value model as baseline (four models in memory; with LoRA, adapters on one set of base weights).',
  colour: '#dcf3e4',
  schema: ppoRunConfigSchema,
  from: ['sft'],
  checkpointFields: { reward_model: 'rm' },
  rlhf: true,
  form: {
    reward_model: field('Reward model', 'The reward-model checkpoint PPO maximises.', 'essentials'),
    steps: field('Iterations', 'PPO iterations: each samples a batch of answers and updates on it.', 'essentials'),
    batch_size: field('Answers per iteration', 'Prompts answered (rollouts) per iteration.', 'essentials'),
    kl_coef: field('KL penalty β', 'Weight of the KL to the SFT model in the reward: higher stays closer to it.', 'essentials'),
    num_mini_batches: field('Minibatches', 'Each iteration’s answers are split into this many minibatches.', 'stage'),
    num_ppo_epochs: field('PPO epochs', 'Passes over each iteration’s answers.', 'stage'),
    max_new_tokens: field('Answer length', 'Most tokens sampled per answer.', 'stage'),
    temperature: field('Sampling temperature', 'Temperature of the answers PPO learns from.', 'stage'),
    adaptive_kl: field('Adaptive β', 'Move β toward the KL target (Ziegler et al.).', 'stage'),
    kl_target: field('KL target', 'The KL (nats per answer) adaptive β aims at.', 'stage'),
    kl_horizon: field('KL horizon', 'How slowly adaptive β moves.', 'advanced'),
    kl_estimator: field('KL estimator', 'k1 = log p − log p_ref; k3 = (r − 1) − log r, never negative.', 'stage'),
    cliprange: field('Policy clip range', 'ε of the clipped surrogate objective.', 'stage'),
    cliprange_value: field('Value clip range', 'How far a value prediction may move per update.', 'stage'),
    vf_coef: field('Value loss weight', 'Weight of the value loss next to the policy loss.', 'stage'),
    gamma: field('Discount γ', 'Discount of later rewards in the advantages.', 'stage'),
    lam: field('GAE λ', 'Bias–variance trade-off of the advantage estimates.', 'stage'),
    whiten_advantages: field('Whiten advantages', 'Normalise advantages to mean 0, std 1 per batch.', 'stage'),
    missing_eos_penalty: field('Missing-end penalty', 'Subtracted from the score of an answer that never ends.', 'stage'),
    score_clip: field('Score clip', 'Clip scores to ± this; empty turns it off.', 'stage'),
    value_init: field('Value model starts from', 'reward: the reward model (InstructGPT); policy: the SFT model.', 'stage'),
    top_k: field('Top-k', 'Sample among the k likeliest tokens; 0 turns it off.', 'advanced'),
    top_p: field('Top-p', 'Sample among the likeliest tokens covering this probability; 1 turns it off.', 'advanced'),
    ratio_threshold: field('Ratio guard', 'Skip a minibatch whose mean probability ratio exceeds this.', 'advanced'),
    early_stopping: field('Stop on KL', "Stop an iteration's updates once approx KL exceeds 1.5 × target KL.", 'advanced'),
    target_kl: field('Target KL', 'The approx KL that stops an iteration’s updates.', 'advanced'),
    sample_every: field('Samples every', 'Iterations between stored sample tables.', 'advanced'),
    sample_rows: field('Sample rows', 'Answers kept per sample table.', 'advanced'),
    checkpoint_every: field('Checkpoint every', 'Iterations between resumable checkpoints.', 'advanced'),
    'health.negative_kl': field('Warn: negative KL below', 'Warn when the KL falls below minus this: the two models disagree at sampling.', 'advanced'),
    'health.first_step_kl': field('Warn: first-step KL above', 'Warn when the KL of the first iteration exceeds this.', 'advanced'),
    'health.ratio_tolerance': field('Warn: ratio off by', 'Warn when the mean ratio is further than this from 1.', 'advanced'),
    'health.min_response_len': field('Warn: answers as short as', 'Warn when the mean answer length (tokens) is at or below this.', 'advanced'),
    'health.identical_share': field('Warn: identical share', 'Warn when the most common answer takes this share of a batch.', 'advanced'),
    'health.repeated_token_share': field('Warn: repeated-token share', 'Warn when one token takes this share of all answer tokens.', 'advanced'),
    'health.repeat_every': field('Warnings repeat every', 'Iterations before the same warning fires again.', 'advanced'),
    'health.examples': field('Examples per warning', 'Sample answers stored with each warning.', 'advanced'),
    ...loraFields,
    ...referenceLora,
  },
};

const dpo: StageDef = {
  label: 'DPO',
  summary: 'Learns from the preference pairs directly, against the SFT model frozen as reference: no reward model, no sampling.',
  colour: '#dcf3e4',
  schema: dpoConfigSchema,
  from: ['sft'],
  checkpointFields: {},
  rlhf: true,
  form: {
    batch_size: field('Pairs per step', 'Preference pairs per optimizer step.', 'essentials'),
    beta: field('β', 'How far the policy may move from the SFT model: higher stays closer.', 'essentials'),
    ...loraFields,
    ...referenceLora,
  },
};

const rloo: StageDef = {
  lengthField: 'steps',
  label: 'RLOO',
  summary: 'REINFORCE Leave-One-Out: k answers per prompt, each one’s baseline the mean reward of the other k−1 (no value model).',
  colour: '#ece3fb',
  schema: rlooRunConfigSchema,
  from: ['sft'],
  checkpointFields: { reward_model: 'rm' },
  rlhf: true,
  form: {
    ...rlFields,
    steps: field('Iterations', 'RLOO iterations: each samples k answers per prompt and updates on them.', 'essentials'),
    prompts_per_step: field('Prompts per iteration', 'Distinct prompts per iteration; each gets k answers.', 'essentials'),
    rloo_k: field('Answers per prompt (k)', 'Each answer’s baseline is the mean reward of the other k−1 answers to its prompt.', 'essentials'),
    kl_coef: field('KL penalty β', 'The reward is score − β·KL to the SFT model: higher stays closer to it.', 'essentials'),
    kl_estimator: field('KL estimator', 'k1 = log π − log π_ref per token; k3 = (r − 1) − log r, never negative.', 'stage'),
    token_level_kl: field('Per-token KL', 'Subtract β·KL on each token (the score on the last) instead of once per answer.', 'stage'),
    cliprange: field('Clip range', 'Clip the answer’s probability ratio to 1 ± this; a large value makes the loss plain REINFORCE.', 'stage'),
    normalize_advantage: field('Normalise advantages', 'Whiten the advantages over the batch (mean 0, std 1).', 'stage'),
    num_ppo_epochs: field('Passes per batch', 'Passes of updates over each iteration’s answers.', 'stage'),
    num_mini_batches: field('Minibatches', 'Each iteration’s answers are split into this many minibatches.', 'stage'),
    ...loraFields,
    ...referenceLora,
  },
};

const grpo: StageDef = {
  lengthField: 'steps',
  label: 'GRPO',
  summary: 'Group Relative Policy Optimization: a group of answers per prompt, advantages relative to the group’s mean (and std), KL as a loss term.',
  colour: '#fbe3ee',
  schema: grpoRunConfigSchema,
  from: ['sft'],
  checkpointFields: { reward_model: 'rm' },
  rlhf: true,
  form: {
    ...rlFields,
    steps: field('Iterations', 'GRPO iterations: each samples a group per prompt and updates on it.', 'essentials'),
    prompts_per_step: field('Prompts per iteration', 'Distinct prompts per iteration; each gets a group of answers.', 'essentials'),
    num_generations: field('Group size', 'Answers per prompt (num_generations): the group whose mean (and std) is the baseline.', 'essentials'),
    beta: field('KL weight β', 'Weight of the k3 KL to the SFT model, added to the loss per token; 0 drops the term.', 'essentials'),
    epsilon: field('Clip ε', 'Clip the per-token ratio at 1 − ε below (and 1 + ε above unless ε high is set).', 'stage'),
    epsilon_high: field('Clip ε high', 'Upper clip 1 + this (DAPO’s clip-higher); empty uses ε.', 'stage'),
    loss_type: field('Loss aggregation', 'grpo: mean per answer, then over answers; bnpo: mean over all tokens; dr_grpo: sum / (batch × answer length).', 'stage'),
    scale_rewards: field('Scale by group std', 'Divide advantages by the group’s reward std (off in Dr. GRPO).', 'stage'),
    num_iterations: field('Updates per batch (μ)', 'Policy updates per generation batch; above 1 the ratio and its clipping come into play.', 'stage'),
    num_mini_batches: field('Minibatches', 'Each iteration’s answers are split into this many minibatches.', 'stage'),
    ...loraFields,
    ...referenceLora,
  },
};

const catalogue: Record<RunStage, StageDef> = { sft, rm, ppo, dpo, rloo, grpo };

/** Every stage, in the order the stage picker and the CLI's help list them. */
export const stages: readonly RunStage[] = runStages;

export function stageDef(stage: RunStage): StageDef {
  return catalogue[stage];
}

/** The stage of a name from outside (CLI argument, stored run); undefined for an unknown one. */
export function findStage(name: string): RunStage | undefined {
  return Object.hasOwn(catalogue, name) ? (name as RunStage) : undefined;
}

/** The job kind that runs a stage (jobs/registry.ts). */
export function jobKind(stage: RunStage): string {
  return `train-${stage}`;
}

export function stageSchema(stage: RunStage): z.ZodType {
  return catalogue[stage].schema;
}

/** The stages whose newest checkpoint Compare offers beside the newest SFT. */
export const rlhfStages: RunStage[] = stages.filter((s) => catalogue[s].rlhf);

export function stageInfo(stage: RunStage): StageInfo {
  const d = catalogue[stage];
  return {
    stage,
    label: d.label,
    summary: d.summary,
    colour: d.colour,
    lengthField: d.lengthField,
    from: d.from,
    checkpointFields: d.checkpointFields,
    fields: configFields(d.schema, d.form),
    presets: presets(stage),
  };
}

/**
 * "Defaults" clears every field back to the engine's defaults; "Demo-sized" is what the bundled
 * demo runs for the stage (`rlhf-lab demo --quick`, tuned to finish in minutes on 2 CPU cores),
 * less its seed and the checkpoint spacing that only suits a scripted run.
 */
function presets(stage: RunStage): StageInfo['presets'] {
  const out: StageInfo['presets'] = [{ name: 'Defaults', description: "The engine's defaults (TRL's field names; README lists the values)", config: {} }];
  const demo = (demoSettings(true, 0) as unknown as Partial<Record<RunStage, Record<string, unknown>>>)[stage];
  if (demo) {
    const { seed: _seed, checkpoint_every: _every, ...config } = demo;
    out.push({ name: 'Demo-sized', description: 'What `rlhf-lab demo --quick` runs for this stage: minutes on 2 CPU cores', config });
  }
  return out;
}

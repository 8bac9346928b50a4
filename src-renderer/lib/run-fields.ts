// How the New run form presents each engine config field: a label a person reads, one line on
// what it does, and the group it sits in — the essentials first, then the stage's own settings,
// then the rest (collapsed). The key itself (TRL's name where TRL has the field) is shown in small
// type. A field the engine adds later and this table does not know lands in "Advanced" under its key.
import type { ConfigField } from '../../src-main/shared/contract.js';
import type { RunStage } from '../../src-main/shared/vocabulary.js';

export type FieldGroup = 'essentials' | 'stage' | 'advanced';

export interface FieldInfo {
  label: string;
  help: string;
  group: FieldGroup;
}

const f = (label: string, help: string, group: FieldGroup): FieldInfo => ({ label, help, group });

const shared: Record<string, FieldInfo> = {
  seed: f('Seed', 'Fixes initialisation, data order and sampling: same seed, same run.', 'advanced'),
  epochs: f('Epochs', 'Passes over the training data.', 'essentials'),
  batch_size: f('Batch size', 'Examples per optimizer step.', 'essentials'),
  lr: f('Learning rate', 'Peak step size, reached after warmup.', 'essentials'),
  warmup_steps: f('Warmup steps', 'Steps over which the learning rate rises from 0.', 'advanced'),
  weight_decay: f('Weight decay', "AdamW's decoupled weight decay.", 'advanced'),
  grad_clip: f('Gradient clip', 'Gradients are scaled down to this global norm.', 'advanced'),
  eval_fraction: f('Held-out share', 'Share held out for evaluation when nothing is marked eval.', 'stage'),
  eval_every: f('Evaluate every', 'Steps between held-out evaluations.', 'stage'),
  checkpoint_every: f('Checkpoint every', 'Steps between resumable checkpoints.', 'stage'),
  combine: f('Combine votes', "How several annotators' votes on one item count: all, majority, or per annotator.", 'stage'),
  include_compare_votes: f('Learn from Compare votes', "Also train on Compare's blind votes (they judge the models under evaluation).", 'stage'),
};

const perStage: Record<RunStage, Record<string, FieldInfo>> = {
  sft: {
    epochs: f('Epochs', 'Passes over the SFT examples (unless Max steps is set).', 'essentials'),
    max_steps: f('Max steps', 'Stop after this many optimizer steps; 0 runs whole epochs.', 'essentials'),
    min_lr_ratio: f('Final LR ratio', 'The cosine decay ends at learning rate × this.', 'advanced'),
    max_length: f('Max tokens per example', "Longer examples are cut, and listed when the run starts; at most the model's context.", 'stage'),
    eval_max_examples: f('Max eval examples', 'Upper bound on held-out examples, so an evaluation stays short.', 'advanced'),
    sample_count: f('Samples per eval', 'Held-out prompts the model answers at each evaluation.', 'stage'),
    sample_max_tokens: f('Sample length', 'Tokens per sample answer.', 'advanced'),
  },
  rm: {
    batch_prompts: f('Prompts per step', 'Prompts (each with all its ranked pairs) per optimizer step.', 'essentials'),
    centering: f('Score centering', 'c in c · mean((r_chosen + r_rejected)²): keeps scores near 0; 0 turns it off.', 'stage'),
    margin_per_tier_gap: f('Margin per tier gap', 'Extra margin per ranking tier between two responses; 0 is plain Bradley–Terry.', 'stage'),
    norm_samples: f('Normalisation samples', 'SFT answers to training prompts that set the scores to mean 0, std 1.', 'advanced'),
    norm_temperature: f('Normalisation temperature', 'Sampling temperature of those answers.', 'advanced'),
    norm_max_new_tokens: f('Normalisation answer length', 'Tokens per normalisation answer.', 'advanced'),
  },
  ppo: {
    reward_model: f('Reward model', 'The reward-model checkpoint PPO maximises.', 'essentials'),
    steps: f('Iterations', 'PPO iterations: each samples a batch of answers and updates on it.', 'essentials'),
    batch_size: f('Answers per iteration', 'Prompts answered (rollouts) per iteration.', 'essentials'),
    kl_coef: f('KL penalty β', 'Weight of the KL to the SFT model in the reward: higher stays closer to it.', 'essentials'),
    num_mini_batches: f('Minibatches', 'Each iteration’s answers are split into this many minibatches.', 'stage'),
    num_ppo_epochs: f('PPO epochs', 'Passes over each iteration’s answers.', 'stage'),
    max_new_tokens: f('Answer length', 'Most tokens sampled per answer.', 'stage'),
    temperature: f('Sampling temperature', 'Temperature of the answers PPO learns from.', 'stage'),
    adaptive_kl: f('Adaptive β', 'Move β toward the KL target (Ziegler et al.).', 'stage'),
    kl_target: f('KL target', 'The KL (nats per answer) adaptive β aims at.', 'stage'),
    kl_horizon: f('KL horizon', 'How slowly adaptive β moves.', 'advanced'),
    kl_estimator: f('KL estimator', 'k1 = log p − log p_ref; k3 = (r − 1) − log r, never negative.', 'stage'),
    cliprange: f('Policy clip range', 'ε of the clipped surrogate objective.', 'stage'),
    cliprange_value: f('Value clip range', 'How far a value prediction may move per update.', 'stage'),
    vf_coef: f('Value loss weight', 'Weight of the value loss next to the policy loss.', 'stage'),
    gamma: f('Discount γ', 'Discount of later rewards in the advantages.', 'stage'),
    lam: f('GAE λ', 'Bias–variance trade-off of the advantage estimates.', 'stage'),
    whiten_advantages: f('Whiten advantages', 'Normalise advantages to mean 0, std 1 per batch.', 'stage'),
    missing_eos_penalty: f('Missing-end penalty', 'Subtracted from the score of an answer that never ends.', 'stage'),
    score_clip: f('Score clip', 'Clip scores to ± this; empty turns it off.', 'stage'),
    value_init: f('Value model starts from', 'reward: the reward model (InstructGPT); policy: the SFT model.', 'stage'),
    top_k: f('Top-k', 'Sample among the k likeliest tokens; 0 turns it off.', 'advanced'),
    top_p: f('Top-p', 'Sample among the likeliest tokens covering this probability; 1 turns it off.', 'advanced'),
    ratio_threshold: f('Ratio guard', 'Skip a minibatch whose mean probability ratio exceeds this.', 'advanced'),
    early_stopping: f('Stop on KL', "Stop an iteration's updates once approx KL exceeds 1.5 × target KL.", 'advanced'),
    target_kl: f('Target KL', 'The approx KL that stops an iteration’s updates.', 'advanced'),
    sample_every: f('Samples every', 'Iterations between stored sample tables.', 'advanced'),
    sample_rows: f('Sample rows', 'Answers kept per sample table.', 'advanced'),
    checkpoint_every: f('Checkpoint every', 'Iterations between resumable checkpoints.', 'advanced'),
    'health.negative_kl': f('Warn: negative KL below', 'Warn when the KL falls below minus this: the two models disagree at sampling.', 'advanced'),
    'health.first_step_kl': f('Warn: first-step KL above', 'Warn when the KL of the first iteration exceeds this.', 'advanced'),
    'health.ratio_tolerance': f('Warn: ratio off by', 'Warn when the mean ratio is further than this from 1.', 'advanced'),
    'health.min_response_len': f('Warn: answers as short as', 'Warn when the mean answer length (tokens) is at or below this.', 'advanced'),
    'health.identical_share': f('Warn: identical share', 'Warn when the most common answer takes this share of a batch.', 'advanced'),
    'health.repeated_token_share': f('Warn: repeated-token share', 'Warn when one token takes this share of all answer tokens.', 'advanced'),
    'health.repeat_every': f('Warnings repeat every', 'Iterations before the same warning fires again.', 'advanced'),
    'health.examples': f('Examples per warning', 'Sample answers stored with each warning.', 'advanced'),
  },
  dpo: {
    batch_size: f('Pairs per step', 'Preference pairs per optimizer step.', 'essentials'),
    beta: f('β', 'How far the policy may move from the SFT model: higher stays closer.', 'essentials'),
  },
};

export function fieldInfo(stage: RunStage, field: ConfigField): FieldInfo {
  return perStage[stage][field.key] ?? shared[field.key] ?? { label: field.key, help: field.description ?? '', group: 'advanced' };
}

/** What a field accepts, in words: "a whole number from 1 to 512", "a number above 0", "on or off". */
export function allowed(field: ConfigField): string {
  if (field.type === 'boolean') return 'on or off';
  if (field.type === 'enum') return `one of ${(field.options ?? []).join(', ')}`;
  const kind = field.type === 'integer' ? 'a whole number' : 'a number';
  const n = (x: number) => formatNumber(x);
  const lo = field.minimum !== undefined ? `from ${n(field.minimum)}` : field.exclusiveMinimum !== undefined ? `above ${n(field.exclusiveMinimum)}` : '';
  if (field.maximum !== undefined) return lo ? `${kind} ${lo} to ${n(field.maximum)}` : `${kind} up to ${n(field.maximum)}`;
  return lo ? `${kind} ${lo}` : kind;
}

/** 10000 → "10,000"; small and fractional numbers as they are (1e-5 stays 1e-5). */
export function formatNumber(x: number): string {
  return Number.isInteger(x) && Math.abs(x) >= 1000 ? x.toLocaleString('en-US') : String(x);
}

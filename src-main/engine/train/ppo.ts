// PPO with a KL penalty against the SFT model (docs/algorithms.md, "PPO"), one iteration read top to bottom:
//   1. rollout: sample responses from the policy (temperature T, truncated at the first EOS);
//   2. score: log-probs of policy and frozen reference at the same T, values, reward-model score;
//   3. rewards: −β·kl_t per token, the score on the last real token, missing-EOS penalty;
//   4. GAE (γ, λ), returns = A + V, advantages whitened over real tokens;
//   5. update: clipped surrogate + vf_coef × clipped value loss, epochs × shuffled minibatches,
//      skipping a minibatch whose mean ratio exceeds the guard, stopping when approx KL runs away;
//   6. β update (adaptive controller) and the TRL metrics.
// The reference and reward models only ever run forward, outside any gradient tape.
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { loraRunFields } from '../models/lora.js';
import { HealthMonitor, healthConfigSchema, type HealthWarning } from './health.js';
import type { GPT, ScalarHead } from '../models/model.js';
import { AdamW, type AdamWState } from './optim.js';
import { Replicas, type SplitThresholds } from '../parallel/data-parallel.js';
import { generateOnReplicas } from '../parallel/generate-task.js';
import { defineGradTask, shardRanges, type GradTask } from '../parallel/grad-task.js';
import { defineReplicaTask } from '../parallel/replica-task.js';
import { RewardModel } from './reward.js';
import {
  AdaptiveKLController,
  FixedKLController,
  clippedSurrogate,
  clippedValueLoss,
  gae,
  klPerToken,
  maskedMean,
  tokenRewards,
  varianceExplained,
  whiten,
  type KLController,
} from './rlhf-math.js';
import { Rng } from '../rng.js';
import { alignRows, disposeBatch, packBatch, responseRows, tokenLogprobsAt, type SequenceBatch } from './sequences.js';

export const ppoConfigSchema = z
  .object({
    seed: z.number().int().min(0).default(0),
    /** PPO iterations (rollout + update). */
    steps: z.number().int().min(1).default(100),
    /** Rollouts per iteration (n in the adaptive-β update). */
    batch_size: z.number().int().min(1).max(1024).default(16),
    num_mini_batches: z.number().int().min(1).default(4),
    num_ppo_epochs: z.number().int().min(1).default(4),
    lr: z.number().positive().max(1).default(1e-5),
    /** Iterations of linear lr warmup; the cosine decay then runs to the last iteration (`steps`). */
    warmup_steps: z.number().int().min(0).default(0).describe('Iterations of lr warmup; the cosine decay to 0.1 × lr then ends at the last iteration.'),
    weight_decay: z.number().min(0).default(0),
    grad_clip: z.number().positive().default(1.0),
    // rollout
    temperature: z.number().positive().default(0.7),
    top_k: z.number().int().min(0).default(0),
    top_p: z.number().gt(0).max(1).default(1),
    max_new_tokens: z.number().int().min(1).default(48),
    // reward
    kl_estimator: z.enum(['k1', 'k3']).default('k1'),
    /** β: the KL coefficient (initial value when adaptive). */
    kl_coef: z.number().min(0).default(0.05),
    adaptive_kl: z.boolean().default(false),
    /** Adaptive β: the KL (nats per response) to steer toward, and the horizon (Ziegler et al.). */
    kl_target: z.number().positive().default(6),
    kl_horizon: z.number().positive().default(10000),
    missing_eos_penalty: z.number().min(0).default(1.0),
    /** Clip the score to ±this (e.g. 5 or 10); null = no clipping. */
    score_clip: z.number().positive().nullable().default(null),
    // advantages and losses
    gamma: z.number().min(0).max(1).default(1),
    lam: z.number().min(0).max(1).default(0.95),
    whiten_advantages: z.boolean().default(true),
    cliprange: z.number().positive().default(0.2),
    cliprange_value: z.number().positive().default(0.2),
    vf_coef: z.number().min(0).default(0.1),
    /** Skip a minibatch whose mean probability ratio exceeds this. */
    ratio_threshold: z.number().positive().default(10),
    /** Stop this iteration's updates once approx KL exceeds 1.5 × target_kl (TRL's target_kl). */
    early_stopping: z
      .boolean()
      .default(true)
      .describe(
        "After each minibatch: if its approx KL (0.5·mean of (log π − log π_old)² over real response tokens) exceeds 1.5 × target_kl, skip the iteration's remaining minibatches and epochs.",
      ),
    target_kl: z.number().positive().default(1).describe('Early stopping fires above 1.5 × this; at 1 only a runaway update trips it.'),
    /** Value model: a scalar head on the reward model's backbone (InstructGPT) or the policy's. */
    value_init: z.enum(['reward', 'policy']).default('reward'),
    // logging
    sample_every: z.number().int().min(1).default(10),
    sample_rows: z.number().int().min(1).max(256).default(8),
    checkpoint_every: z.number().int().min(1).default(50),
    health: healthConfigSchema.default(healthConfigSchema.parse({})),
    /** LoRA adapters on the policy and value model; lora_r 0 trains every weight. */
    ...loraRunFields,
  })
  .strict();
export type PpoConfig = z.infer<typeof ppoConfigSchema>;
export const defaultPpoConfig = (): PpoConfig => ppoConfigSchema.parse({});

export interface ValueModel {
  backbone: GPT;
  head: ScalarHead;
}

/** Scores responses: a RewardModel (normalised), or any other judge with the same shape. */
export interface Scorer {
  score(prompts: number[][], responses: number[][], padId: number): number[];
}

export interface PpoModels {
  policy: GPT;
  /** The SFT model, frozen. */
  ref: GPT;
  value: ValueModel;
  reward: Scorer;
}

export interface PpoPrompt {
  text: string;
  ids: number[];
}

export interface PpoTokens {
  eosId: number;
  padId: number;
  decode(ids: number[]): string;
}

export interface PpoSample {
  prompt: string;
  response: string;
  score: number;
  kl: number;
  extra: { finished: boolean; length: number };
}

/** What a checkpoint must hold to continue a run exactly (besides the policy and value weights). */
export interface PpoResumeState {
  step: number;
  optimizer: AdamWState;
  klCoef: number;
}

export interface PpoHooks {
  onStep?(step: number, metrics: Record<string, number>): void | Promise<void>;
  onSamples?(step: number, rows: PpoSample[]): void | Promise<void>;
  onWarning?(warning: HealthWarning): void | Promise<void>;
  onCheckpoint?(state: PpoResumeState, final: boolean): void | Promise<void>;
  signal?: AbortSignal;
}

/** The value model's estimate before each response token, aligned like the log-probs ([B, T−1]). */
function valuesOf(value: ValueModel, batch: SequenceBatch): tf.Tensor2D {
  return tf.tidy(() => {
    const v = value.head.apply(value.backbone.hidden(batch.ids, { attentionMask: batch.attentionMask, training: false }));
    const [B, T] = v.shape;
    return tf.slice(v, [0, 0], [B, T - 1]);
  });
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
const variance = (xs: number[]): number => {
  const m = mean(xs);
  return xs.length > 1 ? xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1) : 0;
};

/** One rollout batch with everything the update needs, per response token (ragged rows). */
interface Rollout {
  prompts: PpoPrompt[];
  /** Prompt ids as fed to the model (cut from the left to leave room for the response). */
  promptIds: number[][];
  responses: number[][];
  finished: boolean[];
  logp: number[][];
  values: number[][];
  advantages: number[][];
  returns: number[][];
  rawScores: number[];
  klSums: number[];
}

/** The models PPO replicates on every core: the value model as a RewardModel view, the reward model when it is one. */
type PpoReplicaSet = { policy: GPT; ref: GPT; value: RewardModel; reward?: RewardModel };

interface ScoreInput {
  promptIds: number[][];
  responses: number[][];
  padId: number;
  temperature: number;
  /** Score with the replica's reward model (false: the trainer scores on the main thread). */
  withReward: boolean;
}

interface ScoreOutput {
  logp: number[][];
  ref: number[][];
  values: number[][];
  rawScores: number[] | null;
}

/** Step 2 for some of the rollouts, on any replica: policy and reference log-probs, values, scores. */
export const ppoScoreTask = defineReplicaTask<ScoreInput, ScoreOutput>({
  name: 'ppo-score',
  module: import.meta.url,
  run: (models, s) => {
    const m = models as PpoReplicaSet;
    const batch = packBatch(s.promptIds, s.responses, s.padId, m.policy.config.n_positions);
    const lens = batch.responseLengths;
    try {
      const policyLogp = tokenLogprobsAt(m.policy, batch, s.temperature).logp;
      const refLogp = tokenLogprobsAt(m.ref, batch, s.temperature).logp;
      const valueMat = valuesOf(m.value, batch);
      const out = { logp: responseRows(policyLogp, lens), ref: responseRows(refLogp, lens), values: responseRows(valueMat, lens) };
      tf.dispose([policyLogp, refLogp, valueMat]);
      return { ...out, rawScores: s.withReward && m.reward ? m.reward.score(s.promptIds, s.responses, s.padId) : null };
    } finally {
      disposeBatch(batch);
    }
  },
});

/** Steps 1–4: sample, score, per-token rewards, advantages. Forward passes only, split over the replicas' threads. */
async function rollout(
  models: PpoModels,
  replicas: Replicas,
  prompts: PpoPrompt[],
  config: PpoConfig,
  tok: PpoTokens,
  beta: number,
  seed: number,
): Promise<{ rollout: Rollout; metrics: Record<string, number> }> {
  const maxLen = models.policy.config.n_positions;
  const promptIds = prompts.map((p) => p.ids.slice(Math.max(0, p.ids.length - (maxLen - config.max_new_tokens))));
  const gen = await generateOnReplicas(replicas, 'policy', promptIds, {
    maxNewTokens: config.max_new_tokens,
    temperature: config.temperature,
    topK: config.top_k,
    topP: config.top_p,
    eosId: tok.eosId,
    padId: tok.padId,
    seed,
  });
  const responses = gen.tokens;
  const withReward = models.reward instanceof RewardModel;
  // Policy, reference and value (and reward) forwards.
  const scoringParameters = (withReward ? 4 : 3) * models.policy.parameterCount();
  const parts = await replicas.map(
    ppoScoreTask,
    shardRanges(responses.length, replicas.partsForForward(pairTokens(promptIds, responses), scoringParameters)).map(([a, b]) => ({
      promptIds: promptIds.slice(a, b),
      responses: responses.slice(a, b),
      padId: tok.padId,
      temperature: config.temperature,
      withReward,
    })),
  );
  const logp = parts.flatMap((p) => p.logp);
  const ref = parts.flatMap((p) => p.ref);
  const values = parts.flatMap((p) => p.values);
  const lens = logp.map((row) => row.length);
  const rawScores = withReward ? parts.flatMap((p) => p.rawScores!) : models.reward.score(promptIds, responses, tok.padId);

  const kl = logp.map((row, i) => row.map((lp, t) => klPerToken(lp, ref[i]![t]!, config.kl_estimator)));
  const r = tokenRewards(kl, rawScores, gen.finished, {
    beta,
    missingEosPenalty: config.missing_eos_penalty,
    scoreClip: config.score_clip,
  });
  const { advantages, returns } = gae(r.rewards, values, config.gamma, config.lam);
  const klSums = kl.map((row) => row.reduce((s, x) => s + x, 0));
  const nonScore = mean(r.nonScore);
  const metrics: Record<string, number> = {
    'objective/kl': mean(klSums),
    'objective/kl_coef': beta,
    'objective/entropy': mean(logp.map((row) => -row.reduce((s, x) => s + x, 0))),
    'objective/scores': mean(r.scores),
    'objective/raw_scores': mean(rawScores),
    'objective/non_score_reward': nonScore,
    'objective/rlhf_reward': mean(r.scores) + nonScore,
    'val/var_explained': varianceExplained(values, returns),
    'val/num_eos_tokens': gen.finished.filter(Boolean).length,
    'tokens/response_len_mean': mean(lens),
  };
  return {
    rollout: {
      prompts,
      promptIds,
      responses,
      finished: gen.finished,
      logp,
      values,
      advantages: config.whiten_advantages ? whiten(advantages) : advantages,
      returns,
      rawScores,
      klSums,
    },
    metrics,
  };
}

/** Some rows of one minibatch, with what the losses need per response token (ragged rows). */
interface MinibatchShard {
  promptIds: number[][];
  responses: number[][];
  oldLogp: number[][];
  oldValues: number[][];
  advantages: number[][];
  returns: number[][];
  padId: number;
  temperature: number;
  cliprange: number;
  cliprangeValue: number;
  vfCoef: number;
  /** Response tokens of these rows / response tokens of the minibatch. */
  share: number;
}

/** Statistics of each loss, returned per shard as masked means over its tokens (× its share). */
const POLICY_STATS = ['pg', 'clipfrac', 'approxkl', 'ratio', 'entropy'] as const;
const VALUE_STATS = ['vf', 'vfClipfrac'] as const;

/** Rows of a minibatch shard: split by rows, each shard weighted by its share of the response tokens. */
function splitMinibatch(s: MinibatchShard, parts: number): MinibatchShard[] {
  const tokens = (a: number, b: number) => s.oldLogp.slice(a, b).reduce((n, r) => n + r.length, 0);
  const total = Math.max(1, tokens(0, s.oldLogp.length));
  return shardRanges(s.responses.length, parts).map(([a, b]) => ({
    ...s,
    promptIds: s.promptIds.slice(a, b),
    responses: s.responses.slice(a, b),
    oldLogp: s.oldLogp.slice(a, b),
    oldValues: s.oldValues.slice(a, b),
    advantages: s.advantages.slice(a, b),
    returns: s.returns.slice(a, b),
    share: (s.share * tokens(a, b)) / total,
  }));
}

/** Tokens of prompt + response pairs (what splitting decisions count). */
const pairTokens = (promptIds: number[][], responses: number[][]) => promptIds.reduce((n, p, i) => n + p.length + responses[i]!.length, 0);
const minibatchTokens = (s: MinibatchShard) => pairTokens(s.promptIds, s.responses);

/** The minibatch as model inputs plus its per-token targets aligned to them; `run` gets them and they are disposed after. */
function withMinibatch<T>(m: PpoReplicaSet, s: MinibatchShard, run: (mb: SequenceBatch, t: { oldLogp: tf.Tensor2D; oldValues: tf.Tensor2D; adv: tf.Tensor2D; ret: tf.Tensor2D }) => T): T {
  const mb = packBatch(s.promptIds, s.responses, s.padId, m.policy.config.n_positions);
  const W = mb.width - 1;
  const [oldLogp, oldValues, adv, ret] = [s.oldLogp, s.oldValues, s.advantages, s.returns].map((rows) => alignRows(rows, W)) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  try {
    return run(mb, { oldLogp, oldValues, adv, ret });
  } finally {
    tf.dispose([oldLogp, oldValues, adv, ret]);
    disposeBatch(mb);
  }
}

/** Clipped surrogate and its statistics (the entropy comes out of the same forward pass; no part of the loss). */
function policyLoss(m: PpoReplicaSet, s: MinibatchShard): { loss: tf.Scalar; stats: tf.Tensor } {
  return withMinibatch(m, s, (mb, t) => {
    const { logp, entropy } = tokenLogprobsAt(m.policy, mb, s.temperature, { entropy: true });
    const pg = clippedSurrogate(logp, t.oldLogp, t.adv, mb.responseMask, s.cliprange);
    const stats = tf.stack([pg.loss, pg.clipfrac, pg.approxKl, maskedMean(pg.ratio, mb.responseMask), maskedMean(entropy!, mb.responseMask)]);
    return { loss: pg.loss, stats };
  });
}

/** Clipped value loss and its statistics. */
function valueLoss(m: PpoReplicaSet, s: MinibatchShard): { loss: tf.Scalar; stats: tf.Tensor } {
  return withMinibatch(m, s, (mb, t) => {
    const vf = clippedValueLoss(valuesOf(m.value, mb), t.oldValues, t.ret, mb.responseMask, s.cliprangeValue);
    return { loss: vf.loss, stats: tf.stack([vf.loss, vf.clipfrac]) };
  });
}

/** A gradient task over minibatch shards (split by rows, weighted by their share of the tokens). */
function minibatchTask(name: string, loss: GradTask<MinibatchShard>['loss']): GradTask<MinibatchShard> {
  return defineGradTask<MinibatchShard>({ name, module: import.meta.url, split: splitMinibatch, tokens: minibatchTokens, loss });
}

/**
 * Step 5's loss as a data-parallel gradient task: clipped surrogate + vf_coef × clipped value
 * loss, masked means over response tokens — a shard weighs its means by its share of the tokens,
 * so the shards' sums are the minibatch's means. Policy and value share no parameters, so one
 * loss gives both gradients.
 */
export const ppoGradTask = minibatchTask('ppo', (models, s) => {
  const pg = policyLoss(models as PpoReplicaSet, s);
  const vf = valueLoss(models as PpoReplicaSet, s);
  return { loss: tf.mul(tf.add(pg.loss, tf.mul(s.vfCoef, vf.loss)), s.share) as tf.Scalar, extras: { policy: tf.mul(pg.stats, s.share), value: tf.mul(vf.stats, s.share) } };
});

/**
 * The two halves of ppoGradTask, for minibatches too small to split by rows: the policy loss on
 * one thread and the value loss on another, at the same time (they share no parameters).
 */
export const ppoPolicyGradTask = minibatchTask('ppo-policy', (models, s) => {
  const pg = policyLoss(models as PpoReplicaSet, s);
  return { loss: tf.mul(pg.loss, s.share) as tf.Scalar, extras: { policy: tf.mul(pg.stats, s.share) } };
});

export const ppoValueGradTask = minibatchTask('ppo-value', (models, s) => {
  const vf = valueLoss(models as PpoReplicaSet, s);
  return { loss: tf.mul(tf.mul(s.vfCoef, vf.loss), s.share) as tf.Scalar, extras: { value: tf.mul(vf.stats, s.share) } };
});

/** Sums per-shard statistics (shard after shard, `names.length` each) into the minibatch's. */
function sumStats(values: Float32Array, names: readonly string[]): number[] {
  return names.map((_, j) => values.reduce((acc, x, i) => (i % names.length === j ? acc + x : acc), 0));
}

/** One minibatch's gradients: rows split over the threads when large enough, else policy ∥ value on two threads, else one thread. */
async function minibatchGrads(replicas: Replicas, input: MinibatchShard): Promise<{ grads: tf.NamedTensorMap; policy: number[]; value: number[] }> {
  if (replicas.threads > 1 && replicas.partsFor(minibatchTokens(input)) < 2) {
    const [p, v] = await replicas.gradsTogether([
      { task: ppoPolicyGradTask, input, roles: ['policy'] },
      { task: ppoValueGradTask, input, roles: ['value'] },
    ]);
    return { grads: { ...p!.grads, ...v!.grads }, policy: sumStats(p!.extras.policy!, POLICY_STATS), value: sumStats(v!.extras.value!, VALUE_STATS) };
  }
  const r = await replicas.grads(ppoGradTask, input);
  return { grads: r.grads, policy: sumStats(r.extras.policy!, POLICY_STATS), value: sumStats(r.extras.value!, VALUE_STATS) };
}

/** Step 5: epochs × shuffled minibatches of clipped policy and value updates, each minibatch's gradient on every core. */
async function update(
  data: Rollout,
  config: PpoConfig,
  tok: PpoTokens,
  optimizer: AdamW,
  replicas: Replicas,
  rng: Rng,
  iteration: number,
): Promise<Record<string, number>> {
  const n = data.responses.length;
  const mbSize = Math.max(1, Math.ceil(n / config.num_mini_batches));
  const stats = { approxkl: [] as number[], clipfrac: [] as number[], entropy: [] as number[], pg: [] as number[], vf: [] as number[], vfClipfrac: [] as number[], ratio: [] as number[] };
  let skipped = 0;
  let stopped = false;
  for (let epoch = 0; epoch < config.num_ppo_epochs && !stopped; epoch++) {
    const order = rng.shuffle([...Array(n).keys()]);
    for (let start = 0; start < n && !stopped; start += mbSize) {
      const idx = order.slice(start, start + mbSize);
      const pick = (rows: number[][]) => idx.map((i) => rows[i]!);
      const r = await minibatchGrads(replicas, {
        promptIds: pick(data.promptIds),
        responses: pick(data.responses),
        oldLogp: pick(data.logp),
        oldValues: pick(data.values),
        advantages: pick(data.advantages),
        returns: pick(data.returns),
        padId: tok.padId,
        temperature: config.temperature,
        cliprange: config.cliprange,
        cliprangeValue: config.cliprange_value,
        vfCoef: config.vf_coef,
        share: 1,
      });
      const [pgLoss, clipfrac, approxkl, ratio, entropy] = r.policy as [number, number, number, number, number];
      const [vfLoss, vfClipfrac] = r.value as [number, number];
      try {
        // Guard: a minibatch whose ratio has run away would take a destructive step; skip it.
        if (ratio > config.ratio_threshold) skipped++;
        else {
          // The schedule counts iterations (sized by config.steps), not the epochs × minibatches steps within one.
          optimizer.applyGradients(r.grads, iteration);
          replicas.syncWeights();
        }
      } finally {
        tf.dispose(Object.values(r.grads));
      }
      stats.pg.push(pgLoss);
      stats.vf.push(vfLoss);
      stats.clipfrac.push(clipfrac);
      stats.approxkl.push(approxkl);
      stats.ratio.push(ratio);
      stats.vfClipfrac.push(vfClipfrac);
      stats.entropy.push(entropy);
      if (config.early_stopping && approxkl > 1.5 * config.target_kl) stopped = true;
    }
  }
  return {
    'policy/approxkl_avg': mean(stats.approxkl),
    'policy/clipfrac_avg': mean(stats.clipfrac),
    'policy/entropy_avg': mean(stats.entropy),
    'loss/policy_avg': mean(stats.pg),
    'loss/value_avg': mean(stats.vf),
    'val/clipfrac_avg': mean(stats.vfClipfrac),
    'val/ratio': mean(stats.ratio),
    'val/ratio_var': variance(stats.ratio),
    'policy/skipped_minibatches': skipped,
    'policy/early_stopped': stopped ? 1 : 0,
    lr: optimizer.lrAt(iteration),
  };
}

/** Variables of policy and value model, keyed so optimizer state survives a restart. */
function trainableVariables(models: PpoModels): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const [k, v] of Object.entries(models.policy.namedVariables())) out[`policy.${k}`] = v;
  for (const [k, v] of Object.entries(models.value.backbone.namedVariables())) out[`value.${k}`] = v;
  for (const [k, v] of Object.entries(models.value.head.namedVariables())) out[`value.${k}`] = v;
  return out;
}

/** Runs PPO for `config.steps` iterations (after `resume.step` when resuming); models are updated in place. */
export async function trainPpo(
  models: PpoModels,
  prompts: PpoPrompt[],
  config: PpoConfig,
  tok: PpoTokens,
  hooks: PpoHooks = {},
  resume?: PpoResumeState,
  parallel: { threads?: number; thresholds?: Partial<SplitThresholds> } = {},
): Promise<{ step: number; klCoef: number; metrics: Record<string, number> }> {
  if (prompts.length === 0) throw new Error('no training prompts for PPO: import some prompts first');
  if (config.max_new_tokens >= models.policy.config.n_positions) {
    throw new Error(`max_new_tokens (${config.max_new_tokens}) must be below the model's context (${models.policy.config.n_positions})`);
  }
  const optimizer = new AdamW(trainableVariables(models), {
    lr: config.lr,
    // Warmup and cosine decay in PPO iterations: update() reads the schedule at the iteration, once
    // for all its epochs × minibatches optimizer steps (TRL steps its scheduler once per batch too).
    warmupSteps: config.warmup_steps,
    totalSteps: config.steps,
    weightDecay: config.weight_decay,
    clipNorm: config.grad_clip,
  });
  if (resume) optimizer.setState(resume.optimizer);
  const beta0 = resume?.klCoef ?? config.kl_coef;
  const kl: KLController = config.adaptive_kl
    ? new AdaptiveKLController(beta0, config.kl_target, config.kl_horizon)
    : new FixedKLController(beta0);
  const health = new HealthMonitor(config.health);
  let step = resume?.step ?? 0;
  let last: Record<string, number> = {};
  // Policy, reference, value and (when it is a RewardModel) reward model on every core.
  const set: PpoReplicaSet = { policy: models.policy, ref: models.ref, value: new RewardModel(models.value.backbone, models.value.head) };
  if (models.reward instanceof RewardModel) set.reward = models.reward;
  const replicas = await Replicas.start(set, ['policy', 'value'], parallel.threads, parallel.thresholds);
  try {
    while (step < config.steps && !hooks.signal?.aborted) {
      // Every random choice of an iteration derives from (seed, step): a resumed run replays exactly.
      const rng = new Rng(config.seed).fork(step);
      const batchPrompts = Array.from({ length: config.batch_size }, () => prompts[rng.int(prompts.length)]!);
      const t0 = performance.now();
      const beta = kl.value;
      const { rollout: data, metrics: rolloutMetrics } = await rollout(models, replicas, batchPrompts, config, tok, beta, rng.nextUint32());
      const t1 = performance.now();
      const updateMetrics = await update(data, config, tok, optimizer, replicas, rng, step);
      const t2 = performance.now();
      kl.update(rolloutMetrics['objective/kl']!, config.batch_size);
      step++;
      const tokens = data.responses.reduce((s, r) => s + r.length, 0);
      last = {
        ...rolloutMetrics,
        ...updateMetrics,
        'time/rollout_s': (t1 - t0) / 1000,
        'time/update_s': (t2 - t1) / 1000,
        tokens_per_second: tokens / ((t2 - t0) / 1000),
      };
      await hooks.onStep?.(step, last);

      const rows: PpoSample[] = data.responses.map((r, i) => ({
        prompt: data.prompts[i]!.text,
        response: tok.decode(r.filter((t) => t !== tok.eosId)),
        score: data.rawScores[i]!,
        kl: data.klSums[i]!,
        extra: { finished: data.finished[i]!, length: r.length },
      }));
      if (step % config.sample_every === 0 || step === 1 || step === config.steps) await hooks.onSamples?.(step, rows.slice(0, config.sample_rows));
      const warnings = health.check(
        step,
        last,
        rows.map((row, i) => ({ prompt: row.prompt, response: row.response, tokens: data.responses[i]!, score: row.score })),
      );
      for (const w of warnings) await hooks.onWarning?.(w);
      if (step % config.checkpoint_every === 0 && step < config.steps) {
        await hooks.onCheckpoint?.({ step, optimizer: optimizer.getState(), klCoef: kl.value }, false);
      }
    }
    await hooks.onCheckpoint?.({ step, optimizer: optimizer.getState(), klCoef: kl.value }, true);
  } finally {
    optimizer.dispose();
    await replicas.dispose();
  }
  return { step, klCoef: kl.value, metrics: last };
}

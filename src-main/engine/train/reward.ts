// Reward model (docs/algorithms.md, "Reward model"): the SFT backbone plus a scalar head, read at the last real
// token, trained on preference pairs with the Bradley–Terry loss. All pairs of one prompt form one
// batch element (InstructGPT), so each response is scored once per step. After training, a gain
// and bias make SFT samples on the training prompts score mean 0, std 1 (lm-human-preferences).
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { loraRunFields } from '../models/lora.js';
import { generate } from '../models/generate.js';
import { GPT, ScalarHead } from '../models/model.js';
import { AdamW, type AdamWState } from './optim.js';
import { Replicas } from '../parallel/data-parallel.js';
import { defineGradTask, shardRanges } from '../parallel/grad-task.js';
import type { ReplicaSpec } from '../parallel/protocol.js';
import { defineReplicaBuilder, type CustomReplicable } from '../parallel/replicable.js';
import { groupByPrompt, normalisation, pairMetrics, pairwiseLoss, type PairGroup, type Vote } from './rlhf-math.js';
import { Rng } from '../rng.js';
import { disposeBatch, packBatch, promptTail } from './sequences.js';

export const rewardConfigSchema = z
  .object({
    seed: z.number().int().min(0).default(0),
    epochs: z.number().int().min(1).max(1000).default(2),
    /** Prompt groups (all pairs of a prompt) per optimizer step. */
    batch_prompts: z.number().int().min(1).max(512).default(8),
    lr: z.number().positive().max(1).default(1e-4),
    warmup_steps: z.number().int().min(0).default(10),
    weight_decay: z.number().min(0).default(0),
    grad_clip: z.number().positive().default(1.0),
    /** c in c · mean((r_c + r_r)²); 0 turns centering off. */
    centering: z.number().min(0).default(0.01),
    /** Margin per ranking tier beyond the first (0 = plain Bradley–Terry). */
    margin_per_tier_gap: z.number().min(0).default(0),
    /** How votes of several annotators on one item combine: all votes, majority, per annotator. */
    combine: z.enum(['all', 'majority', 'per_annotator']).default('all'),
    include_compare_votes: z.boolean().default(false),
    /** Share of voted prompts held out when no prompt is marked `eval`. */
    eval_fraction: z.number().min(0).max(0.9).default(0.1),
    eval_every: z.number().int().min(1).default(20),
    checkpoint_every: z.number().int().min(1).default(200),
    /** Normalisation: SFT samples on training prompts, generated like PPO's rollouts. */
    norm_samples: z.number().int().min(2).max(4096).default(64),
    norm_temperature: z.number().positive().default(0.7),
    norm_max_new_tokens: z.number().int().min(1).default(48),
    /** LoRA adapters on the backbone (the score head always trains fully); lora_r 0 trains every weight. */
    ...loraRunFields,
  })
  .strict();
export type RewardConfig = z.infer<typeof rewardConfigSchema>;
export const defaultRewardConfig = (): RewardConfig => rewardConfigSchema.parse({});

/** A prompt and its responses, tokenised, with the preference pairs among them. */
export interface TokenGroup {
  prompt: number[];
  responses: number[][];
  pairs: PairGroup['pairs'];
}

/** How prompts and responses become tokens (sequences.ts `textEncoder`), with EOS and padding ids. */
export interface Encoder {
  prompt(text: string): number[];
  response(text: string): number[];
  eosId: number;
  padId: number;
}

export function tokenGroups(
  votes: Vote[],
  combine: RewardConfig['combine'],
  texts: { prompts: Map<number, { text: string }>; responses: Map<number, string> },
  enc: Encoder,
): TokenGroup[] {
  return groupByPrompt(votes, combine).map((g) => ({
    prompt: enc.prompt(texts.prompts.get(g.prompt_id)!.text),
    responses: g.responses.map((id) => enc.response(texts.responses.get(id)!)),
    pairs: g.pairs,
  }));
}

/** Backbone + scalar head; the score is the head's output at the last real token. */
export class RewardModel implements CustomReplicable {
  constructor(
    readonly backbone: GPT,
    readonly head: ScalarHead,
    /** Normalisation applied by `score` (identity until `normalise` has run). */
    public gain = 1,
    public bias = 0,
  ) {}

  /** Raw scores [N] of left-padded prompt+response sequences (differentiable). */
  rawScores(ids: tf.Tensor2D, attentionMask: tf.Tensor2D, training: boolean): tf.Tensor1D {
    return tf.tidy(() => {
      const values = this.head.apply(this.backbone.hidden(ids, { attentionMask, training }));
      const [B, T] = values.shape;
      return tf.reshape(tf.slice(values, [0, T - 1], [B, 1]), [B]) as tf.Tensor1D;
    });
  }

  /** Normalised scores of prompt/response token lists, forward only, in chunks of `batch`. */
  score(prompts: number[][], responses: number[][], padId: number, batch = 16): number[] {
    const out: number[] = [];
    const maxLen = this.backbone.config.n_positions;
    for (let i = 0; i < prompts.length; i += batch) {
      const b = packBatch(prompts.slice(i, i + batch), responses.slice(i, i + batch), padId, maxLen);
      const s = this.rawScores(b.ids, b.attentionMask, false);
      for (const x of s.dataSync()) out.push(this.gain * x + this.bias);
      s.dispose();
      disposeBatch(b);
    }
    return out;
  }

  dispose(): void {
    this.backbone.dispose();
    this.head.dispose();
  }

  /** Backbone variables by HF name plus the head's `score.*`: stable keys for optimizer state. */
  namedVariables(): Record<string, tf.Variable> {
    return { ...this.backbone.namedVariables(), ...this.head.namedVariables() };
  }

  /** A replica worker rebuilds it from its backbone (shipped by the trainer), the head and the normalisation (the builder registered below). */
  replicaSpec(): Omit<ReplicaSpec, 'config'> {
    return { kind: 'reward', module: import.meta.url, weights: this.head.getWeights(), numbers: { gain: this.gain, bias: this.bias } };
  }
}

defineReplicaBuilder('reward', (spec, backbone) => new RewardModel(backbone, ScalarHead.fromWeights(spec.weights), spec.numbers?.gain ?? 1, spec.numbers?.bias ?? 0));

export interface RewardHooks {
  onStep?(step: number, metrics: Record<string, number>): void | Promise<void>;
  onEval?(step: number, metrics: Record<string, number>): void | Promise<void>;
  /** Called every `checkpoint_every` steps and at the end (`final`), with what resume needs. */
  onCheckpoint?(step: number, optimizer: AdamWState, final: boolean): void | Promise<void>;
  signal?: AbortSignal;
}

/** Steps of one run: `epochs` passes over the training groups, `batch_prompts` groups per step. */
export function rewardSteps(config: RewardConfig, nGroups: number): number {
  return config.epochs * Math.ceil(nGroups / config.batch_prompts);
}

/** The groups of every step, in a seeded order reshuffled each epoch (so resume replays it exactly). */
function schedule(config: RewardConfig, nGroups: number): number[][] {
  const rng = new Rng(config.seed).fork('rm-order');
  const steps: number[][] = [];
  for (let e = 0; e < config.epochs; e++) {
    const order = rng.shuffle([...Array(nGroups).keys()]);
    for (let i = 0; i < order.length; i += config.batch_prompts) steps.push(order.slice(i, i + config.batch_prompts));
  }
  return steps;
}

/** Loss and metrics over a set of groups: every response scored once, pairs picked by matMul. */
function groupForward(
  model: RewardModel,
  groups: TokenGroup[],
  config: Pick<RewardConfig, 'centering'>,
  padId: number,
  training: boolean,
): { loss: tf.Scalar; rewards: tf.Tensor1D; chosen: tf.Tensor1D; rejected: tf.Tensor1D } {
  const prompts: number[][] = [];
  const responses: number[][] = [];
  const chosenIdx: number[] = [];
  const rejectedIdx: number[] = [];
  const margins: number[] = [];
  for (const g of groups) {
    const base = responses.length;
    for (const r of g.responses) {
      prompts.push(g.prompt);
      responses.push(r);
    }
    for (const p of g.pairs) {
      chosenIdx.push(base + p.chosen);
      rejectedIdx.push(base + p.rejected);
      margins.push(p.margin);
    }
  }
  const batch = packBatch(prompts, responses, padId, model.backbone.config.n_positions);
  const out = tf.tidy(() => {
    const rewards = model.rawScores(batch.ids, batch.attentionMask, training);
    // Selecting by a one-hot matMul instead of gather: gather has no gradient kernel on wasm.
    const N = responses.length;
    const pick = (idx: number[]) => tf.reshape(tf.matMul(tf.oneHot(tf.tensor1d(idx, 'int32'), N), tf.reshape(rewards, [N, 1])), [idx.length]) as tf.Tensor1D;
    const chosen = pick(chosenIdx);
    const rejected = pick(rejectedIdx);
    const anyMargin = margins.some((m) => m !== 0);
    const loss = pairwiseLoss(chosen, rejected, {
      centering: config.centering,
      ...(anyMargin ? { margin: tf.tensor1d(margins) } : {}),
    });
    return { loss, rewards, chosen, rejected };
  });
  disposeBatch(batch);
  return out;
}

function metricsOf(loss: number, rewards: ArrayLike<number>, chosen: number[], rejected: number[]): Record<string, number> {
  const r = Array.from(rewards);
  const { accuracy, margin } = pairMetrics(chosen, rejected);
  return {
    loss,
    accuracy,
    margin,
    mean_reward: r.reduce((s, x) => s + x, 0) / Math.max(1, r.length),
    min_reward: Math.min(...r),
    max_reward: Math.max(...r),
  };
}

/** Held-out metrics, `eval/`-prefixed, accumulated over every eval pair (forward only). */
export function evaluateRewardModel(
  model: RewardModel,
  groups: TokenGroup[],
  config: RewardConfig,
  padId: number,
): Record<string, number> {
  const chosen: number[] = [];
  const rejected: number[] = [];
  const rewards: number[] = [];
  let lossSum = 0;
  for (let i = 0; i < groups.length; i += config.batch_prompts) {
    const part = groups.slice(i, i + config.batch_prompts);
    const out = groupForward(model, part, config, padId, false);
    const n = out.chosen.shape[0];
    lossSum += out.loss.dataSync()[0]! * n;
    chosen.push(...out.chosen.dataSync());
    rejected.push(...out.rejected.dataSync());
    rewards.push(...out.rewards.dataSync());
    tf.dispose([out.loss, out.rewards, out.chosen, out.rejected]);
  }
  if (chosen.length === 0) return {};
  const m = metricsOf(lossSum / chosen.length, rewards, chosen, rejected);
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [`eval/${k}`, v]));
}

/** A shard of a reward-model step: whole prompt groups; its loss is weighted by its share of the pairs. */
interface RewardShard {
  groups: TokenGroup[];
  centering: number;
  padId: number;
  /** Pairs in this shard / pairs in the step. */
  share: number;
}

/** The pairwise loss as a data-parallel gradient task (shards = prompt groups). */
export const rewardGradTask = defineGradTask<RewardShard>({
  name: 'reward',
  module: import.meta.url,
  split: (s, parts) => {
    const total = s.groups.reduce((n, g) => n + g.pairs.length, 0);
    return shardRanges(s.groups.length, parts).map(([a, b]) => {
      const groups = s.groups.slice(a, b);
      return { ...s, groups, share: (s.share * groups.reduce((n, g) => n + g.pairs.length, 0)) / Math.max(total, 1) };
    });
  },
  tokens: (s) => s.groups.reduce((n, g) => n + g.responses.reduce((m, r) => m + g.prompt.length + r.length, 0), 0),
  loss: (models, s) => {
    const out = groupForward(models.reward as RewardModel, s.groups, { centering: s.centering }, s.padId, true);
    return { loss: tf.mul(out.loss, s.share) as tf.Scalar, extras: { rewards: out.rewards, chosen: out.chosen, rejected: out.rejected } };
  },
});

/** One optimizer step of the reward model on `groups`, on every core `replicas` has; returns the step's metrics. */
export async function rewardStep(
  replicas: Replicas,
  optimizer: AdamW,
  groups: TokenGroup[],
  config: Pick<RewardConfig, 'centering'>,
  padId: number,
): Promise<Record<string, number>> {
  const r = await replicas.grads(rewardGradTask, { groups, centering: config.centering, padId, share: 1 });
  try {
    const { gradNorm, lr } = optimizer.applyGradients(r.grads);
    replicas.syncWeights();
    const { rewards, chosen, rejected } = r.extras as Record<string, Float32Array>;
    return { ...metricsOf(r.loss, rewards!, Array.from(chosen!), Array.from(rejected!)), grad_norm: gradNorm, lr };
  } finally {
    tf.dispose(Object.values(r.grads));
  }
}

/**
 * Trains `model` in place on the training groups, evaluating on the held-out ones every
 * `eval_every` steps and at the end. Resumes after `startStep` with the given optimizer state.
 */
export async function trainRewardModel(
  model: RewardModel,
  data: { train: TokenGroup[]; eval: TokenGroup[] },
  config: RewardConfig,
  padId: number,
  hooks: RewardHooks = {},
  resume?: { step: number; optimizer: AdamWState },
): Promise<{ step: number; metrics: Record<string, number> }> {
  if (data.train.length === 0) throw new Error('no preference pairs to train on: rank some responses first');
  const steps = schedule(config, data.train.length);
  const optimizer = new AdamW(model.namedVariables(), {
    lr: config.lr,
    warmupSteps: config.warmup_steps,
    totalSteps: steps.length,
    weightDecay: config.weight_decay,
    clipNorm: config.grad_clip,
  });
  if (resume) optimizer.setState(resume.optimizer);
  let last: Record<string, number> = {};
  let step = resume?.step ?? 0;
  const replicas = await Replicas.start({ reward: model }, ['reward']);
  try {
    while (step < steps.length) {
      if (hooks.signal?.aborted) break;
      const groups = steps[step]!.map((i) => data.train[i]!);
      last = await rewardStep(replicas, optimizer, groups, config, padId);
      step++;
      await hooks.onStep?.(step, last);
      const done = step === steps.length;
      if ((step % config.eval_every === 0 || done) && data.eval.length > 0) {
        const ev = evaluateRewardModel(model, data.eval, config, padId);
        last = { ...last, ...ev };
        await hooks.onEval?.(step, ev);
      }
      if (step % config.checkpoint_every === 0 && !done) await hooks.onCheckpoint?.(step, optimizer.getState(), false);
    }
  } finally {
    await replicas.dispose();
  }
  const optimizerState = optimizer.getState();
  optimizer.dispose();
  await hooks.onCheckpoint?.(step, optimizerState, true);
  return { step, metrics: last };
}

/**
 * The reward model's head with its normalisation folded in (w·gain, b·gain + bias), so a scalar
 * head copied from it outputs the normalised score `score` returns: PPO's value model starts on the
 * scale of the rewards it must predict, not off by the gain and bias.
 */
export function normalisedHeadWeights(weights: Record<string, Float32Array>, gain: number, bias: number): Record<string, Float32Array> {
  const w = weights['score.weight'];
  if (!w) throw new Error('missing weight "score.weight"');
  const b = weights['score.bias'] ?? new Float32Array(1);
  return { 'score.weight': w.map((x) => x * gain), 'score.bias': b.map((x) => x * gain + bias) };
}

/**
 * Sets the model's gain and bias so that SFT samples on the training prompts score mean 0, std 1
 * (lm-human-preferences), which keeps β meaningful across reward models. `sft` may be the reward
 * model's own backbone when that is the SFT model plus LoRA adapters: it samples with them off.
 */
export function normaliseRewardModel(
  model: RewardModel,
  sft: GPT,
  prompts: number[][],
  config: RewardConfig,
  enc: Pick<Encoder, 'eosId' | 'padId'>,
): { gain: number; bias: number; prompts: number[][]; responses: number[][] } {
  const rng = new Rng(config.seed).fork('rm-norm');
  // A prompt longer than the context loses its start, as in training (packBatch) and PPO's rollouts.
  const maxNew = Math.min(config.norm_max_new_tokens, sft.config.n_positions - 1);
  const chosen = Array.from({ length: config.norm_samples }, () => promptTail(prompts[rng.int(prompts.length)]!, sft.config.n_positions, maxNew));
  const responses: number[][] = [];
  for (let i = 0; i < chosen.length; i += 16) {
    const part = chosen.slice(i, i + 16);
    const sample = () =>
      generate(sft, part, {
        maxNewTokens: maxNew,
        temperature: config.norm_temperature,
        topK: 0,
        topP: 1,
        eosId: enc.eosId,
        padId: enc.padId,
        seed: config.seed + i,
      });
    const out = sft === model.backbone ? sft.withAdaptersOff(sample) : sample();
    responses.push(...out.tokens);
  }
  model.gain = 1;
  model.bias = 0;
  const raw = model.score(chosen, responses, enc.padId);
  const { gain, bias } = normalisation(raw);
  model.gain = gain;
  model.bias = bias;
  return { gain, bias, prompts: chosen, responses };
}

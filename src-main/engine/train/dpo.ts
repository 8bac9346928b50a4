// Direct Preference Optimization (Rafailov et al. 2023; docs/algorithms.md, "DPO"): the policy
// is trained straight from preference pairs with −log σ(β[(logπ(y_w) − logπ_ref(y_w)) −
// (logπ(y_l) − logπ_ref(y_l))]); no reward model, no sampling. The reference is the SFT model,
// run forward only outside the gradient tape: a second model, or, when the policy trains LoRA
// adapters, the policy itself with its adapters switched off (no second copy of the weights).
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { loraRunFields } from '../models/lora.js';
import type { GPT } from '../models/model.js';
import { AdamW, type AdamWState } from './optim.js';
import { Replicas } from '../parallel/data-parallel.js';
import { defineGradTask, shardRanges } from '../parallel/grad-task.js';
import { dpoLoss, dpoMetrics } from './rlhf-math.js';
import { Rng } from '../rng.js';
import { disposeBatch, packBatch, tokenLogprobsAt, type SequenceBatch } from './sequences.js';

export const dpoConfigSchema = z
  .object({
    seed: z.number().int().min(0).default(0),
    epochs: z.number().int().min(1).max(1000).default(2),
    /** Preference pairs per optimizer step. */
    batch_size: z.number().int().min(1).max(512).default(8),
    lr: z.number().positive().max(1).default(1e-5),
    warmup_steps: z.number().int().min(0).default(10),
    weight_decay: z.number().min(0).default(0),
    grad_clip: z.number().positive().default(1.0),
    /** β: how far the policy may move from the reference per unit of preference. */
    beta: z.number().positive().default(0.1),
    combine: z.enum(['all', 'majority', 'per_annotator']).default('all'),
    include_compare_votes: z.boolean().default(false),
    eval_fraction: z.number().min(0).max(0.9).default(0.1),
    eval_every: z.number().int().min(1).default(20),
    checkpoint_every: z.number().int().min(1).default(200),
    /** LoRA adapters on the policy; the reference is then the same model with them switched off. */
    ...loraRunFields,
  })
  .strict();
export type DpoConfig = z.infer<typeof dpoConfigSchema>;
export const defaultDpoConfig = (): DpoConfig => dpoConfigSchema.parse({});

export interface DpoPair {
  prompt: number[];
  chosen: number[];
  rejected: number[];
}

export interface DpoHooks {
  onStep?(step: number, metrics: Record<string, number>): void | Promise<void>;
  onEval?(step: number, metrics: Record<string, number>): void | Promise<void>;
  onCheckpoint?(step: number, optimizer: AdamWState, final: boolean): void | Promise<void>;
  signal?: AbortSignal;
}

export function dpoSteps(config: DpoConfig, nPairs: number): number {
  return config.epochs * Math.ceil(nPairs / config.batch_size);
}

/** Chosen responses in the first half of the batch, rejected in the second. */
function pairBatch(pairs: DpoPair[], padId: number, maxLength: number): SequenceBatch {
  return packBatch(
    [...pairs.map((p) => p.prompt), ...pairs.map((p) => p.prompt)],
    [...pairs.map((p) => p.chosen), ...pairs.map((p) => p.rejected)],
    padId,
    maxLength,
  );
}

/** Summed log-probability of each row's response tokens [2P] (temperature 1). */
function sequenceLogps(model: GPT, batch: SequenceBatch): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(tokenLogprobsAt(model, batch, 1).logp, batch.responseMask), 1) as tf.Tensor1D);
}

/** The reference's summed log-probs: the ref model, or the policy with its adapters off when there is none. */
function referenceLogps(policy: GPT, ref: GPT | null | undefined, batch: SequenceBatch): tf.Tensor1D {
  if (ref) return sequenceLogps(ref, batch);
  if (!policy.lora) throw new Error('DPO without a reference model needs a policy with LoRA adapters (its reference is the policy with them off)');
  return policy.withAdaptersOff(() => sequenceLogps(policy, batch));
}

function halves(t: tf.Tensor1D): [tf.Tensor1D, tf.Tensor1D] {
  const n = t.shape[0] / 2;
  return [tf.slice(t, [0], [n]), tf.slice(t, [n], [n])];
}

/** Loss and TRL metrics of a set of pairs, forward only; `eval/`-prefixed. */
export function evaluateDpo(policy: GPT, ref: GPT | null, pairs: DpoPair[], config: DpoConfig, padId: number): Record<string, number> {
  const acc = { chosen: [] as number[], rejected: [] as number[], lc: [] as number[], lr: [] as number[] };
  let lossSum = 0;
  for (let i = 0; i < pairs.length; i += config.batch_size) {
    const part = pairs.slice(i, i + config.batch_size);
    const batch = pairBatch(part, padId, policy.config.n_positions);
    tf.tidy(() => {
      const [pc, pr] = halves(sequenceLogps(policy, batch));
      const [rc, rr] = halves(referenceLogps(policy, ref, batch));
      const out = dpoLoss(pc, pr, rc, rr, config.beta);
      lossSum += out.loss.dataSync()[0]! * part.length;
      acc.chosen.push(...out.chosenRewards.dataSync());
      acc.rejected.push(...out.rejectedRewards.dataSync());
      acc.lc.push(...pc.dataSync());
      acc.lr.push(...pr.dataSync());
    });
    disposeBatch(batch);
  }
  if (pairs.length === 0) return {};
  const m = { loss: lossSum / pairs.length, ...dpoMetrics(acc.chosen, acc.rejected, acc.lc, acc.lr) };
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [`eval/${k}`, v]));
}

/** A shard of a DPO step: some of the pairs; its loss is weighted by its share of them. */
interface DpoShard {
  pairs: DpoPair[];
  padId: number;
  beta: number;
  share: number;
}

/** The DPO loss as a data-parallel gradient task (shards = pairs; the frozen ref, when there is one, is replicated too). */
export const dpoGradTask = defineGradTask<DpoShard>({
  name: 'dpo',
  module: import.meta.url,
  split: (s, parts) => shardRanges(s.pairs.length, parts).map(([a, b]) => ({ ...s, pairs: s.pairs.slice(a, b), share: (s.share * (b - a)) / s.pairs.length })),
  tokens: (s) => s.pairs.reduce((n, p) => n + 2 * p.prompt.length + p.chosen.length + p.rejected.length, 0),
  prepare: (models, s) => {
    const policy = models.policy as GPT;
    const batch = pairBatch(s.pairs, s.padId, policy.config.n_positions);
    try {
      return { ref: referenceLogps(policy, models.ref as GPT | undefined, batch) };
    } finally {
      disposeBatch(batch);
    }
  },
  loss: (models, s, prepared) => {
    const policy = models.policy as GPT;
    const batch = pairBatch(s.pairs, s.padId, policy.config.n_positions);
    try {
      const [rc, rr] = halves(prepared.ref as tf.Tensor1D);
      const [pc, pr] = halves(sequenceLogps(policy, batch));
      const out = dpoLoss(pc, pr, rc, rr, s.beta);
      return {
        loss: tf.mul(out.loss, s.share) as tf.Scalar,
        extras: { chosen: out.chosenRewards, rejected: out.rejectedRewards, logp_chosen: pc, logp_rejected: pr },
      };
    } finally {
      disposeBatch(batch);
    }
  },
});

/**
 * Trains `policy` in place against the frozen `ref` (null: a LoRA policy with its adapters off),
 * resuming after `resume.step` when given.
 */
export async function trainDpo(
  policy: GPT,
  ref: GPT | null,
  data: { train: DpoPair[]; eval: DpoPair[] },
  config: DpoConfig,
  padId: number,
  hooks: DpoHooks = {},
  resume?: { step: number; optimizer: AdamWState },
): Promise<{ step: number; metrics: Record<string, number> }> {
  if (data.train.length === 0) throw new Error('no preference pairs to train on: rank some responses first');
  if (!ref && !policy.lora) throw new Error('DPO without a reference model needs a policy with LoRA adapters');
  const total = dpoSteps(config, data.train.length);
  // Seeded order, reshuffled each epoch, so a resumed run replays the same batches.
  const rng = new Rng(config.seed).fork('dpo-order');
  const schedule: number[][] = [];
  for (let e = 0; e < config.epochs; e++) {
    const order = rng.shuffle([...Array(data.train.length).keys()]);
    for (let i = 0; i < order.length; i += config.batch_size) schedule.push(order.slice(i, i + config.batch_size));
  }
  const optimizer = new AdamW(policy.namedVariables(), {
    lr: config.lr,
    warmupSteps: config.warmup_steps,
    totalSteps: total,
    weightDecay: config.weight_decay,
    clipNorm: config.grad_clip,
  });
  if (resume) optimizer.setState(resume.optimizer);
  let step = resume?.step ?? 0;
  let last: Record<string, number> = {};
  const replicas = await Replicas.start(ref ? { policy, ref } : { policy }, ['policy']);
  try {
    while (step < total && !hooks.signal?.aborted) {
      const pairs = schedule[step]!.map((i) => data.train[i]!);
      const r = await replicas.grads(dpoGradTask, { pairs, padId, beta: config.beta, share: 1 });
      let gradNorm: number;
      let lr: number;
      try {
        ({ gradNorm, lr } = optimizer.applyGradients(r.grads));
        replicas.syncWeights();
      } finally {
        tf.dispose(Object.values(r.grads));
      }
      const [chosen, rejected, lc, lrj] = ['chosen', 'rejected', 'logp_chosen', 'logp_rejected'].map((k) => Array.from(r.extras[k]!)) as [number[], number[], number[], number[]];
      const loss = r.loss;
      step++;
      last = { loss, ...dpoMetrics(chosen, rejected, lc, lrj), grad_norm: gradNorm, lr };
      await hooks.onStep?.(step, last);
      if ((step % config.eval_every === 0 || step === total) && data.eval.length > 0) {
        const ev = evaluateDpo(policy, ref, data.eval, config, padId);
        last = { ...last, ...ev };
        await hooks.onEval?.(step, ev);
      }
      if (step % config.checkpoint_every === 0 && step < total) await hooks.onCheckpoint?.(step, optimizer.getState(), false);
    }
    await hooks.onCheckpoint?.(step, optimizer.getState(), true);
  } finally {
    optimizer.dispose();
    await replicas.dispose();
  }
  return { step, metrics: last };
}

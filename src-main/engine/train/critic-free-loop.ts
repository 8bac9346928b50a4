// The iteration loop RLOO and GRPO share: draw the iteration's prompts, roll out k completions of
// each, score them, update the policy over shuffled minibatches for a number of passes, log, show
// samples and checkpoint. What differs between the two (rewards, advantages, the loss, the metric
// names) comes in as a `CriticFreeMethod`.
import type * as tf from '@tensorflow/tfjs';
import {
  groupRollout,
  groupSamples,
  minibatches,
  policyStep,
  type CriticFreeHooks,
  type CriticFreeModels,
  type CriticFreeResumeState,
  type GroupRollout,
  type SamplingConfig,
} from './critic-free.js';
import { AdamW } from './optim.js';
import type { PpoPrompt, PpoTokens } from './ppo.js';
import { Rng } from '../rng.js';
import type { SequenceBatch } from './sequences.js';

/** The settings the loop itself reads; both stages' config schemas have them. */
export interface CriticFreeLoopConfig extends SamplingConfig {
  seed: number;
  steps: number;
  prompts_per_step: number;
  num_mini_batches: number;
  lr: number;
  warmup_steps: number;
  weight_decay: number;
  grad_clip: number;
  sample_every: number;
  sample_rows: number;
  checkpoint_every: number;
}

/** One rollout as a method scored it. */
export interface ScoredRollout {
  advantages: number[];
  /** Each completion's KL as the sample table shows it (asked for only on the iterations that show samples). */
  sampleKl(): number[];
  /** The loss of one minibatch (rows `idx` of the rollout) and the statistics read back from it. */
  loss(batch: SequenceBatch, logp: tf.Tensor2D, idx: number[]): { loss: tf.Scalar; stats: tf.Scalar[] };
  /**
   * The iteration's metrics: `stats[j]` holds statistic j of every minibatch step; `step` is
   * already counted (the schedule's lr of this iteration is `optimizer.lrAt(step - 1)`).
   */
  metrics(stats: number[][], optimizer: AdamW, step: number, tokens: number): Record<string, number>;
}

export interface CriticFreeMethod {
  /** Names the method in messages ("GRPO"). */
  label: string;
  /** Completions per prompt. */
  k: number;
  /** Passes of minibatch updates over each rollout (GRPO's num_iterations, RLOO's num_ppo_epochs). */
  passes: number;
  /** Rewards and advantages of a rollout; timed as part of the rollout. */
  score(data: GroupRollout): ScoredRollout;
}

/** Runs `config.steps` iterations of `method` (after `resume.step` when resuming); the policy is updated in place. */
export async function runCriticFree(
  method: CriticFreeMethod,
  models: CriticFreeModels,
  prompts: PpoPrompt[],
  config: CriticFreeLoopConfig,
  tok: PpoTokens,
  hooks: CriticFreeHooks = {},
  resume?: CriticFreeResumeState,
): Promise<{ step: number; metrics: Record<string, number> }> {
  if (prompts.length === 0) throw new Error(`no training prompts for ${method.label}: import some prompts first`);
  if (config.max_new_tokens >= models.policy.config.n_positions) {
    throw new Error(`max_new_tokens (${config.max_new_tokens}) must be below the model's context (${models.policy.config.n_positions})`);
  }
  const optimizer = new AdamW(models.policy.namedVariables(), {
    lr: config.lr,
    warmupSteps: config.warmup_steps,
    totalSteps: config.steps,
    weightDecay: config.weight_decay,
    clipNorm: config.grad_clip,
  });
  if (resume) optimizer.setState(resume.optimizer);
  let step = resume?.step ?? 0;
  let last: Record<string, number> = {};
  const k = method.k;
  try {
    while (step < config.steps && !hooks.signal?.aborted) {
      // Every random choice of an iteration derives from (seed, step): a resumed run replays exactly.
      const rng = new Rng(config.seed).fork(step);
      const batchPrompts = Array.from({ length: config.prompts_per_step }, () => prompts[rng.int(prompts.length)]!);
      const t0 = performance.now();
      const data = groupRollout(models, batchPrompts, k, config, tok, rng.nextUint32());
      const scored = method.score(data);
      const t1 = performance.now();
      const stats: number[][] = [];
      for (let pass = 0; pass < method.passes; pass++) {
        for (const idx of minibatches(rng.shuffle([...data.responses.keys()]), config.num_mini_batches)) {
          const values = policyStep(models.policy, optimizer, data, idx, tok.padId, config.temperature, step, scored.loss);
          values.forEach((v, j) => (stats[j] ??= []).push(v));
        }
      }
      const t2 = performance.now();
      step++;
      const tokens = data.responses.reduce((s, r) => s + r.length, 0);
      last = {
        ...scored.metrics(stats, optimizer, step, tokens),
        'time/rollout_s': (t1 - t0) / 1000,
        'time/update_s': (t2 - t1) / 1000,
        tokens_per_second: tokens / ((t2 - t0) / 1000),
      };
      await hooks.onStep?.(step, last);
      if (step % config.sample_every === 0 || step === 1 || step === config.steps) {
        await hooks.onSamples?.(step, groupSamples(data, scored.sampleKl(), scored.advantages, k, config.sample_rows, tok));
      }
      if (step % config.checkpoint_every === 0 && step < config.steps) await hooks.onCheckpoint?.({ step, optimizer: optimizer.getState() }, false);
    }
    await hooks.onCheckpoint?.({ step, optimizer: optimizer.getState() }, true);
  } finally {
    optimizer.dispose();
  }
  return { step, metrics: last };
}

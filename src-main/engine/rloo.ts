// RLOO, REINFORCE Leave-One-Out (Ahmadian et al. 2024; TRL's RLOOTrainer), one iteration:
//   1. rollout: k completions for each of the iteration's prompts (critic-free.ts);
//   2. reward: the reward model's score (less the missing-EOS penalty) − β·KL to the reference;
//   3. advantage: the reward minus the mean reward of the other k−1 completions of its prompt,
//      optionally normalised over the batch;
//   4. update: epochs × shuffled minibatches of the clipped loss on the sequence-level ratio;
//   5. TRL's metrics.
import { z } from 'zod';
import { rlooAdvantages, rlooPolicyLoss, penalisedScores, rlooRewards } from './critic-free-math.js';
import * as tf from '@tensorflow/tfjs';
import {
  groupRollout,
  groupSamples,
  mean,
  minibatches,
  policyStep,
  variance,
  type CriticFreeHooks,
  type CriticFreeModels,
  type CriticFreeResumeState,
} from './critic-free.js';
import { AdamW } from './optim.js';
import type { PpoPrompt, PpoTokens } from './ppo.js';
import { Rng } from './rng.js';

export const rlooConfigSchema = z
  .object({
    seed: z.number().int().min(0).default(0),
    steps: z.number().int().min(1).default(100).describe('RLOO iterations (rollout + update).'),
    prompts_per_step: z.number().int().min(1).max(512).default(8).describe('Distinct prompts per iteration; each gets rloo_k completions.'),
    rloo_k: z.number().int().min(2).max(64).default(2).describe('Completions per prompt; each one’s baseline is the mean reward of the other k−1.'),
    num_mini_batches: z.number().int().min(1).default(1),
    num_ppo_epochs: z.number().int().min(1).default(1).describe('Passes over each generation batch.'),
    lr: z.number().positive().max(1).default(1e-5),
    warmup_steps: z.number().int().min(0).default(0).describe('Iterations of lr warmup; the cosine decay to 0.1 × lr then ends at the last iteration.'),
    weight_decay: z.number().min(0).default(0),
    grad_clip: z.number().positive().default(1.0),
    temperature: z.number().positive().default(0.7),
    top_k: z.number().int().min(0).default(0),
    top_p: z.number().gt(0).max(1).default(1),
    max_new_tokens: z.number().int().min(1).default(48),
    kl_coef: z.number().min(0).default(0.05).describe('β: the reward is score − β·KL to the reference.'),
    kl_estimator: z.enum(['k1', 'k3']).default('k1').describe('k1 = log π − log π_ref per token; k3 = (r − 1) − log r, never negative.'),
    token_level_kl: z.boolean().default(false).describe('Book −β·kl_t on each token (the score on the last) instead of −β·KL on the sequence.'),
    missing_eos_penalty: z.number().min(0).default(1.0).describe('Subtracted from the score of a completion cut at max_new_tokens.'),
    normalize_advantage: z.boolean().default(false).describe('Whiten the advantages over the batch.'),
    cliprange: z.number().positive().default(0.2).describe('Clip the sequence ratio to 1 ± this; a large value makes the loss plain REINFORCE.'),
    sample_every: z.number().int().min(1).default(10),
    sample_rows: z.number().int().min(1).max(256).default(8),
    checkpoint_every: z.number().int().min(1).default(50),
  })
  .strict();
export type RlooConfig = z.infer<typeof rlooConfigSchema>;

/** Runs RLOO for `config.steps` iterations (after `resume.step` when resuming); the policy is updated in place. */
export async function trainRloo(
  models: CriticFreeModels,
  prompts: PpoPrompt[],
  config: RlooConfig,
  tok: PpoTokens,
  hooks: CriticFreeHooks = {},
  resume?: CriticFreeResumeState,
): Promise<{ step: number; metrics: Record<string, number> }> {
  if (prompts.length === 0) throw new Error('no training prompts for RLOO: import some prompts first');
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
  const k = config.rloo_k;
  try {
    while (step < config.steps && !hooks.signal?.aborted) {
      // Every random choice of an iteration derives from (seed, step): a resumed run replays exactly.
      const rng = new Rng(config.seed).fork(step);
      const batchPrompts = Array.from({ length: config.prompts_per_step }, () => prompts[rng.int(prompts.length)]!);
      const t0 = performance.now();
      const data = groupRollout(models, batchPrompts, k, config, tok, rng.nextUint32());
      const scores = penalisedScores(data.rawScores, data.finished, config.missing_eos_penalty);
      const { rewards, kl } = rlooRewards(scores, data.logp, data.refLogp, { beta: config.kl_coef, estimator: config.kl_estimator, tokenLevel: config.token_level_kl });
      const advantages = rlooAdvantages(rewards, k, config.normalize_advantage);
      const oldSeqLogp = data.logp.map((row) => row.reduce((s, x) => s + x, 0));
      const t1 = performance.now();
      const stats = { pg: [] as number[], clipfrac: [] as number[], approxkl: [] as number[], ratio: [] as number[] };
      for (let epoch = 0; epoch < config.num_ppo_epochs; epoch++) {
        for (const idx of minibatches(rng.shuffle([...data.responses.keys()]), config.num_mini_batches)) {
          const [pg, clipfrac, approxkl, ratio] = policyStep(models.policy, optimizer, data, idx, tok.padId, config.temperature, step, (batch, logp, rows) => {
            const seqLogp = tf.sum(tf.mul(logp, batch.responseMask), 1) as tf.Tensor1D;
            const out = rlooPolicyLoss(seqLogp, tf.tensor1d(rows.map((i) => oldSeqLogp[i]!)), tf.tensor1d(rows.map((i) => advantages[i]!)), config.cliprange);
            return { loss: out.loss, stats: [out.loss, out.clipfrac, out.approxKl, tf.mean(out.ratio) as tf.Scalar] };
          }) as [number, number, number, number];
          stats.pg.push(pg);
          stats.clipfrac.push(clipfrac);
          stats.approxkl.push(approxkl);
          stats.ratio.push(ratio);
        }
      }
      const t2 = performance.now();
      step++;
      const nonScore = kl.map((x) => -config.kl_coef * x);
      const tokens = data.responses.reduce((s, r) => s + r.length, 0);
      last = {
        'objective/kl': mean(kl),
        'objective/entropy': mean(data.entropy),
        'objective/non_score_reward': mean(nonScore),
        'objective/rlhf_reward': mean(rewards),
        'objective/scores': mean(scores),
        'objective/raw_scores': mean(data.rawScores),
        'policy/approxkl_avg': mean(stats.approxkl),
        'policy/clipfrac_avg': mean(stats.clipfrac),
        'loss/policy_avg': mean(stats.pg),
        'val/ratio': mean(stats.ratio),
        'val/ratio_var': variance(stats.ratio),
        'val/num_eos_tokens': data.finished.filter(Boolean).length,
        'tokens/response_len_mean': tokens / data.responses.length,
        lr: optimizer.lrAt(step - 1),
        episode: step * data.responses.length,
        'time/rollout_s': (t1 - t0) / 1000,
        'time/update_s': (t2 - t1) / 1000,
        tokens_per_second: tokens / ((t2 - t0) / 1000),
      };
      await hooks.onStep?.(step, last);
      if (step % config.sample_every === 0 || step === 1 || step === config.steps) {
        await hooks.onSamples?.(step, groupSamples(data, kl, advantages, k, config.sample_rows, tok));
      }
      if (step % config.checkpoint_every === 0 && step < config.steps) await hooks.onCheckpoint?.({ step, optimizer: optimizer.getState() }, false);
    }
    await hooks.onCheckpoint?.({ step, optimizer: optimizer.getState() }, true);
  } finally {
    optimizer.dispose();
  }
  return { step, metrics: last };
}

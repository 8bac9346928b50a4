// RLOO, REINFORCE Leave-One-Out (Ahmadian et al. 2024; TRL's RLOOTrainer), one iteration:
//   1. rollout: k completions for each of the iteration's prompts (critic-free.ts);
//   2. reward: the reward model's score (less the missing-EOS penalty) − β·KL to the reference;
//   3. advantage: the reward minus the mean reward of the other k−1 completions of its prompt,
//      optionally normalised over the batch;
//   4. update: epochs × shuffled minibatches of the clipped loss on the sequence-level ratio;
//   5. TRL's metrics.
import { z } from 'zod';
import { loraRunFields } from '../models/lora.js';
import * as tf from '@tensorflow/tfjs';
import { penalisedScores, rlooAdvantages, rlooPolicyLoss, rlooRewards } from './critic-free-math.js';
import { mean, variance, type CriticFreeHooks, type CriticFreeModels, type CriticFreeResumeState } from './critic-free.js';
import { runCriticFree, type CriticFreeMethod } from './critic-free-loop.js';
import type { PpoPrompt, PpoTokens } from './ppo.js';

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
    /** LoRA adapters on the policy; lora_r 0 trains every weight. */
    ...loraRunFields,
  })
  .strict();
export type RlooConfig = z.infer<typeof rlooConfigSchema>;

/** Runs RLOO for `config.steps` iterations (after `resume.step` when resuming); the policy is updated in place. */
export function trainRloo(
  models: CriticFreeModels,
  prompts: PpoPrompt[],
  config: RlooConfig,
  tok: PpoTokens,
  hooks: CriticFreeHooks = {},
  resume?: CriticFreeResumeState,
): Promise<{ step: number; metrics: Record<string, number> }> {
  const k = config.rloo_k;
  const method: CriticFreeMethod = {
    label: 'RLOO',
    k,
    passes: config.num_ppo_epochs,
    score: (data) => {
      const scores = penalisedScores(data.rawScores, data.finished, config.missing_eos_penalty);
      const { rewards, kl } = rlooRewards(scores, data.logp, data.refLogp, { beta: config.kl_coef, estimator: config.kl_estimator, tokenLevel: config.token_level_kl });
      const advantages = rlooAdvantages(rewards, k, config.normalize_advantage);
      const oldSeqLogp = data.logp.map((row) => row.reduce((s, x) => s + x, 0));
      return {
        advantages,
        sampleKl: () => kl,
        loss: (batch, logp, rows) => {
          const seqLogp = tf.sum(tf.mul(logp, batch.responseMask), 1) as tf.Tensor1D;
          const out = rlooPolicyLoss(seqLogp, tf.tensor1d(rows.map((i) => oldSeqLogp[i]!)), tf.tensor1d(rows.map((i) => advantages[i]!)), config.cliprange);
          return { loss: out.loss, stats: [out.loss, out.clipfrac, out.approxKl, tf.mean(out.ratio) as tf.Scalar] };
        },
        metrics: (stats, optimizer, step, tokens) => {
          const [pg = [], clipfrac = [], approxkl = [], ratio = []] = stats;
          return {
            'objective/kl': mean(kl),
            'objective/entropy': mean(data.entropy),
            'objective/non_score_reward': mean(kl.map((x) => -config.kl_coef * x)),
            'objective/rlhf_reward': mean(rewards),
            'objective/scores': mean(scores),
            'objective/raw_scores': mean(data.rawScores),
            'policy/approxkl_avg': mean(approxkl),
            'policy/clipfrac_avg': mean(clipfrac),
            'loss/policy_avg': mean(pg),
            'val/ratio': mean(ratio),
            'val/ratio_var': variance(ratio),
            'val/num_eos_tokens': data.finished.filter(Boolean).length,
            'tokens/response_len_mean': tokens / data.responses.length,
            lr: optimizer.lrAt(step - 1),
            episode: step * data.responses.length,
          };
        },
      };
    },
  };
  return runCriticFree(method, models, prompts, config, tok, hooks, resume);
}

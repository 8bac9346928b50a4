// GRPO, Group Relative Policy Optimization (Shao et al. 2024; TRL's GRPOTrainer), one iteration:
//   1. rollout: num_generations completions for each of the iteration's prompts (critic-free.ts);
//   2. reward: the reward model's score, less the missing-EOS penalty (no KL in the reward);
//   3. advantage: (reward − group mean), divided by the group's std when scale_rewards;
//   4. update: num_iterations passes × shuffled minibatches of the clipped per-token loss plus
//      β·k3 KL to the reference, aggregated by loss_type (grpo, bnpo, dr_grpo);
//   5. TRL's metrics (reward, reward_std, kl, clip_ratio/*, completions/*).
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { loraRunFields } from '../models/lora.js';
import { grpoAdvantages, grpoLoss, penalisedScores } from './critic-free-math.js';
import { mean, type CriticFreeHooks, type CriticFreeModels, type CriticFreeResumeState } from './critic-free.js';
import { runCriticFree, type CriticFreeMethod } from './critic-free-loop.js';
import type { PpoPrompt, PpoTokens } from './ppo.js';
import { alignRows } from './sequences.js';

export const grpoConfigSchema = z
  .object({
    seed: z.number().int().min(0).default(0),
    steps: z.number().int().min(1).default(100).describe('GRPO iterations (one generation batch and its updates).'),
    prompts_per_step: z.number().int().min(1).max(512).default(8).describe('Distinct prompts per iteration; each gets num_generations completions.'),
    num_generations: z.number().int().min(2).max(64).default(4).describe('Completions per prompt: the group whose mean (and std) is the baseline.'),
    num_iterations: z.number().int().min(1).default(1).describe('Policy updates per generation batch (TRL’s μ); above 1 the ratio and its clipping come into play.'),
    num_mini_batches: z.number().int().min(1).default(1),
    lr: z.number().positive().max(1).default(1e-6),
    warmup_steps: z.number().int().min(0).default(0).describe('Iterations of lr warmup; the cosine decay to 0.1 × lr then ends at the last iteration.'),
    weight_decay: z.number().min(0).default(0),
    grad_clip: z.number().positive().default(1.0),
    temperature: z.number().positive().default(1.0),
    top_k: z.number().int().min(0).default(0),
    top_p: z.number().gt(0).max(1).default(1),
    max_new_tokens: z.number().int().min(1).default(48).describe('TRL’s max_completion_length; dr_grpo divides by it.'),
    beta: z.number().min(0).default(0.04).describe('Weight of the k3 KL to the reference, added to the loss per token (0 = no KL term).'),
    epsilon: z.number().positive().default(0.2).describe('Clip the per-token ratio below at 1 − epsilon (and above at 1 + epsilon unless epsilon_high is set).'),
    epsilon_high: z.number().positive().nullable().default(null).describe('Upper clip 1 + epsilon_high (DAPO’s clip-higher); empty = epsilon.'),
    loss_type: z.enum(['grpo', 'bnpo', 'dr_grpo']).default('bnpo').describe('grpo: mean per sequence then over sequences; bnpo: mean over all tokens; dr_grpo: sum / (batch × max_new_tokens).'),
    scale_rewards: z.boolean().default(true).describe('Divide advantages by the group’s reward std (off in Dr. GRPO).'),
    missing_eos_penalty: z.number().min(0).default(1.0).describe('Subtracted from the score of a completion cut at max_new_tokens.'),
    sample_every: z.number().int().min(1).default(10),
    sample_rows: z.number().int().min(1).max(256).default(8),
    checkpoint_every: z.number().int().min(1).default(50),
    /** LoRA adapters on the policy; lora_r 0 trains every weight. */
    ...loraRunFields,
  })
  .strict();
export type GrpoConfig = z.infer<typeof grpoConfigSchema>;

/** Runs GRPO for `config.steps` iterations (after `resume.step` when resuming); the policy is updated in place. */
export function trainGrpo(
  models: CriticFreeModels,
  prompts: PpoPrompt[],
  config: GrpoConfig,
  tok: PpoTokens,
  hooks: CriticFreeHooks = {},
  resume?: CriticFreeResumeState,
): Promise<{ step: number; metrics: Record<string, number> }> {
  const k = config.num_generations;
  const lossOptions = {
    beta: config.beta,
    epsilon: config.epsilon,
    epsilonHigh: config.epsilon_high,
    lossType: config.loss_type,
    maxCompletionLength: config.max_new_tokens,
  };
  const method: CriticFreeMethod = {
    label: 'GRPO',
    k,
    passes: config.num_iterations,
    score: (data) => {
      const rewards = penalisedScores(data.rawScores, data.finished, config.missing_eos_penalty);
      const { advantages, groupStd } = grpoAdvantages(rewards, k, config.scale_rewards);
      return {
        advantages,
        sampleKl: () => data.logp.map((row, i) => row.reduce((s, lp, t) => s + lp - data.refLogp[i]![t]!, 0)),
        loss: (batch, logp, rows) => {
          const W = batch.width - 1;
          // The rollout's log-probs are π_old: with one update per batch the ratio is exactly 1.
          const old = alignRows(rows.map((i) => data.logp[i]!), W);
          const ref = alignRows(rows.map((i) => data.refLogp[i]!), W);
          const out = grpoLoss(logp, old, ref, tf.tensor1d(rows.map((i) => advantages[i]!)), batch.responseMask, lossOptions);
          return { loss: out.loss, stats: [out.loss, out.kl, out.clipLow, out.clipHigh, out.clipRegion] };
        },
        metrics: (stats, optimizer, step, tokens) => {
          const [loss = [], , low = [], high = [], region = []] = stats;
          const lengths = data.responses.map((r) => r.length);
          // The KL the rollout's policy had (k3 per token, averaged over tokens), before this batch's updates.
          const rolloutKl = data.logp.flatMap((row, i) => row.map((lp, t) => Math.expm1(data.refLogp[i]![t]! - lp) - (data.refLogp[i]![t]! - lp)));
          return {
            reward: mean(rewards),
            reward_std: mean(groupStd),
            frac_reward_zero_std: groupStd.filter((s) => s < 1e-8).length / groupStd.length,
            kl: mean(rolloutKl),
            'objective/raw_scores': mean(data.rawScores),
            loss: mean(loss),
            'clip_ratio/low_mean': mean(low),
            'clip_ratio/high_mean': mean(high),
            'clip_ratio/region_mean': mean(region),
            'completions/mean_length': tokens / lengths.length,
            'completions/min_length': Math.min(...lengths),
            'completions/max_length': Math.max(...lengths),
            'completions/clipped_ratio': data.finished.filter((f) => !f).length / data.finished.length,
            entropy: mean(data.entropy),
            num_tokens: tokens,
            learning_rate: optimizer.lrAt(step - 1),
          };
        },
      };
    },
  };
  return runCriticFree(method, models, prompts, config, tok, hooks, resume);
}

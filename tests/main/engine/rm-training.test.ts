// The reward model learns a preference it has never seen the rule of: held-out prompts' rankings
// are predicted well above chance, and normalisation maps SFT samples to mean 0, std 1.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import {
  RewardModel,
  defaultRewardConfig,
  evaluateRewardModel,
  normaliseRewardModel,
  normalisedHeadWeights,
  rewardConfigSchema,
  trainRewardModel,
} from '../../../src-main/engine/train/reward.js';
import { GPT, ScalarHead } from '../../../src-main/engine/models/model.js';
import { PAD, EOS, rankingGroups, tinyConfig, tinyHead, tinyModel } from './rm-task.js';

beforeAll(async () => {
  await initBackend();
});

describe('reward model training', () => {
  it('reaches held-out accuracy well above chance and logs the metric names of docs/algorithms.md', async () => {
    const train = rankingGroups(48, 1);
    const held = rankingGroups(16, 2);
    const model = new RewardModel(tinyModel(3), tinyHead(4));
    const config = rewardConfigSchema.parse({ epochs: 6, batch_prompts: 8, lr: 3e-3, warmup_steps: 2, eval_every: 12 });
    const before = evaluateRewardModel(model, held, config, PAD);
    const steps: Record<string, number>[] = [];
    const evals: Record<string, number>[] = [];
    const t0 = Date.now();
    const out = await trainRewardModel(model, { train, eval: held }, config, PAD, {
      onStep: (_s, m) => void steps.push(m),
      onEval: (_s, m) => void evals.push(m),
    });
    const seconds = (Date.now() - t0) / 1000;
    expect(out.step).toBe(36);
    for (const k of ['loss', 'accuracy', 'margin', 'mean_reward', 'min_reward', 'max_reward']) {
      expect(Number.isFinite(steps[0]![k])).toBe(true);
      expect(Number.isFinite(evals.at(-1)![`eval/${k}`])).toBe(true);
    }
    const after = evals.at(-1)!;
    expect(after['eval/accuracy']).toBeGreaterThan(0.85);
    expect(after['eval/accuracy']).toBeGreaterThan(before['eval/accuracy']!);
    expect(after['eval/loss']).toBeLessThan(before['eval/loss']!);
    expect(after['eval/margin']).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(30);
    model.dispose();
  });

  it('normalises so that SFT samples score mean 0 and std 1', () => {
    const model = new RewardModel(tinyModel(5), tinyHead(6));
    const sft = tinyModel(7);
    const prompts = rankingGroups(8, 3).map((g) => g.prompt);
    const config = { ...defaultRewardConfig(), norm_samples: 32, norm_max_new_tokens: 6 };
    const { gain, prompts: used, responses } = normaliseRewardModel(model, sft, prompts, config, { eosId: EOS, padId: PAD });
    expect(responses).toHaveLength(32);
    expect(gain).not.toBe(1);
    const scores = model.score(used, responses, PAD);
    const mean = scores.reduce((s, x) => s + x, 0) / scores.length;
    const std = Math.sqrt(scores.reduce((s, x) => s + (x - mean) ** 2, 0) / scores.length);
    expect(mean).toBeCloseTo(0, 4);
    expect(std).toBeCloseTo(1, 3);
    // PPO's value model copies the head with the normalisation folded in: its raw output at the
    // last token is the normalised score, so it starts on the rewards' scale.
    const folded = normalisedHeadWeights(model.head.getWeights(), model.gain, model.bias);
    const valueView = new RewardModel(GPT.fromWeights(tinyConfig, model.backbone.getWeights()), ScalarHead.fromWeights(folded));
    valueView.score(used, responses, PAD).forEach((v, i) => expect(v).toBeCloseTo(scores[i]!, 4));
    valueView.dispose();
    sft.dispose();
    model.dispose();
  });
});

describe('reward model with LoRA adapters', () => {
  it('normalises on samples of its backbone with the adapters off, exactly as on a separate copy of the SFT model', () => {
    const backbone = tinyModel(11);
    const sft = GPT.fromWeights(tinyConfig, backbone.getWeights());
    backbone.addLora({ r: 2, alpha: 4, targets: ['c_attn'] }, 12);
    // Adapters that change what the backbone computes, so sampling with them on would differ.
    for (const v of Object.values(backbone.lora!.namedVariables())) v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', 13));
    const model = new RewardModel(backbone, tinyHead(14));
    const prompts = rankingGroups(8, 3).map((g) => g.prompt);
    const config = { ...defaultRewardConfig(), norm_samples: 16, norm_max_new_tokens: 6 };
    const enc = { eosId: EOS, padId: PAD };
    const own = normaliseRewardModel(model, backbone, prompts, config, enc);
    expect(model.backbone.adaptersActive()).toBe(true);
    const separate = normaliseRewardModel(model, sft, prompts, config, enc);
    expect(own.responses).toEqual(separate.responses);
    expect(own.gain).toBeCloseTo(separate.gain, 6);
    expect(own.bias).toBeCloseTo(separate.bias, 6);
    model.dispose();
    sft.dispose();
  });
});

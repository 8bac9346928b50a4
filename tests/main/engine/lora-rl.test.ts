// LoRA in the RL stages (src-main/engine/train/lora-views.ts): a model sharing another's base
// weights computes with them and frees nothing the other still uses; PPO, RLOO and GRPO with LoRA
// learn the tiny task while the base weights stay bit-identical and only adapters (and the value
// head) reach the optimizer; LoRA PPO holds one copy of the policy's base weights where full PPO
// holds four models' worth (a reference that is a copy shows up in the same measure); and the
// replicas on a second thread share bases the same way and compute the same run.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { GPT, ScalarHead } from '../../../src-main/engine/models/model.js';
import { loraConfigSchema, type LoraConfig } from '../../../src-main/engine/models/lora.js';
import { adaptedView } from '../../../src-main/engine/train/lora-views.js';
import { ppoConfigSchema, trainPpo, type PpoModels, type Scorer } from '../../../src-main/engine/train/ppo.js';
import { grpoConfigSchema, trainGrpo } from '../../../src-main/engine/train/grpo.js';
import { rlooConfigSchema, trainRloo } from '../../../src-main/engine/train/rloo.js';
import { RewardModel } from '../../../src-main/engine/train/reward.js';
import { Rng } from '../../../src-main/engine/rng.js';
import { goodCounter, prompt, tinyConfig, tinyHead, tinyModel, tok } from './rm-task.js';

beforeAll(async () => {
  await initBackend('wasm');
});

const prompts = (() => {
  const rng = new Rng(3);
  return Array.from({ length: 32 }, () => {
    const ids = prompt(rng);
    return { text: ids.join(' '), ids };
  });
})();

/**
 * A start model with a trained LM's output scale: a fresh model's logits span ~0.1 nats, which
 * frozen embeddings cap (the final LayerNorm fixes the hidden norm), so adapters alone could not
 * make any token likely; embeddings ×6 give logits of a few nats, as after SFT.
 */
function lmStart(seed: number): GPT {
  const fresh = tinyModel(seed);
  const w = fresh.getWeights();
  fresh.dispose();
  w['wte.weight'] = w['wte.weight']!.map((x) => x * 6);
  return GPT.fromWeights(tinyConfig, w);
}

const lora: LoraConfig = loraConfigSchema.parse({ r: 4, alpha: 8, targets: ['c_attn', 'c_fc'] });
const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const logprobs = (m: GPT, ids: number[]) => tf.tidy(() => Array.from(m.tokenLogprobs(tf.tensor2d([ids], [1, ids.length], 'int32')).dataSync()));

/** LoRA PPO's models: the start is the reference, policy and value model adapters on its base (value_init policy). */
function loraPpoModels(reward: Scorer, seed = 1): PpoModels {
  const start = lmStart(seed);
  const policy = adaptedView(start, lora, seed, 'the policy');
  const value = { backbone: adaptedView(start, lora, seed + 1, 'the value model'), head: tinyHead(seed + 2) };
  return { policy, ref: start, value, reward };
}

function disposeAll(m: PpoModels): void {
  [m.policy, m.ref, m.value.backbone, m.value.head].forEach((x) => x.dispose());
}

const ppoBase = { batch_size: 16, num_mini_batches: 2, num_ppo_epochs: 2, max_new_tokens: 6, value_init: 'policy' as const };

describe('models sharing base weights', () => {
  it('compute with the same weights, and the weights live until the last holder is disposed', () => {
    const before = tf.memory().numTensors;
    const owner = tinyModel(5);
    const ids = [2, 3, 4, 8, 9, 1];
    const view = owner.shareBase();
    expect(view.sharesBaseWith(owner)).toBe(true);
    expect(view.namedVariables()['h.0.attn.c_attn.weight']).toBe(owner.namedVariables()['h.0.attn.c_attn.weight']);
    expect(logprobs(view, ids)).toEqual(logprobs(owner, ids));
    // An adapter on the view changes the view alone.
    const policy = adaptedView(owner, lora, 1, 'the policy');
    for (const [k, v] of Object.entries(policy.namedVariables())) if (k.endsWith('lora_B.weight')) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 2)));
    expect(logprobs(owner, ids)).toEqual(logprobs(view, ids));
    expect(logprobs(policy, ids)).not.toEqual(logprobs(owner, ids));
    expect(() => policy.mergeLora()).toThrow(/shared with another model/);
    owner.dispose();
    expect(logprobs(view, ids).length).toBe(ids.length - 1);
    view.dispose();
    policy.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a LoRA start continues with a copy of its adapter, and other settings are refused', () => {
    const sft = adaptedView(tinyModel(6), lora, 3, 'SFT');
    const policy = adaptedView(sft, lora, 4, 'the policy');
    expect(policy.lora!.getWeights()).toEqual(sft.lora!.getWeights());
    expect(policy.namedVariables()['h.0.attn.c_attn.lora_A.weight']).not.toBe(sft.namedVariables()['h.0.attn.c_attn.lora_A.weight']);
    expect(() => adaptedView(sft, { ...lora, r: 8 }, 4, 'the policy')).toThrow(/the policy starts from a model with a LoRA adapter \(r 4, alpha 8, targets c_attn,c_fc\)/);
    policy.dispose();
    sft.dispose();
  });
});

describe('PPO with LoRA', () => {
  it('raises the score training only adapters and the value head; the base and the reference stay as they were', async () => {
    const m = loraPpoModels(goodCounter);
    const baseBefore = m.ref.getWeights();
    const scores: number[] = [];
    const kls: number[] = [];
    const out = await trainPpo(m, prompts, ppoConfigSchema.parse({ ...ppoBase, steps: 20, lr: 1e-2, kl_coef: 0.05 }), tok, {
      onStep: (_s, x) => {
        scores.push(x['objective/raw_scores']!);
        kls.push(x['objective/kl']!);
      },
      onCheckpoint: (state) => {
        // The optimizer holds moments of the adapters and the head, nothing of the frozen base.
        expect(Object.keys(state.optimizer.m).every((k) => /lora_[AB]\.weight$|score\.(weight|bias)$/.test(k))).toBe(true);
        expect(Object.keys(state.optimizer.m).some((k) => k.startsWith('value.') && k.includes('lora_'))).toBe(true);
      },
    });
    expect(out.step).toBe(20);
    expect(kls[0]).toBeCloseTo(0, 4); // B = 0: the policy starts as the reference
    expect(avg(scores.slice(-5))).toBeGreaterThan(avg(scores.slice(0, 3)) + 0.5);
    expect(m.policy.getWeights()).toEqual(baseBefore);
    expect(m.ref.getWeights()).toEqual(baseBefore);
    expect(m.ref.lora).toBeNull();
    disposeAll(m);
  });

  /** Wider than the task's model, so the base's bytes dominate the adapters' as they do at real sizes. */
  const memConfig = { ...tinyConfig, vocab_size: 64, n_embd: 64, n_layer: 2 };
  const memLora = loraConfigSchema.parse({ r: 2, alpha: 4, targets: ['c_attn'] });

  /**
   * Bytes tfjs holds between iterations, as copies of the policy's base weights: the run's tensors
   * (all of them, adapters, heads and optimizer moments included) over the base's bytes. `build`
   * gets a fresh start model and the reward model.
   */
  async function heldCopies(build: (start: GPT, reward: RewardModel) => PpoModels): Promise<number> {
    const before = tf.memory().numBytes;
    const reward = new RewardModel(GPT.create(memConfig, 30), ScalarHead.create(memConfig.n_embd, 31));
    const m = build(GPT.create(memConfig, 32), reward);
    const baseBytes = m.policy.parameterCount() * 4;
    let peak = 0;
    await trainPpo(m, prompts, ppoConfigSchema.parse({ ...ppoBase, steps: 2, lr: 1e-3 }), tok, {
      onStep: () => void (peak = Math.max(peak, tf.memory().numBytes - before)),
    });
    disposeAll(m);
    reward.dispose();
    return peak / baseBytes;
  }

  const withLora = (start: GPT, reward: RewardModel): PpoModels => ({
    policy: adaptedView(start, memLora, 1, 'the policy'),
    ref: start,
    value: { backbone: adaptedView(start, memLora, 2, 'the value model'), head: ScalarHead.create(memConfig.n_embd, 3) },
    reward,
  });

  it('holds one copy of the policy base (plus the reward model), where full PPO holds four models and their moments', async () => {
    const lora = await heldCopies(withLora);
    const full = await heldCopies((start, reward) => ({
      policy: start,
      ref: GPT.fromWeights(memConfig, start.getWeights()),
      value: { backbone: GPT.fromWeights(memConfig, start.getWeights()), head: ScalarHead.create(memConfig.n_embd, 3) },
      reward,
    }));
    // LoRA: the shared base + the reward model + adapters, head and their moments (a few % here).
    expect(lora).toBeGreaterThan(2);
    expect(lora).toBeLessThan(2.3);
    // Full: policy, reference, value, reward + AdamW's two moments of policy and value.
    expect(full).toBeGreaterThan(7.5);
    // The measure sees a second copy: a LoRA run whose reference is a copy of the base fails the bound.
    const copiedRef = await heldCopies((start, reward) => {
      const m = withLora(start, reward);
      const copy = GPT.fromWeights(memConfig, start.getWeights());
      start.dispose(); // the policy and value model keep the shared base alive
      return { ...m, ref: copy };
    });
    expect(copiedRef).toBeGreaterThan(2.9);
  });

  it('on two threads the replicas share the base the same way and compute the same two iterations', async () => {
    const results: Array<Record<string, number>> = [];
    const adapters: Array<Record<string, Float32Array>> = [];
    for (const threads of [1, 2]) {
      const reward = new RewardModel(tinyModel(40), tinyHead(41));
      const start = tinyModel(42);
      // value_init reward: the value model is an adapter and a head on the reward model's backbone.
      const m: PpoModels = {
        policy: adaptedView(start, lora, 1, 'the policy'),
        ref: start,
        value: { backbone: adaptedView(reward.backbone, lora, 2, 'the value model'), head: tinyHead(43) },
        reward,
      };
      const config = ppoConfigSchema.parse({ ...ppoBase, steps: 2, batch_size: 6, lr: 1e-2, value_init: 'reward' });
      const out = await trainPpo(m, prompts, config, tok, {}, undefined, { threads, thresholds: { minShardTokens: 1, minPartRowParameters: 1, minPartTokenParameters: 1 } });
      results.push(out.metrics);
      adapters.push(m.policy.lora!.getWeights());
      disposeAll(m);
      reward.dispose();
    }
    for (const key of ['objective/kl', 'objective/raw_scores', 'loss/policy_avg', 'loss/value_avg', 'val/ratio']) expect(results[1]![key], key).toBeCloseTo(results[0]![key]!, 4);
    const key = 'h.0.attn.c_attn.lora_B.weight';
    const diff = Math.max(...adapters[0]![key]!.map((x, i) => Math.abs(x - adapters[1]![key]![i]!)));
    expect(Math.max(...adapters[0]![key]!.map(Math.abs))).toBeGreaterThan(0); // it trained
    expect(diff).toBeLessThan(1e-5);
  });
});

describe.each([
  ['GRPO', () => grpoConfigSchema.parse({ steps: 20, prompts_per_step: 8, num_generations: 4, lr: 3e-2, max_new_tokens: 6, beta: 0.04 }), trainGrpo, 'reward'],
  ['RLOO', () => rlooConfigSchema.parse({ steps: 20, prompts_per_step: 8, rloo_k: 4, lr: 3e-2, max_new_tokens: 6, kl_coef: 0.05, missing_eos_penalty: 0 }), trainRloo, 'objective/raw_scores'],
] as const)('%s with LoRA', (_name, config, train, scoreKey) => {
  it('raises the reward training the adapter alone; the reference is the untouched base', async () => {
    const start = lmStart(7);
    const baseBefore = start.getWeights();
    const policy = adaptedView(start, lora, 8, 'the policy');
    const scores: number[] = [];
    let optimizerKeys: string[] = [];
    await (train as typeof trainGrpo)({ policy, ref: start, reward: goodCounter }, prompts, config() as never, tok, {
      onStep: (_s, x) => void scores.push(x[scoreKey]!),
      onCheckpoint: (state) => void (optimizerKeys = Object.keys(state.optimizer.m)),
    });
    expect(avg(scores.slice(-5))).toBeGreaterThan(avg(scores.slice(0, 3)) + 0.5);
    expect(optimizerKeys.length).toBe(policy.lora!.modules().length * 2);
    expect(optimizerKeys.every((k) => /lora_[AB]\.weight$/.test(k))).toBe(true);
    expect(start.getWeights()).toEqual(baseBefore);
    policy.dispose();
    start.dispose();
  });
});

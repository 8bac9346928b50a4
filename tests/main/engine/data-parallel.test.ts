// Training on both cores must be the same training: a step's gradient computed as shards on
// replica workers equals the full batch's gradient on one thread, and the replicas follow the
// optimizer step by step (same loss curve with 1, 2 and 3 threads).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { generate } from '../../../src-main/engine/models/generate.js';
import { generateOnReplicas } from '../../../src-main/engine/parallel/generate-task.js';
import { GPT, ScalarHead, type GPTConfig } from '../../../src-main/engine/models/model.js';
import { AdamW } from '../../../src-main/engine/train/optim.js';
import { Replicas, trainingThreads } from '../../../src-main/engine/parallel/data-parallel.js';
import { computeGrads, shardRanges } from '../../../src-main/engine/parallel/grad-task.js';
import { lastLogitTask } from './fixtures/last-logit-task.js';
import { dpoGradTask, type DpoPair } from '../../../src-main/engine/train/dpo.js';
import { ppoConfigSchema, trainPpo } from '../../../src-main/engine/train/ppo.js';
import { RewardModel, rewardGradTask, type TokenGroup } from '../../../src-main/engine/train/reward.js';
import { Rng } from '../../../src-main/engine/rng.js';
import { makeSftBatch, sftGradTask, sftStep, type SftBatch } from '../../../src-main/engine/train/sft.js';

const cfg: GPTConfig = { vocab_size: 48, n_positions: 24, n_embd: 32, n_layer: 2, n_head: 2, layer_norm_epsilon: 1e-5, dropout: 0 };

beforeAll(async () => {
  await initBackend('wasm');
});

const pools: Replicas[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((r) => r.dispose()));
});

async function replicated(models: Parameters<typeof Replicas.start>[0], roles: string[], threads: number): Promise<Replicas> {
  // Split everything, however small: these tests check that splitting changes nothing.
  const r = await Replicas.start(models, roles, threads, { minShardTokens: 1, minPartRowParameters: 1, minPartTokenParameters: 1 });
  pools.push(r);
  return r;
}

/** Right-padded sequences of different lengths, some positions not trained on. */
function sftBatch(seed: number, rows: number): SftBatch {
  const rng = new Rng(seed);
  const seqs = Array.from({ length: rows }, (_, i) => {
    const len = 6 + ((i * 5) % 13);
    const ids = Array.from({ length: len }, () => 1 + rng.int(cfg.vocab_size - 1));
    return { ids, targets: ids.map((_, t) => t >= 2) };
  });
  return makeSftBatch(seqs, 0);
}

function maxAbsDiff(a: tf.NamedTensorMap, b: tf.NamedTensorMap): number {
  let worst = 0;
  for (const k of Object.keys(a)) {
    const x = a[k]!.dataSync();
    const y = b[k]!.dataSync();
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  }
  return worst;
}

describe('data-parallel training', () => {
  it('splits a batch into contiguous, even, non-empty shards', () => {
    expect(shardRanges(8, 2)).toEqual([
      [0, 4],
      [4, 8],
    ]);
    expect(shardRanges(5, 3)).toEqual([
      [0, 1],
      [1, 3],
      [3, 5],
    ]);
    expect(shardRanges(1, 4)).toEqual([[0, 1]]);
  });

  it('uses one thread per core on wasm, and RLHF_THREADS when set', () => {
    expect(trainingThreads()).toBeGreaterThanOrEqual(1);
    process.env.RLHF_THREADS = '3';
    try {
      expect(trainingThreads()).toBe(3);
      process.env.RLHF_THREADS = 'two';
      expect(() => trainingThreads()).toThrow(/RLHF_THREADS/);
    } finally {
      delete process.env.RLHF_THREADS;
    }
  });

  it('splits work only where it was measured to pay off', async () => {
    const model = GPT.create(cfg, 1);
    const pool = await Replicas.start({ policy: model }, ['policy'], 2);
    pools.push(pool);
    expect(pool.partsFor(8 * 64)).toBe(2); // tiny SFT step: 1.39× on two threads
    expect(pool.partsFor(4 * 48)).toBe(1); // tiny PPO minibatch: slower on two threads
    expect(pool.partsFor(2 * 64)).toBe(1); // small PPO minibatch: slower on two threads
    expect(pool.partsForRows(16, 14e6)).toBe(2); // small model, batch 16: 1.63×
    expect(pool.partsForRows(4, 0.43e6)).toBe(2); // tiny model, batch 4: 1.41×
    expect(pool.partsForRows(2, 0.43e6)).toBe(1); // one row of the tiny model per thread: not measured to pay
    expect(pool.partsForRows(1, 14e6)).toBe(1);
    expect(pool.partsForForward(16 * 48, 4 * 0.43e6)).toBe(1); // tiny PPO scoring: 0.96×
    expect(pool.partsForForward(8 * 64, 4 * 14e6)).toBe(2); // small PPO scoring
    model.dispose();
  });

  it('SFT: the gradient from two and three threads equals the one-thread gradient', async () => {
    const model = GPT.create(cfg, 1);
    const batch = sftBatch(2, 5);
    const denominator = batch.mask.reduce((a, b) => a + b, 0);
    const one = await (await replicated({ policy: model }, ['policy'], 1)).grads(sftGradTask, { ...batch, denominator });
    for (const threads of [2, 3]) {
      const many = await (await replicated({ policy: model }, ['policy'], threads)).grads(sftGradTask, { ...batch, denominator });
      expect(Object.keys(many.grads).sort()).toEqual(Object.keys(one.grads).sort());
      expect(maxAbsDiff(one.grads, many.grads)).toBeLessThan(1e-6);
      expect(many.loss).toBeCloseTo(one.loss, 5);
      // The per-shard extra (targets ranked first) adds up to the whole batch's.
      expect(many.extras.correct!.reduce((a, b) => a + b, 0)).toBe(one.extras.correct![0]);
      tf.dispose(Object.values(many.grads));
    }
    tf.dispose(Object.values(one.grads));
    model.dispose();
  });

  it('a shard too large for one pass runs as several passes whose summed gradient is the one-pass gradient', () => {
    const model = GPT.create(cfg, 2);
    const batch = sftBatch(4, 9);
    const denominator = batch.mask.reduce((a, b) => a + b, 0);
    const input = { ...batch, denominator };
    const one = computeGrads({ policy: model }, ['policy'], sftGradTask, input);
    // A budget of about one row per pass: four passes, gradients accumulated.
    const parameters = model.parameterCount();
    const split = computeGrads({ policy: model }, ['policy'], sftGradTask, input, sftGradTask.tokens(input) * parameters / 4);
    expect(Object.keys(split.grads).sort()).toEqual(Object.keys(one.grads).sort());
    const d = Math.max(...Object.keys(one.grads).map((k) => tf.tidy(() => tf.max(tf.abs(tf.sub(one.grads[k]!, split.grads[k]!))).dataSync()[0]!)));
    expect(d).toBeLessThan(1e-6);
    expect(split.loss).toBeCloseTo(one.loss, 5);
    expect(split.extras.correct!.reduce((a, b) => a + b, 0)).toBe(one.extras.correct!.reduce((a, b) => a + b, 0));
    tf.dispose([...Object.values(one.grads), ...Object.values(split.grads)]);
    model.dispose();
  });

  it('reward model: the gradient from two threads equals the one-thread gradient, rewards in batch order', async () => {
    const model = new RewardModel(GPT.create(cfg, 3), ScalarHead.create(cfg.n_embd, 4));
    const rng = new Rng(5);
    const ids = (n: number) => Array.from({ length: n }, () => 1 + rng.int(cfg.vocab_size - 1));
    const groups: TokenGroup[] = [
      { prompt: ids(4), responses: [ids(5), ids(3), ids(6)], pairs: [{ chosen: 0, rejected: 1, margin: 0 }, { chosen: 2, rejected: 1, margin: 0 }] },
      { prompt: ids(6), responses: [ids(4), ids(4)], pairs: [{ chosen: 1, rejected: 0, margin: 0 }] },
      { prompt: ids(3), responses: [ids(7), ids(2)], pairs: [{ chosen: 0, rejected: 1, margin: 0 }] },
    ];
    const input = { groups, centering: 0.01, padId: 0, share: 1 };
    const one = await (await replicated({ reward: model }, ['reward'], 1)).grads(rewardGradTask, input);
    const two = await (await replicated({ reward: model }, ['reward'], 2)).grads(rewardGradTask, input);
    expect(maxAbsDiff(one.grads, two.grads)).toBeLessThan(1e-6);
    expect(two.loss).toBeCloseTo(one.loss, 5);
    expect(Array.from(two.extras.rewards!)).toEqual(Array.from(one.extras.rewards!).map((x) => expect.closeTo(x, 5)));
    tf.dispose([...Object.values(one.grads), ...Object.values(two.grads)]);
    model.dispose();
  });

  it('DPO: the gradient from two threads (frozen ref replicated) equals the one-thread gradient', async () => {
    const policy = GPT.create(cfg, 8);
    const ref = GPT.create(cfg, 9);
    const rng = new Rng(10);
    const ids = (n: number) => Array.from({ length: n }, () => 1 + rng.int(cfg.vocab_size - 1));
    const pairs: DpoPair[] = Array.from({ length: 5 }, (_, i) => ({ prompt: ids(3 + i), chosen: ids(4), rejected: ids(2 + i) }));
    const input = { pairs, padId: 0, beta: 0.1, share: 1 };
    const one = await (await replicated({ policy, ref }, ['policy'], 1)).grads(dpoGradTask, input);
    const two = await (await replicated({ policy, ref }, ['policy'], 2)).grads(dpoGradTask, input);
    expect(Object.keys(two.grads).length).toBe(Object.keys(policy.namedVariables()).length);
    expect(maxAbsDiff(one.grads, two.grads)).toBeLessThan(1e-6);
    expect(two.loss).toBeCloseTo(one.loss, 5);
    expect(two.extras.chosen!.length).toBe(5);
    tf.dispose([...Object.values(one.grads), ...Object.values(two.grads)]);
    policy.dispose();
    ref.dispose();
  });

  it('LoRA: a reward model with adapters, and DPO with no ref model (the adapters off), give the one-thread gradient on two threads', async () => {
    const rng = new Rng(12);
    const ids = (n: number) => Array.from({ length: n }, () => 1 + rng.int(cfg.vocab_size - 1));
    // Adapters that change the forward (B non-zero), so a replica without them would differ.
    const adapted = (seed: number) => {
      const m = GPT.create(cfg, seed);
      m.addLora({ r: 2, alpha: 4, targets: ['c_attn', 'c_fc'] }, seed);
      for (const v of Object.values(m.lora!.namedVariables())) v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', seed));
      return m;
    };
    const reward = new RewardModel(adapted(20), ScalarHead.create(cfg.n_embd, 21));
    const groups: TokenGroup[] = [
      { prompt: ids(4), responses: [ids(5), ids(3)], pairs: [{ chosen: 0, rejected: 1, margin: 0 }] },
      { prompt: ids(6), responses: [ids(4), ids(4)], pairs: [{ chosen: 1, rejected: 0, margin: 0 }] },
    ];
    const rmInput = { groups, centering: 0.01, padId: 0, share: 1 };
    const rm1 = await (await replicated({ reward }, ['reward'], 1)).grads(rewardGradTask, rmInput);
    const rm2 = await (await replicated({ reward }, ['reward'], 2)).grads(rewardGradTask, rmInput);
    // The adapters of two modules in two layers (A and B) and the head's weight and bias.
    expect(Object.keys(rm2.grads).length).toBe(2 * 2 * 2 + 2);
    expect(Object.keys(rm2.grads).filter((k) => /score\.(weight|bias)$/.test(k))).toHaveLength(2);
    expect(maxAbsDiff(rm1.grads, rm2.grads)).toBeLessThan(1e-6);

    const policy = adapted(22);
    const pairs: DpoPair[] = Array.from({ length: 4 }, (_, i) => ({ prompt: ids(3 + i), chosen: ids(4), rejected: ids(2 + i) }));
    const input = { pairs, padId: 0, beta: 0.1, share: 1 };
    const one = await (await replicated({ policy }, ['policy'], 1)).grads(dpoGradTask, input);
    const two = await (await replicated({ policy }, ['policy'], 2)).grads(dpoGradTask, input);
    expect(Object.keys(two.grads).length).toBe(2 * 2 * 2); // A and B of two modules in two layers
    expect(maxAbsDiff(one.grads, two.grads)).toBeLessThan(1e-6);
    expect(two.loss).toBeCloseTo(one.loss, 5);
    // Against the adapters-off reference the loss is not log 2 (the adapters moved the policy).
    expect(Math.abs(one.loss - Math.log(2))).toBeGreaterThan(1e-4);
    tf.dispose([...Object.values(rm1.grads), ...Object.values(rm2.grads), ...Object.values(one.grads), ...Object.values(two.grads)]);
    reward.dispose();
    policy.dispose();
  });

  it('forward tasks run one part per thread on the replicas and come back in order', async () => {
    const model = GPT.create(cfg, 11);
    const pool = await replicated({ policy: model }, ['policy'], 3);
    const rows = [[1, 2, 3], [4, 5, 6], [7, 8, 9]];
    const [a, b, c] = await pool.map(lastLogitTask, rows.map((ids) => ({ ids })));
    const local = rows.map((ids) => lastLogitTask.run({ policy: model }, { ids }));
    expect([a, b, c]).toEqual(local.map((x) => x.map((v) => expect.closeTo(v, 5))));
    await expect(pool.map(lastLogitTask, [...rows, rows[0]!].map((ids) => ({ ids })))).rejects.toThrow(/4 inputs for 3 threads/);
    model.dispose();
  });

  it('generation split over 2 and 3 threads samples the same tokens as one call with the same seed', async () => {
    const model = GPT.create(cfg, 12);
    const rng = new Rng(13);
    const prompts = Array.from({ length: 7 }, (_, i) => Array.from({ length: 2 + (i % 4) }, () => 1 + rng.int(cfg.vocab_size - 1)));
    const opts = { maxNewTokens: 9, temperature: 1, topK: 0, topP: 1, eosId: 5, padId: 0, seed: 77 };
    const whole = generate(model, prompts, opts);
    for (const threads of [2, 3]) {
      const split = await generateOnReplicas(await replicated({ policy: model }, [], threads), 'policy', prompts, opts);
      expect(split.tokens).toEqual(whole.tokens);
      expect(split.finished).toEqual(whole.finished);
    }
    // A row's tokens do not depend on the rest of its batch.
    expect(generate(model, prompts.slice(3, 5), { ...opts, firstRow: 3 }).tokens).toEqual(whole.tokens.slice(3, 5));
    model.dispose();
  });

  it.each([
    ['rows of every minibatch split', { minShardTokens: 1, minPartRowParameters: 1, minPartTokenParameters: 1 }],
    ['policy and value losses on two threads side by side', {}],
  ])('PPO: two iterations on 1 and 2 threads (%s) end with the same metrics and weights', async (_name, thresholds) => {
    const rng = new Rng(14);
    const prompts = Array.from({ length: 8 }, () => {
      const ids = Array.from({ length: 3 + rng.int(3) }, () => 1 + rng.int(cfg.vocab_size - 1));
      return { text: '', ids };
    });
    const config = ppoConfigSchema.parse({ steps: 2, batch_size: 6, num_mini_batches: 2, num_ppo_epochs: 2, max_new_tokens: 5, lr: 1e-3, value_init: 'policy' });
    const tok = { eosId: 3, padId: 0, decode: (ids: number[]) => ids.join(' ') };
    const results: Array<{ metrics: Record<string, number>; weights: Float32Array }> = [];
    for (const threads of [1, 2]) {
      const policy = GPT.create(cfg, 15);
      const models = {
        policy,
        ref: GPT.fromWeights(cfg, policy.getWeights()),
        value: { backbone: GPT.fromWeights(cfg, policy.getWeights()), head: ScalarHead.create(cfg.n_embd, 16) },
        reward: new RewardModel(GPT.create(cfg, 17), ScalarHead.create(cfg.n_embd, 18)),
      };
      try {
        const out = await trainPpo(models, prompts, config, tok, {}, undefined, { threads, thresholds });
        results.push({ metrics: out.metrics, weights: policy.getWeights()['h.0.mlp.c_fc.weight']! });
      } finally {
        [models.policy, models.ref, models.value.backbone, models.value.head, models.reward].forEach((m) => m.dispose());
      }
    }
    const [one, two] = results as [(typeof results)[0], (typeof results)[0]];
    for (const key of ['objective/kl', 'objective/raw_scores', 'loss/policy_avg', 'loss/value_avg', 'policy/approxkl_avg', 'policy/entropy_avg', 'val/ratio']) {
      expect(two.metrics[key], key).toBeCloseTo(one.metrics[key]!, 4);
    }
    let worst = 0;
    for (let i = 0; i < one.weights.length; i++) worst = Math.max(worst, Math.abs(one.weights[i]! - two.weights[i]!));
    expect(worst).toBeLessThan(1e-5);
  });

  it('replicas follow every optimizer step: 20 SFT steps on 1, 2 and 3 threads give the same falling loss curve', async () => {
    const curves: number[][] = [];
    for (const threads of [1, 2, 3]) {
      const model = GPT.create(cfg, 7);
      const opt = new AdamW(model.namedVariables(), { lr: 1e-2, clipNorm: 1 });
      const r = await replicated({ policy: model }, ['policy'], threads);
      expect(r.threads).toBe(threads);
      const curve: number[] = [];
      for (let step = 0; step < 20; step++) curve.push((await sftStep(r, opt, sftBatch(100 + (step % 4), 6))).loss);
      curves.push(curve);
      opt.dispose();
      model.dispose();
    }
    const [one, two, three] = curves as [number[], number[], number[]];
    expect(one[19]!).toBeLessThan(one[0]! * 0.9);
    for (let i = 0; i < 20; i++) {
      expect(two[i]!).toBeCloseTo(one[i]!, 3);
      expect(three[i]!).toBeCloseTo(one[i]!, 3);
    }
  });
});

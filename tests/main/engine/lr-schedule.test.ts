// The learning rate of every optimizer step of a whole run, for every stage, against the schedule
// the stage's settings promise: linear warmup, then a cosine from lr down to 0.1·lr that ends with
// the run (not earlier). PPO takes epochs × minibatches optimizer steps per iteration and steps its
// schedule once per iteration, so its warmup and decay are counted in iterations.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { dpoConfigSchema, trainDpo, type DpoPair } from '../../../src-main/engine/train/dpo.js';
import { GPT } from '../../../src-main/engine/models/model.js';
import { AdamW } from '../../../src-main/engine/train/optim.js';
import { ppoConfigSchema, trainPpo } from '../../../src-main/engine/train/ppo.js';
import { RewardModel, rewardConfigSchema, rewardSteps, trainRewardModel } from '../../../src-main/engine/train/reward.js';
import { Rng } from '../../../src-main/engine/rng.js';
import { defaultSftConfig, trainSft, type SftData } from '../../../src-main/engine/train/sft.js';
import { EOS, PAD, goodCounter, prompt, rankingGroups, response, tinyConfig, tinyHead, tinyModel, tok } from './rm-task.js';

beforeAll(async () => {
  await initBackend();
});

/** The schedule written out again here (not imported), so a change to either side shows. */
function scheduled(step: number, s: { lr: number; warmup: number; total: number; floor: number }): number {
  if (step < s.warmup) return (s.lr * (step + 1)) / s.warmup;
  const progress = Math.min(1, (step - s.warmup) / (s.total - s.warmup));
  return s.lr * s.floor + 0.5 * s.lr * (1 - s.floor) * (1 + Math.cos(Math.PI * progress));
}

/** Records the lr of every optimizer step taken while `run` runs. */
async function lrsOf(run: () => Promise<unknown>): Promise<number[]> {
  const lrs: number[] = [];
  const original = AdamW.prototype.applyGradients;
  vi.spyOn(AdamW.prototype, 'applyGradients').mockImplementation(function (this: AdamW, ...args) {
    const out = original.apply(this, args);
    lrs.push(out.lr);
    return out;
  });
  await run();
  return lrs;
}

afterEach(() => {
  vi.restoreAllMocks();
});

function expectSchedule(lrs: number[], expected: number[]): void {
  expect(lrs.length).toBe(expected.length);
  lrs.forEach((lr, i) => expect(lr, `optimizer step ${i + 1}`).toBeCloseTo(expected[i]!, 9));
}

describe('the lr schedule over a whole run', () => {
  it('SFT: one optimizer step per step, decaying until the last', async () => {
    const rng = new Rng(5);
    const train = Array.from({ length: 24 }, () => {
      const ids = [...prompt(rng), ...response(rng, 1)];
      return { ids, targets: ids.map((_, i) => i >= 3) };
    });
    const data: SftData = { train, eval: [] };
    const config = { ...defaultSftConfig(), batch_size: 4, lr: 2e-3, warmup_steps: 3, epochs: 3, max_steps: 0, eval_every: 1000, checkpoint_every: 1000 };
    const model = tinyModel(1);
    const lrs = await lrsOf(() => trainSft(model, data, config, PAD));
    model.dispose();
    const total = 3 * Math.ceil(24 / 4);
    expectSchedule(lrs, Array.from({ length: total }, (_, i) => scheduled(i, { lr: 2e-3, warmup: 3, total, floor: 0.1 })));
  });

  it('reward model: one optimizer step per step, decaying until the last', async () => {
    const config = rewardConfigSchema.parse({ epochs: 2, batch_prompts: 8, lr: 1e-3, warmup_steps: 2, eval_every: 1000, checkpoint_every: 1000 });
    const rm = new RewardModel(tinyModel(2), tinyHead(3));
    const groups = rankingGroups(40, 1);
    const lrs = await lrsOf(() => trainRewardModel(rm, { train: groups, eval: [] }, config, PAD));
    rm.backbone.dispose();
    rm.head.dispose();
    const total = rewardSteps(config, groups.length);
    expect(total).toBe(10);
    expectSchedule(lrs, Array.from({ length: total }, (_, i) => scheduled(i, { lr: 1e-3, warmup: 2, total, floor: 0.1 })));
  });

  it('DPO: one optimizer step per step, decaying until the last', async () => {
    const pairs: DpoPair[] = rankingGroups(20, 2).flatMap((g) => g.pairs.map((p) => ({ prompt: g.prompt, chosen: g.responses[p.chosen]!, rejected: g.responses[p.rejected]! })));
    const config = dpoConfigSchema.parse({ epochs: 2, batch_size: 12, lr: 1e-3, warmup_steps: 2, eval_every: 1000, checkpoint_every: 1000 });
    const policy = tinyModel(4);
    const ref = GPT.fromWeights(tinyConfig, policy.getWeights());
    const lrs = await lrsOf(() => trainDpo(policy, ref, { train: pairs, eval: [] }, config, PAD));
    policy.dispose();
    ref.dispose();
    const total = 2 * Math.ceil(60 / 12);
    expectSchedule(lrs, Array.from({ length: total }, (_, i) => scheduled(i, { lr: 1e-3, warmup: 2, total, floor: 0.1 })));
  });

  it('PPO: every optimizer step of an iteration uses that iteration’s lr, and the decay ends with the last iteration', async () => {
    const policy = tinyModel(6);
    const models = {
      policy,
      ref: GPT.fromWeights(tinyConfig, policy.getWeights()),
      value: { backbone: GPT.fromWeights(tinyConfig, policy.getWeights()), head: tinyHead(7) },
      reward: goodCounter,
    };
    const rng = new Rng(8);
    const prompts = Array.from({ length: 16 }, () => {
      const ids = prompt(rng);
      return { text: ids.join(' '), ids };
    });
    // Early stopping off, so every iteration takes all epochs × minibatches = 6 steps.
    const config = ppoConfigSchema.parse({
      steps: 8, batch_size: 12, num_mini_batches: 3, num_ppo_epochs: 2, lr: 1e-3, warmup_steps: 2,
      max_new_tokens: 4, value_init: 'policy', early_stopping: false, ratio_threshold: 1e9,
    });
    const logged: number[] = [];
    const lrs = await lrsOf(() => trainPpo(models, prompts, config, { ...tok, eosId: EOS }, { onStep: (_s, m) => void logged.push(m.lr!) }));
    for (const m of [models.policy, models.ref, models.value.backbone]) m.dispose();
    models.value.head.dispose();
    const perIteration = Array.from({ length: 8 }, (_, i) => scheduled(i, { lr: 1e-3, warmup: 2, total: 8, floor: 0.1 }));
    expectSchedule(lrs, perIteration.flatMap((lr) => Array.from({ length: 6 }, () => lr)));
    // The `lr` metric the Train view charts is the iteration's lr.
    expectSchedule(logged, perIteration);
    // Well above the floor until the final iterations: the decay spans the whole run.
    expect(perIteration[5]!).toBeGreaterThan(2 * 1e-4);
  });
});

// RLOO and GRPO resume exactly: 3 iterations, a checkpoint's resume state, 3 more gives the same
// policy as 6 straight (every random choice of an iteration derives from (seed, step)).
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import type { CriticFreeResumeState } from '../../../src-main/engine/train/critic-free.js';
import { grpoConfigSchema, trainGrpo } from '../../../src-main/engine/train/grpo.js';
import { GPT } from '../../../src-main/engine/models/model.js';
import { rlooConfigSchema, trainRloo } from '../../../src-main/engine/train/rloo.js';
import { Rng } from '../../../src-main/engine/rng.js';
import { goodCounter, prompt, tinyConfig, tinyModel, tok } from './rm-task.js';

beforeAll(async () => {
  await initBackend();
});

const prompts = (() => {
  const rng = new Rng(5);
  return Array.from({ length: 16 }, () => {
    const ids = prompt(rng);
    return { text: ids.join(' '), ids };
  });
})();

type Train = typeof trainRloo;
const trainers: [string, Train, (o: Record<string, unknown>) => never][] = [
  ['RLOO', trainRloo, (o) => rlooConfigSchema.parse({ rloo_k: 3, num_ppo_epochs: 2, num_mini_batches: 2, ...o }) as never],
  ['GRPO', trainGrpo as unknown as Train, (o) => grpoConfigSchema.parse({ num_generations: 3, num_iterations: 2, num_mini_batches: 2, ...o }) as never],
];

describe.each(trainers)('%s resume', (_name, train, config) => {
  it('continues from a checkpoint to the same weights as an uninterrupted run', async () => {
    const base = { steps: 6, prompts_per_step: 4, lr: 3e-3, max_new_tokens: 5, checkpoint_every: 3 };
    const fresh = () => {
      const policy = tinyModel(4);
      return { policy, ref: GPT.fromWeights(tinyConfig, policy.getWeights()), reward: goodCounter };
    };
    const straight = fresh();
    let atThree: { state: CriticFreeResumeState; weights: Record<string, Float32Array> } | undefined;
    await train(straight, prompts, config(base), tok, {
      onCheckpoint: (state, final) => void (!final && state.step === 3 ? (atThree = { state, weights: straight.policy.getWeights() }) : undefined),
    });
    expect(atThree?.state.step).toBe(3);
    // A new process: the checkpoint's weights, the same frozen reference, the saved optimizer state.
    const resumed = fresh();
    resumed.policy.setWeights(atThree!.weights);
    await train(resumed, prompts, config(base), tok, {}, atThree!.state);
    const a = straight.policy.getWeights();
    const b = resumed.policy.getWeights();
    for (const k of Object.keys(a)) expect(Array.from(b[k]!), k).toEqual(Array.from(a[k]!));
    for (const m of [straight, resumed]) {
      m.policy.dispose();
      m.ref.dispose();
    }
  });
});

// DPO on the tiny synthetic task: the policy learns from pairs alone to prefer responses with the
// GOOD token, so the implicit rewards rank held-out pairs correctly.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { dpoConfigSchema, evaluateDpo, trainDpo, type DpoPair } from '../../../src-main/engine/train/dpo.js';
import { GPT } from '../../../src-main/engine/models/model.js';
import { PAD, rankingGroups, tinyConfig, tinyModel } from './rm-task.js';

beforeAll(async () => {
  await initBackend();
});

const pairsOf = (n: number, seed: number): DpoPair[] =>
  rankingGroups(n, seed).flatMap((g) => g.pairs.map((p) => ({ prompt: g.prompt, chosen: g.responses[p.chosen]!, rejected: g.responses[p.rejected]! })));

describe('DPO', () => {
  it('raises rewards/accuracies on held-out pairs and logs the TRL metric names', async () => {
    const policy = tinyModel(1);
    const ref = GPT.fromWeights(tinyConfig, policy.getWeights());
    const train = pairsOf(32, 1);
    const held = pairsOf(12, 2);
    const config = dpoConfigSchema.parse({ epochs: 3, batch_size: 16, lr: 3e-3, warmup_steps: 2, eval_every: 100 });
    const before = evaluateDpo(policy, ref, held, config, PAD);
    // Policy = reference: every implicit reward is 0, no pair is ranked right yet, loss = log 2.
    expect(before['eval/rewards/accuracies']).toBe(0);
    expect(before['eval/loss']).toBeCloseTo(Math.log(2), 5);
    const steps: Record<string, number>[] = [];
    const out = await trainDpo(policy, ref, { train, eval: held }, config, PAD, { onStep: (_s, m) => void steps.push(m) });
    expect(out.step).toBe(18);
    for (const k of ['rewards/chosen', 'rewards/rejected', 'rewards/accuracies', 'rewards/margins', 'logps/chosen', 'logps/rejected', 'loss']) {
      expect(Number.isFinite(steps.at(-1)![k]), k).toBe(true);
      expect(Number.isFinite(out.metrics[`eval/${k}`]), `eval/${k}`).toBe(true);
    }
    expect(out.metrics['eval/rewards/accuracies']).toBeGreaterThan(0.8);
    expect(out.metrics['eval/rewards/margins']).toBeGreaterThan(0);
    expect(out.metrics['eval/loss']).toBeLessThan(Math.log(2));
    expect(steps.at(-1)!['rewards/accuracies']).toBeGreaterThan(steps[0]!['rewards/accuracies']!);
    policy.dispose();
    ref.dispose();
  });
});

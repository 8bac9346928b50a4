// Best-of-N keeps the reward model's favourite of N samples, so its mean score beats plain sampling.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { bestOfN, bestOfNConfigSchema } from '../../../src-main/engine/train/best-of-n.js';
import { Rng } from '../../../src-main/engine/rng.js';
import { EOS, PAD, goodCounter, prompt, tinyModel } from './rm-task.js';

beforeAll(async () => {
  await initBackend();
});

describe('best-of-N', () => {
  it('returns the highest-scoring of N candidates per prompt, beating N = 1 on average', () => {
    const policy = tinyModel(1);
    const rng = new Rng(5);
    const prompts = Array.from({ length: 12 }, () => prompt(rng));
    const tok = { eosId: EOS, padId: PAD };
    const best = bestOfN(policy, goodCounter, prompts, bestOfNConfigSchema.parse({ n: 8, max_new_tokens: 6 }), tok);
    const one = bestOfN(policy, goodCounter, prompts, bestOfNConfigSchema.parse({ n: 1, max_new_tokens: 6 }), tok);
    expect(best.tokens).toHaveLength(12);
    best.candidateScores.forEach((c, i) => {
      expect(c).toHaveLength(8);
      expect(best.scores[i]).toBe(Math.max(...c));
      expect(goodCounter.score([], [best.tokens[i]!])[0]).toBe(best.scores[i]);
    });
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(best.scores)).toBeGreaterThan(mean(one.scores));
    policy.dispose();
  });
});

// Best-of-N (rejection sampling): sample N responses per prompt and keep the one the reward model
// scores highest. The cheapest baseline an RLHF result should beat; Compare can use it as a
// generator next to plain sampling from a checkpoint.
import { z } from 'zod';
import { generate } from '../models/generate.js';
import type { GPT } from '../models/model.js';
import type { Scorer } from './ppo.js';

export const bestOfNConfigSchema = z
  .object({
    n: z.number().int().min(1).max(256).default(8),
    max_new_tokens: z.number().int().min(1).default(48),
    temperature: z.number().positive().default(0.7),
    top_k: z.number().int().min(0).default(0),
    top_p: z.number().gt(0).max(1).default(1),
    seed: z.number().int().min(0).default(0),
    /** Sequences generated at once (prompts × N are split into batches of this size). */
    batch_size: z.number().int().min(1).default(32),
  })
  .strict();
export type BestOfNConfig = z.infer<typeof bestOfNConfigSchema>;

export interface BestOfNResult {
  /** The best response per prompt (truncated after EOS, EOS kept). */
  tokens: number[][];
  finished: boolean[];
  /** The reward model's score of the kept response. */
  scores: number[];
  /** Scores of all N candidates per prompt, in sampling order. */
  candidateScores: number[][];
  /** All N candidates per prompt, in sampling order (best-of-M for M < N picks among the first M). */
  candidates: number[][][];
}

export function bestOfN(
  policy: GPT,
  reward: Scorer,
  prompts: number[][],
  config: BestOfNConfig,
  tok: { eosId: number; padId: number },
): BestOfNResult {
  const room = policy.config.n_positions - config.max_new_tokens;
  if (room < 1) throw new Error(`max_new_tokens (${config.max_new_tokens}) leaves no room for a prompt in the context of ${policy.config.n_positions}`);
  const fitted = prompts.map((p) => p.slice(Math.max(0, p.length - room)));
  const flat = fitted.flatMap((p) => Array.from({ length: config.n }, () => p));
  const tokens: number[][] = [];
  const finished: boolean[] = [];
  for (let i = 0; i < flat.length; i += config.batch_size) {
    const out = generate(policy, flat.slice(i, i + config.batch_size), {
      maxNewTokens: config.max_new_tokens,
      temperature: config.temperature,
      topK: config.top_k,
      topP: config.top_p,
      eosId: tok.eosId,
      padId: tok.padId,
      seed: config.seed + i,
    });
    tokens.push(...out.tokens);
    finished.push(...out.finished);
  }
  const scores = reward.score(flat, tokens, tok.padId);
  const result: BestOfNResult = { tokens: [], finished: [], scores: [], candidateScores: [], candidates: [] };
  for (let p = 0; p < prompts.length; p++) {
    const cand = scores.slice(p * config.n, (p + 1) * config.n);
    let best = 0;
    for (let k = 1; k < cand.length; k++) if (cand[k]! > cand[best]!) best = k;
    result.tokens.push(tokens[p * config.n + best]!);
    result.finished.push(finished[p * config.n + best]!);
    result.scores.push(cand[best]!);
    result.candidateScores.push(cand);
    result.candidates.push(tokens.slice(p * config.n, (p + 1) * config.n));
  }
  return result;
}

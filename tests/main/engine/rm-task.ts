// A tiny synthetic preference task shared by the reward-model, PPO and DPO tests: vocabulary of 16
// ids (0 pad, 1 EOS), prompts of three "topic" tokens, responses of a few tokens; a response is
// preferred when it contains the GOOD token, and the more GOOD tokens the better.
import { GPT, ScalarHead, type GPTConfig } from '../../../src-main/engine/models/model.js';
import type { TokenGroup } from '../../../src-main/engine/train/reward.js';
import { Rng } from '../../../src-main/engine/rng.js';

export const PAD = 0;
export const EOS = 1;
export const GOOD = 7;
export const tok = { eosId: EOS, padId: PAD, decode: (ids: number[]) => ids.join(' ') };

export const tinyConfig: GPTConfig = {
  vocab_size: 16,
  n_positions: 24,
  n_embd: 32,
  n_layer: 1,
  n_head: 2,
  layer_norm_epsilon: 1e-5,
  dropout: 0,
};

export function prompt(rng: Rng): number[] {
  return [2 + rng.int(5), 2 + rng.int(5), 2 + rng.int(5)];
}

/** A response of 2–4 filler tokens (never GOOD), optionally with GOOD inserted, then EOS. */
export function response(rng: Rng, good: number): number[] {
  const body: number[] = [];
  const n = 2 + rng.int(3);
  for (let i = 0; i < n; i++) body.push(8 + rng.int(8));
  for (let g = 0; g < good; g++) body.splice(rng.int(body.length + 1), 0, GOOD);
  return [...body, EOS];
}

/** Groups of three responses ranked by their count of GOOD tokens (2 > 1 > 0): three pairs each. */
export function rankingGroups(n: number, seed: number): TokenGroup[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => ({
    prompt: prompt(rng),
    responses: [response(rng, 2), response(rng, 1), response(rng, 0)],
    pairs: [
      { chosen: 0, rejected: 1, margin: 0 },
      { chosen: 0, rejected: 2, margin: 0 },
      { chosen: 1, rejected: 2, margin: 0 },
    ],
  }));
}

export function tinyModel(seed: number): GPT {
  return GPT.create(tinyConfig, seed);
}

export function tinyHead(seed: number): ScalarHead {
  return ScalarHead.create(tinyConfig.n_embd, seed);
}

/** The task's ground-truth judge: one point per GOOD token in the response. */
export const goodCounter = {
  score: (_p: number[][], responses: number[][]) => responses.map((r) => r.filter((t) => t === GOOD).length),
};

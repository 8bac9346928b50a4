// A comparison of checkpoint b against checkpoint a on a prompt split (CLI `compare`, the demo's
// report): both generate with the same seeds and settings, a judge decides each prompt — the reward
// model, the demo's gold rubric, or stored blind human votes — and the statistics say by how much
// b wins, with a bootstrap interval. Also the mean KL of b to a per response token.
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { loadModel } from '../engine/io/checkpoint-io.js';
import { generate } from '../engine/models/generate.js';
import type { GPT } from '../engine/models/model.js';
import { loadRewardModel } from '../engine/io/reward-io.js';
import { Rng } from '../engine/rng.js';
import { disposeBatch, packBatch, responseRows, textEncoder, tokenLogprobsAt } from '../engine/train/sequences.js';
import type { TextTokenizer } from '../engine/models/tokenizer.js';
import { goldScore } from '../demo/rubric.js';
import type { Project } from '../store/project.js';
import { winRate, type WinRate } from './stats.js';
import type { VoteOutcome } from '../shared/vocabulary.js';
import type { PairOutcome } from '../shared/vocabulary.js';

export const compareOptionsSchema = z
  .object({
    a: z.number().int().positive(),
    b: z.number().int().positive(),
    split: z.enum(['train', 'eval']).default('eval'),
    judge: z.enum(['rm', 'gold', 'human']).default('rm'),
    /** Reward-model checkpoint for `judge: rm`; default the latest one. */
    rm: z.number().int().positive().optional(),
    /** At most this many prompts (a seeded sample when the split has more); default all. */
    n: z.number().int().positive().optional(),
    seed: z.number().int().min(0).default(0),
    temperature: z.number().min(0).default(0.7),
    max_new_tokens: z.number().int().min(1).default(48),
    batch_size: z.number().int().min(1).max(256).default(32),
    /** Keep the generated responses in the project (source: checkpoint), for browsing and blind votes. */
    store_responses: z.boolean().default(true),
    resamples: z.number().int().min(100).max(100_000).default(2000),
  })
  .strict();
export type CompareOptions = z.input<typeof compareOptionsSchema>;

export interface CompareRow {
  prompt_id: number;
  prompt: string;
  a: string;
  b: string;
  score_a: number | null;
  score_b: number | null;
  outcome: PairOutcome;
  /** KL of b to a over this response, per token (null when b's response is empty). */
  kl_b: number | null;
}

export interface CompareReport extends WinRate {
  judge: 'rm' | 'gold' | 'human';
  a: number;
  b: number;
  split: 'train' | 'eval';
  rm_checkpoint: number | null;
  seed: number;
  /** Mean over response tokens of log π_b(y_t) − log π_a(y_t), on b's responses. */
  mean_kl_b: number | null;
  mean_score_a: number | null;
  mean_score_b: number | null;
  /** Mean response length in words. */
  mean_len_a: number;
  mean_len_b: number;
  rows: CompareRow[];
}

export interface CompareHooks {
  progress?(done: number, total: number, message: string): void;
  signal?: AbortSignal;
  /**
   * Prompts to compare on instead of the project's `split` (the demo's validation split, which is
   * kept out of the project's prompts so that nothing trains or reports on it); their responses
   * are never stored.
   */
  prompts?: { id: number; text: string }[];
}

function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null;
}

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;

function outcomeOf(scoreA: number, scoreB: number): PairOutcome {
  const d = scoreB - scoreA;
  return Math.abs(d) < 1e-9 ? 'tie' : d > 0 ? 'b' : 'a';
}

/**
 * Per response, the sum over its tokens of log π_b − log π_a at the sampling temperature (a
 * Monte-Carlo estimate of KL(π_b‖π_a) when the responses are b's samples); null for empty ones.
 */
export function klSums(modelA: GPT, modelB: GPT, prompts: number[][], responses: number[][], temperature: number, padId: number) {
  const nonEmpty = responses.map((r) => r.length > 0);
  const P = prompts.filter((_, i) => nonEmpty[i]);
  const R = responses.filter((_, i) => nonEmpty[i]);
  const out: (number | null)[] = responses.map(() => null);
  if (R.length === 0) return out;
  const width = modelB.config.n_positions;
  const batch = packBatch(P, R, padId, width);
  const t = temperature > 0 ? temperature : 1;
  const lpB = tokenLogprobsAt(modelB, batch, t).logp;
  const lpA = tokenLogprobsAt(modelA, batch, t).logp;
  const rowsB = responseRows(lpB, batch.responseLengths);
  const rowsA = responseRows(lpA, batch.responseLengths);
  tf.dispose([lpA, lpB]);
  disposeBatch(batch);
  let k = 0;
  responses.forEach((_, i) => {
    if (!nonEmpty[i]) return;
    const b = rowsB[k]!;
    const a = rowsA[k]!;
    out[i] = b.reduce((s, x, j) => s + x - a[j]!, 0);
    k++;
  });
  return out;
}

/** Response ids → text, without the closing EOS and special tokens. */
export function decodeResponse(tok: TextTokenizer, ids: number[]): string {
  const body = ids.length && ids[ids.length - 1] === tok.eosId ? ids.slice(0, -1) : ids;
  return tok.decode(body, { skipSpecial: true }).trim();
}

/** The latest reward-model checkpoint of the project, or null. */
export function latestRewardCheckpoint(project: Project): number | null {
  const rms = project.checkpoints.list().filter((c) => c.stage === 'rm');
  return rms.length ? rms[rms.length - 1]!.id : null;
}

export async function compareCheckpoints(project: Project, input: CompareOptions, hooks: CompareHooks = {}): Promise<CompareReport> {
  const o = compareOptionsSchema.parse(input);
  if (o.judge === 'human') return compareByHumanVotes(project, o);
  const rmId = o.judge === 'rm' ? (o.rm ?? latestRewardCheckpoint(project)) : null;
  if (o.judge === 'rm' && rmId === null) throw new Error('no reward model in this project: train one, or pass --judge gold|human');

  if (hooks.prompts && o.store_responses) throw new Error('responses to prompts outside the project cannot be stored: pass store_responses: false');
  let prompts: { id: number; text: string }[] = hooks.prompts ?? [...project.prompts.iterate()].filter((p) => p.split === o.split);
  if (prompts.length === 0) throw new Error(`the project has no ${o.split} prompts`);
  if (o.n !== undefined && o.n < prompts.length) {
    prompts = new Rng(o.seed).fork('compare-prompts').shuffle(prompts).slice(0, o.n).sort((x, y) => x.id - y.id);
  }
  const A = loadModel(project, o.a);
  const B = loadModel(project, o.b);
  const rm = rmId !== null ? loadRewardModel(project, rmId) : null;
  try {
    if (A.tokenizer.toJSON() !== B.tokenizer.toJSON()) {
      throw new Error(`checkpoints ${o.a} and ${o.b} use different tokenizers; compare checkpoints of one model family`);
    }
    const tok = B.tokenizer;
    const enc = textEncoder(tok);
    const rows: CompareRow[] = [];
    let klSum = 0;
    let klTokens = 0;
    const lenA: number[] = [];
    const lenB: number[] = [];
    for (let i = 0; i < prompts.length; i += o.batch_size) {
      if (hooks.signal?.aborted) throw new Error('cancelled');
      const part = prompts.slice(i, i + o.batch_size);
      const ids = part.map((p) => enc.prompt(p.text));
      const room = Math.min(A.config.n_positions, B.config.n_positions) - Math.max(...ids.map((x) => x.length)) - 1;
      if (room < 1) throw new Error(`a prompt does not leave room for a response in the context of ${B.config.n_positions} tokens`);
      const gen = {
        maxNewTokens: Math.min(o.max_new_tokens, room),
        temperature: o.temperature,
        topK: 0,
        topP: 1,
        eosId: tok.eosId,
        padId: tok.padId,
        // The same seed for both models: differences come from the weights, not the dice.
        seed: o.seed + i,
      };
      const outA = generate(A.model, ids, gen).tokens;
      const outB = generate(B.model, ids, gen).tokens;
      const kl = klSums(A.model, B.model, ids, outB, o.temperature, tok.padId);
      const scoresA = rm ? rm.model.score(ids, outA, tok.padId) : part.map((p, k) => goldScore(p.text, decodeResponse(tok, outA[k]!)));
      const scoresB = rm ? rm.model.score(ids, outB, tok.padId) : part.map((p, k) => goldScore(p.text, decodeResponse(tok, outB[k]!)));
      part.forEach((p, k) => {
        const a = decodeResponse(tok, outA[k]!);
        const b = decodeResponse(tok, outB[k]!);
        const sa = scoresA[k]!;
        const sb = scoresB[k]!;
        const nB = outB[k]!.length;
        if (kl[k] !== null && kl[k] !== undefined) {
          klSum += kl[k]!;
          klTokens += nB;
        }
        lenA.push(words(a));
        lenB.push(words(b));
        rows.push({
          prompt_id: p.id,
          prompt: p.text,
          a,
          b,
          score_a: sa,
          score_b: sb,
          outcome: outcomeOf(sa, sb),
          kl_b: kl[k] !== null && kl[k] !== undefined && nB > 0 ? kl[k]! / nB : null,
        });
        if (o.store_responses) {
          const genParams = { temperature: o.temperature, top_k: 0, top_p: 1, max_tokens: gen.maxNewTokens };
          if (a) project.responses.upsert({ promptId: p.id, text: a, source: 'checkpoint', checkpointId: o.a, genParams, seed: gen.seed });
          if (b) project.responses.upsert({ promptId: p.id, text: b, source: 'checkpoint', checkpointId: o.b, genParams, seed: gen.seed });
        }
      });
      hooks.progress?.(Math.min(i + o.batch_size, prompts.length), prompts.length, 'prompts');
    }
    const stats = winRate(
      rows.map((r) => r.outcome),
      new Rng(o.seed).fork('bootstrap'),
      { resamples: o.resamples },
    );
    return {
      ...stats,
      judge: o.judge,
      a: o.a,
      b: o.b,
      split: o.split,
      rm_checkpoint: rmId,
      seed: o.seed,
      mean_kl_b: klTokens ? klSum / klTokens : null,
      mean_score_a: mean(rows.map((r) => r.score_a!)),
      mean_score_b: mean(rows.map((r) => r.score_b!)),
      mean_len_a: mean(lenA) ?? 0,
      mean_len_b: mean(lenB) ?? 0,
      rows,
    };
  } finally {
    A.model.dispose();
    B.model.dispose();
    rm?.model.backbone.dispose();
    rm?.model.head.dispose();
  }
}

interface VoteRow {
  prompt_id: number;
  prompt: string;
  outcome: VoteOutcome;
  text_a: string;
  text_b: string;
  ckpt_a: number | null;
  ckpt_b: number | null;
}

/**
 * Blind votes stored in the project between responses of the two checkpoints (either order on
 * screen). "Both bad" counts as a tie, as Chatbot Arena counts it. No generation, no KL.
 */
function compareByHumanVotes(project: Project, o: z.output<typeof compareOptionsSchema>): CompareReport {
  const votes = project.db
    .prepare<[string, number, number, number, number], VoteRow>(
      `SELECT m.prompt_id, p.text AS prompt, m.outcome, ra.text AS text_a, rb.text AS text_b,
              ra.checkpoint_id AS ckpt_a, rb.checkpoint_id AS ckpt_b
       FROM comparisons m JOIN prompts p ON p.id = m.prompt_id
       JOIN responses ra ON ra.id = m.response_a JOIN responses rb ON rb.id = m.response_b
       WHERE p.split = ? AND ((ra.checkpoint_id = ? AND rb.checkpoint_id = ?) OR (ra.checkpoint_id = ? AND rb.checkpoint_id = ?))
       ORDER BY m.id`,
    )
    .all(o.split, o.a, o.b, o.b, o.a);
  if (votes.length === 0) {
    throw new Error(`no blind votes between checkpoints ${o.a} and ${o.b} on ${o.split} prompts yet: vote in Compare first`);
  }
  const rows: CompareRow[] = votes.map((v) => {
    const flipped = v.ckpt_a === o.b; // the screen's "A" was checkpoint b
    const outcome: PairOutcome =
      v.outcome === 'tie' || v.outcome === 'both_bad' ? 'tie' : (v.outcome === 'b') !== flipped ? 'b' : 'a';
    return {
      prompt_id: v.prompt_id,
      prompt: v.prompt,
      a: flipped ? v.text_b : v.text_a,
      b: flipped ? v.text_a : v.text_b,
      score_a: null,
      score_b: null,
      outcome,
      kl_b: null,
    };
  });
  const stats = winRate(
    rows.map((r) => r.outcome),
    new Rng(o.seed).fork('bootstrap'),
    { resamples: o.resamples },
  );
  return {
    ...stats,
    judge: 'human',
    a: o.a,
    b: o.b,
    split: o.split,
    rm_checkpoint: null,
    seed: o.seed,
    mean_kl_b: null,
    mean_score_a: null,
    mean_score_b: null,
    mean_len_a: mean(rows.map((r) => words(r.a))) ?? 0,
    mean_len_b: mean(rows.map((r) => words(r.b))) ?? 0,
    rows,
  };
}

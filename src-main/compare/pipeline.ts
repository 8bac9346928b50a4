// The one comparison pipeline: checkpoints answer the same prompts with the same seeds and sampling
// settings — plain sampling, or best-of-N by a reward model — so that differences come from the
// weights, not the dice; a judge (judges.ts) scores each response; and each response's KL to the
// reference (the first checkpoint) is measured per token. Batches are handed to the caller as they
// come: the CLI/demo report (compare.ts) and the Compare view's job (jobs/kinds/compare.ts) each
// keep what they need. Only the reference and one other checkpoint are in memory at a time.
import * as tf from '@tensorflow/tfjs';
import { bestOfN } from '../engine/train/best-of-n.js';
import { loadModel, type LoadedModel } from '../engine/io/checkpoint-io.js';
import { generate } from '../engine/models/generate.js';
import type { GPT } from '../engine/models/model.js';
import { disposeBatch, packBatch, responseRows, textEncoder, tokenLogprobsAt } from '../engine/train/sequences.js';
import type { TextTokenizer } from '../engine/models/tokenizer.js';
import type { Project } from '../store/project.js';
import type { RewardModelJudge, ScoringJudge } from './judges.js';

export interface Sampling {
  temperature: number;
  top_p: number;
  max_new_tokens: number;
  seed: number;
  /** 1: plain sampling; more: the best of that many samples by `pickBy`. */
  best_of_n: number;
  /** Prompts per generate() call: enough to use the batch, few enough to cancel promptly. */
  batch_prompts: number;
}

export interface ComparisonPlan {
  /** The reference first: KL is measured against it. */
  checkpoints: number[];
  prompts: { id: number; text: string }[];
  sampling: Sampling;
  /** Each scores every response (none: unscored). */
  judges: ScoringJudge[];
  /** The reward model best-of-N picks by (needed when best_of_n > 1). */
  pickBy?: RewardModelJudge | null;
  /** Keep the responses in the project (source: checkpoint), for browsing and blind votes. */
  store: boolean;
}

/** One batch of prompts answered by one checkpoint. */
export interface AnsweredBatch {
  checkpoint: number;
  /** Index of the batch's first prompt in the plan's prompts. */
  start: number;
  prompts: { id: number; text: string }[];
  promptTokens: number[][];
  /** The response tokens, EOS included when the response ended with it (`eosId`). */
  tokens: number[][];
  eosId: number;
  texts: string[];
  /** The stored response of each text (null when not stored, or empty). */
  responseIds: (number | null)[];
  /** One score per response from each of the plan's judges, in their order. */
  scores: number[][];
  /** Per response, Σ_t log π(y_t) − log π_ref(y_t) (0 for the reference); null for an empty response. */
  kl: (number | null)[];
  seed: number;
  maxNewTokens: number;
}

export interface PipelineHooks {
  /** Called inside one transaction with the batch's stored responses. */
  onBatch(batch: AnsweredBatch): void;
  /** Responses written so far of all; `message` says which checkpoint and how far in the prompts. */
  progress?(done: number, total: number, message: string): void;
  /** Checked between batches; `cancelled()` builds the error thrown when it is aborted. */
  signal?: AbortSignal;
  cancelled?(): Error;
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

function sameTokenizer(ref: LoadedModel, ref_id: number, other: { tokenizer: TextTokenizer }, what: string): void {
  if (other.tokenizer.toJSON() !== ref.tokenizer.toJSON()) {
    throw new Error(`${what} uses another tokenizer than checkpoint ${ref_id}: compare checkpoints of one model family.`);
  }
}

/** Runs the plan, checkpoint by checkpoint and batch by batch; returns how many responses were written. */
export async function runComparison(project: Project, plan: ComparisonPlan, hooks: PipelineHooks): Promise<number> {
  const s = plan.sampling;
  if (s.best_of_n > 1 && !plan.pickBy) throw new Error('Best-of-N needs a reward model: train one first, or set N to 1.');
  const refId = plan.checkpoints[0]!;
  const total = plan.prompts.length * plan.checkpoints.length;
  let done = 0;
  const ref = loadModel(project, refId);
  try {
    const tok = ref.tokenizer;
    for (const judge of [...plan.judges, plan.pickBy]) {
      if (judge?.name === 'rm') sameTokenizer(ref, refId, (judge as RewardModelJudge).loaded, `The reward model (checkpoint ${judge.checkpoint})`);
    }
    const enc = textEncoder(tok);
    for (const checkpoint of plan.checkpoints) {
      const isRef = checkpoint === refId;
      const cur: LoadedModel = isRef ? ref : loadModel(project, checkpoint);
      try {
        sameTokenizer(ref, refId, cur, `Checkpoint ${checkpoint}`);
        const width = Math.min(cur.config.n_positions, ref.config.n_positions);
        const maxNewTokens = Math.min(s.max_new_tokens, width - 1);
        for (let start = 0; start < plan.prompts.length; start += s.batch_prompts) {
          if (hooks.signal?.aborted) throw hooks.cancelled?.() ?? new Error('cancelled');
          const prompts = plan.prompts.slice(start, start + s.batch_prompts);
          // Prompts keep their last tokens so the response fits the context.
          const promptTokens = prompts.map((x) => {
            const t = x.text.length > 0 ? enc.prompt(x.text) : [tok.eosId];
            return t.slice(Math.max(0, t.length - (width - maxNewTokens)));
          });
          // The same seed for every checkpoint: differences come from the weights, not the dice.
          const seed = s.seed + start;
          let tokens: number[][];
          let picked: number[] | null = null;
          if (s.best_of_n > 1) {
            const best = bestOfN(
              cur.model,
              plan.pickBy!.loaded.model,
              promptTokens,
              { n: s.best_of_n, max_new_tokens: maxNewTokens, temperature: Math.max(s.temperature, 1e-3), top_k: 0, top_p: s.top_p, seed, batch_size: 32 },
              tok,
            );
            tokens = best.tokens;
            picked = best.scores;
          } else {
            tokens = generate(cur.model, promptTokens, { maxNewTokens, temperature: s.temperature, topK: 0, topP: s.top_p, eosId: tok.eosId, padId: tok.padId, seed }).tokens;
          }
          const texts = tokens.map((r) => decodeResponse(tok, r));
          // The reward model that picked the best of N has scored the picks already.
          const scores = plan.judges.map((j) => (picked && j === plan.pickBy ? picked : j.score({ prompts, promptTokens, responseTokens: tokens, texts, padId: tok.padId })));
          const kl = isRef ? tokens.map((r) => (r.length ? 0 : null)) : klSums(ref.model, cur.model, promptTokens, tokens, s.temperature, tok.padId);
          const genParams = { temperature: s.temperature, top_k: 0, top_p: s.top_p, max_tokens: maxNewTokens, best_of_n: s.best_of_n };
          project.db.transaction(() => {
            const responseIds = texts.map((text, k) =>
              plan.store && text ? project.responses.upsert({ promptId: prompts[k]!.id, text, source: 'checkpoint', checkpointId: checkpoint, genParams, seed }).id : null,
            );
            hooks.onBatch({ checkpoint, start, prompts, promptTokens, tokens, eosId: tok.eosId, texts, responseIds, scores, kl, seed, maxNewTokens });
          })();
          done += prompts.length;
          hooks.progress?.(done, total, `checkpoint #${checkpoint}: ${start + prompts.length}/${plan.prompts.length} prompts`);
        }
      } finally {
        if (!isRef) cur.model.dispose();
      }
    }
    return done;
  } finally {
    ref.model.dispose();
  }
}

// The `compare` job (Compare view): every chosen checkpoint answers the same prompts with the same
// seeds and sampling settings — plain sampling, or best-of-N by the reward model — and each
// response is kept with its reward score, its KL to the reference (the first checkpoint) and its
// length in tokens, as rows of a stored comparison the view reloads. Cancellable between batches;
// the rows written so far stay.
import { z } from 'zod';
import { decodeResponse, klSums } from '../../compare/compare.js';
import { bestOfN } from '../../engine/train/best-of-n.js';
import { initBackend } from '../../engine/backend/backend.js';
import { loadModel, type LoadedModel } from '../../engine/io/checkpoint-io.js';
import { generate } from '../../engine/models/generate.js';
import { loadRewardModel, type LoadedRewardModel } from '../../engine/io/reward-io.js';
import { textEncoder } from '../../engine/train/sequences.js';
import type { ComparisonRowData } from '../../store/comparison-sets.js';
import type { JobFn } from '../types.js';
import { JobCancelled } from '../../shared/errors.js';

export const compareJobParamsSchema = z
  .object({
    setId: z.number().int().positive(),
    /** The reference (KL is measured against it) first. */
    checkpoints: z.array(z.number().int().positive()).min(2).max(8),
    promptIds: z.array(z.number().int().positive()).min(1).max(10_000),
    temperature: z.number().min(0).max(2),
    top_p: z.number().gt(0).max(1),
    max_tokens: z.number().int().min(1).max(1024),
    seed: z.number().int().min(0),
    /** 1: plain sampling; more: best of that many samples by the reward model. */
    best_of_n: z.number().int().min(1).max(64),
    reward_model: z.number().int().positive().nullable(),
  })
  .strict();
export type CompareJobParams = z.infer<typeof compareJobParamsSchema>;

/** Prompts per generate() call: enough to use the batch, few enough to cancel promptly. */
const BATCH_PROMPTS = 8;

export const compareJob: JobFn<CompareJobParams, { setId: number; rows: number }> = async (raw, ctx) => {
  const p = compareJobParamsSchema.parse(raw);
  const { project } = ctx;
  try {
    const rows = await run(p, ctx);
    project.comparisonSets.setStatus(p.setId, 'completed');
    return { setId: p.setId, rows };
  } catch (e) {
    const cancelled = e instanceof JobCancelled || ctx.signal.aborted;
    project.comparisonSets.setStatus(p.setId, cancelled ? 'cancelled' : 'failed', cancelled ? null : (e as Error).message);
    throw e;
  }
};

async function run(p: CompareJobParams, ctx: Parameters<JobFn<CompareJobParams, unknown>>[1]): Promise<number> {
  const { project } = ctx;
  if (p.best_of_n > 1 && p.reward_model === null) throw new Error('Best-of-N needs a reward model: train one first, or set N to 1.');
  await initBackend();
  const prompts = p.promptIds.map((id) => {
    const prompt = project.prompts.get(id);
    if (!prompt) throw new Error(`Prompt ${id} no longer exists.`);
    return prompt;
  });
  const total = prompts.length * p.checkpoints.length;
  let done = 0;
  const ref = loadModel(project, p.checkpoints[0]!);
  let rm: LoadedRewardModel | null = null;
  try {
    rm = p.reward_model === null ? null : loadRewardModel(project, p.reward_model);
    const tok = ref.tokenizer;
    if (rm && rm.tokenizer.toJSON() !== tok.toJSON()) {
      throw new Error(`The reward model (checkpoint ${p.reward_model}) uses another tokenizer than checkpoint ${p.checkpoints[0]}: choose one of the same model family.`);
    }
    const enc = textEncoder(tok);
    for (const checkpointId of p.checkpoints) {
      const isRef = checkpointId === p.checkpoints[0];
      const cur: LoadedModel = isRef ? ref : loadModel(project, checkpointId);
      try {
        if (cur.tokenizer.toJSON() !== tok.toJSON()) {
          throw new Error(`Checkpoints ${p.checkpoints[0]} and ${checkpointId} use different tokenizers: compare checkpoints of one model family.`);
        }
        const width = Math.min(cur.config.n_positions, ref.config.n_positions);
        const maxNew = Math.min(p.max_tokens, width - 1);
        for (let start = 0; start < prompts.length; start += BATCH_PROMPTS) {
          if (ctx.signal.aborted) throw new JobCancelled();
          const batch = prompts.slice(start, start + BATCH_PROMPTS);
          // Prompts keep their last tokens so the response fits the context.
          const ids = batch.map((x) => {
            const t = x.text.length > 0 ? enc.prompt(x.text) : [tok.eosId];
            return t.slice(Math.max(0, t.length - (width - maxNew)));
          });
          // The same seed for every checkpoint: differences come from the weights, not the dice.
          const seed = p.seed + start;
          const sampling = { temperature: p.temperature, top_k: 0, top_p: p.top_p, max_tokens: maxNew, best_of_n: p.best_of_n };
          let out: number[][];
          let scores: number[] | null;
          if (p.best_of_n > 1) {
            const best = bestOfN(cur.model, rm!.model, ids, { n: p.best_of_n, max_new_tokens: maxNew, temperature: Math.max(p.temperature, 1e-3), top_k: 0, top_p: p.top_p, seed, batch_size: 32 }, tok);
            out = best.tokens;
            scores = best.scores;
          } else {
            out = generate(cur.model, ids, { maxNewTokens: maxNew, temperature: p.temperature, topK: 0, topP: p.top_p, eosId: tok.eosId, padId: tok.padId, seed }).tokens;
            scores = rm ? rm.model.score(ids, out, tok.padId) : null;
          }
          const kl = isRef ? out.map((r) => (r.length ? 0 : null)) : klSums(ref.model, cur.model, ids, out, p.temperature, tok.padId);
          const rows: ComparisonRowData[] = [];
          project.db.transaction(() => {
            batch.forEach((prompt, k) => {
              const text = decodeResponse(tok, out[k]!);
              const response = text
                ? project.responses.upsert({ promptId: prompt.id, text, source: 'checkpoint', checkpointId, genParams: sampling, seed }).id
                : null;
              const tokens = out[k]!.filter((t) => t !== tok.eosId).length;
              rows.push({ prompt_id: prompt.id, checkpoint_id: checkpointId, response_id: response, text, score: scores?.[k] ?? null, kl: kl[k] ?? null, tokens, seed });
            });
            project.comparisonSets.addRows(p.setId, rows);
          })();
          done += batch.length;
          ctx.progress({ done, total, unit: 'responses', message: `checkpoint #${checkpointId}: ${Math.min(start + batch.length, prompts.length)}/${prompts.length} prompts` });
        }
      } finally {
        if (!isRef) cur.model.dispose();
      }
    }
    return done;
  } finally {
    ref.model.dispose();
    rm?.dispose();
  }
}

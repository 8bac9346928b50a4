// The `compare` job (Compare view): the comparison pipeline (compare/pipeline.ts) with the reward
// model as judge — every chosen checkpoint answers the same prompts with the same seeds, plain or
// best-of-N — and each response kept with its reward score, its KL to the reference (the first
// checkpoint) and its length in tokens, as rows of a stored comparison the view reloads.
// Cancellable between batches; the rows written so far stay.
import { z } from 'zod';
import { rewardModelJudge } from '../../compare/judges.js';
import { runComparison } from '../../compare/pipeline.js';
import { initBackend } from '../../engine/backend/backend.js';
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
  const rm = p.reward_model === null ? null : rewardModelJudge(project, p.reward_model);
  try {
    return await runComparison(
      project,
      {
        checkpoints: p.checkpoints,
        prompts,
        sampling: { temperature: p.temperature, top_p: p.top_p, max_new_tokens: p.max_tokens, seed: p.seed, best_of_n: p.best_of_n, batch_prompts: BATCH_PROMPTS },
        judges: rm ? [rm] : [],
        pickBy: rm,
        store: true,
      },
      {
        onBatch: (b) => {
          const eos = (t: number) => t !== b.eosId;
          const rows: ComparisonRowData[] = b.prompts.map((prompt, k) => ({
            prompt_id: prompt.id,
            checkpoint_id: b.checkpoint,
            response_id: b.responseIds[k]!,
            text: b.texts[k]!,
            score: b.scores[0]?.[k] ?? null,
            kl: b.kl[k] ?? null,
            tokens: b.tokens[k]!.filter(eos).length,
            seed: b.seed,
          }));
          project.comparisonSets.addRows(p.setId, rows);
        },
        progress: (done, total, message) => ctx.progress({ done, total, unit: 'responses', message }),
        signal: ctx.signal,
        cancelled: () => new JobCancelled(),
      },
    );
  } finally {
    rm?.dispose();
  }
}

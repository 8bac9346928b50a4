// The `label-generate` job: K responses per prompt from the chosen checkpoints (spread evenly:
// K = 4 from two checkpoints is two each; pairwise from two checkpoints is one each, a model-vs-
// model A/B), stored as responses with their provenance, then a labeling task over them with the
// responses shuffled per item. Runs in the engine worker; cancellable between batches.
import { z } from 'zod';
import { initBackend } from '../../engine/backend/backend.js';
import { loadModel } from '../../engine/io/checkpoint-io.js';
import { generate } from '../../engine/models/generate.js';
import { Rng } from '../../engine/rng.js';
import type { JobFn } from '../types.js';
import { JobCancelled } from '../../shared/errors.js';
import { labelModeSchema } from '../../shared/vocabulary.js';

export const labelGenerateParamsSchema = z
  .object({
    name: z.string().min(1).max(200),
    mode: labelModeSchema,
    k: z.number().int().min(2).max(9),
    minAnnotators: z.number().int().min(1).max(50),
    split: z.enum(['train', 'eval']).optional(),
    limit: z.number().int().min(1).max(10_000),
    checkpointIds: z.array(z.number().int().positive()).min(1).max(9),
    temperature: z.number().min(0.05).max(2),
    topK: z.number().int().min(0),
    topP: z.number().gt(0).max(1),
    maxTokens: z.number().int().min(1).max(1024),
    seed: z.number().int().min(0),
  })
  .strict();
export type LabelGenerateParams = z.infer<typeof labelGenerateParamsSchema>;

/** Prompts per generate() call: enough to use the batch, few enough to cancel promptly. */
const BATCH_PROMPTS = 8;

/** How many of the K responses each checkpoint writes: as even as possible, the first ones get the rest. */
export function samplesPerCheckpoint(k: number, checkpoints: number): number[] {
  return Array.from({ length: checkpoints }, (_, i) => Math.floor(k / checkpoints) + (i < k % checkpoints ? 1 : 0));
}

export const labelGenerateJob: JobFn<LabelGenerateParams, { taskId: number; items: number; short: number; responses: number }> = async (
  raw,
  ctx,
) => {
  const p = labelGenerateParamsSchema.parse(raw);
  const k = p.mode === 'pairwise' ? 2 : p.k;
  if (p.checkpointIds.length > k) throw new Error(`${p.checkpointIds.length} checkpoints cannot share ${k} responses per prompt: choose at most ${k}.`);
  await initBackend();
  const { project } = ctx;
  const prompts = [...project.prompts.iterate()].filter((x) => !p.split || x.split === p.split).slice(0, p.limit);
  if (prompts.length === 0) throw new Error(`No prompts${p.split ? ` in the ${p.split} split` : ''}: import prompts first.`);

  const perCheckpoint = samplesPerCheckpoint(k, p.checkpointIds.length);
  const generated = new Map<number, Set<number>>(prompts.map((x) => [x.id, new Set()]));
  const total = prompts.length * p.checkpointIds.length;
  let done = 0;
  let responses = 0;
  for (const [c, checkpointId] of p.checkpointIds.entries()) {
    const n = perCheckpoint[c]!;
    const { model, tokenizer } = loadModel(project, checkpointId);
    try {
      const room = Math.max(1, model.config.n_positions - Math.min(p.maxTokens, model.config.n_positions - 1));
      for (let start = 0; start < prompts.length; start += BATCH_PROMPTS) {
        if (ctx.signal.aborted) throw new JobCancelled();
        const batch = prompts.slice(start, start + BATCH_PROMPTS);
        const ids = batch.map((x) => {
          const enc = x.text.length > 0 ? tokenizer.encode(x.text) : [tokenizer.eosId];
          return enc.slice(Math.max(0, enc.length - room));
        });
        // The seed depends on the task seed, the checkpoint and the batch, so a rerun is identical.
        const seed = (p.seed * 1_000_003 + checkpointId * 7919 + start) >>> 0;
        const out = generate(
          model,
          batch.flatMap((_, i) => Array.from({ length: n }, () => ids[i]!)),
          { maxNewTokens: p.maxTokens, temperature: p.temperature, topK: p.topK, topP: p.topP, eosId: tokenizer.eosId, padId: tokenizer.padId, seed },
        );
        project.db.transaction(() => {
          out.tokens.forEach((tokens, j) => {
            const prompt = batch[Math.floor(j / n)]!;
            const text = tokenizer.decode(tokens, { skipSpecial: true }).trim();
            if (!text) return;
            const r = project.responses.upsert({
              promptId: prompt.id,
              text,
              source: 'checkpoint',
              checkpointId,
              genParams: { temperature: p.temperature, top_k: p.topK, top_p: p.topP, max_tokens: p.maxTokens },
              seed,
            });
            if (r.created) responses++;
            generated.get(prompt.id)!.add(r.id);
          });
        })();
        done += batch.length;
        ctx.progress({ done, total, unit: 'prompts', message: `checkpoint ${checkpointId}: ${Math.min(start + batch.length, prompts.length)}/${prompts.length} prompts` });
      }
    } finally {
      model.dispose();
    }
  }

  // Identical samples collapse into one response; prompts left with fewer than K are not queued.
  const rng = new Rng(p.seed);
  const items = prompts.flatMap((x) => {
    const ids = [...generated.get(x.id)!];
    return ids.length >= k ? [{ promptId: x.id, responseIds: rng.fork(x.id).shuffle(ids).slice(0, k) }] : [];
  });
  if (items.length === 0) throw new Error('Every prompt got fewer than K different responses: raise the temperature or lower K.');
  const task = project.labeling.createTask({
    name: p.name,
    mode: p.mode,
    k,
    minAnnotators: p.minAnnotators,
    config: {
      seed: p.seed,
      split: p.split ?? null,
      checkpoints: p.checkpointIds,
      generation: { temperature: p.temperature, top_k: p.topK, top_p: p.topP, max_tokens: p.maxTokens },
    },
    items,
  });
  return { taskId: task.id, items: items.length, short: prompts.length - items.length, responses };
};

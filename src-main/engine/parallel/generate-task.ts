// Batched generation split over the cores: each thread generates some of the rows with its
// replica of the model. Rows sample from per-row random streams (generate's `firstRow`), so a
// seed gives the same tokens whether the batch runs on one thread or several.
import { generate, type GenerateOptions, type GenerateResult } from '../models/generate.js';
import type { GPT } from '../models/model.js';
import type { Replicas } from './data-parallel.js';
import { shardRanges } from './grad-task.js';
import { defineReplicaTask } from './replica-task.js';

type PlainOptions = Omit<GenerateOptions, 'onToken'>;

export const generateTask = defineReplicaTask<{ role: string; prompts: number[][]; opts: PlainOptions }, GenerateResult>({
  name: 'generate',
  module: import.meta.url,
  run: (models, { role, prompts, opts }) => generate(models[role] as GPT, prompts, opts),
});

/** generate() on the model of `role`, its rows split over the replicas' threads when that pays off. */
export async function generateOnReplicas(replicas: Replicas, role: string, prompts: number[][], opts: GenerateOptions): Promise<GenerateResult> {
  const model = replicas.model(role) as GPT;
  // Streaming needs every token on this thread; a single row cannot be split.
  const parts = replicas.partsForRows(prompts.length, model.parameterCount());
  if (opts.onToken || parts < 2) return generate(model, prompts, opts);
  // The whole batch's length budget, so a part with shorter prompts does not generate further.
  const longest = Math.max(...prompts.map((p) => p.length));
  const maxNewTokens = Math.max(0, Math.min(opts.maxNewTokens, model.config.n_positions - longest));
  const inputs = shardRanges(prompts.length, parts).map(([a, b]) => ({
    role,
    prompts: prompts.slice(a, b),
    opts: { ...opts, maxNewTokens, firstRow: (opts.firstRow ?? 0) + a },
  }));
  const results = await replicas.map(generateTask, inputs);
  return {
    tokens: results.flatMap((r) => r.tokens),
    finished: results.flatMap((r) => r.finished),
    logprobs: results.flatMap((r) => r.logprobs),
  };
}

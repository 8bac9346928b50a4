// The `generate` job behind the Models view's playground: samples from a checkpoint in the engine
// worker and streams the first sample's text as it grows through the job's progress messages.
import { z } from 'zod';
import { backendLabel, initBackend } from '../../engine/backend/backend.js';
import { samplingSettingsSchema, sampleText, type SampleResult } from '../../engine/models/sample-text.js';
import type { JobFn } from '../types.js';

export const generateParamsSchema = z
  .object({
    checkpoint: z.number().int().positive(),
    prompt: z.string().max(100_000),
    settings: samplingSettingsSchema.default(samplingSettingsSchema.parse({})),
  })
  .strict();

export type GenerateParams = z.input<typeof generateParamsSchema>;

export const generateJob: JobFn<GenerateParams, SampleResult & { backend: string }> = async (raw, ctx) => {
  const p = generateParamsSchema.parse(raw);
  const backend = await initBackend();
  let tokens = 0;
  const result = sampleText(ctx.project, p.checkpoint, p.prompt, p.settings, (sample, text) => {
    if (sample !== 0) return;
    tokens++;
    ctx.progress({ done: tokens, total: p.settings.max_tokens, unit: 'tokens', message: text });
  });
  return { ...result, backend: backendLabel(backend) };
};

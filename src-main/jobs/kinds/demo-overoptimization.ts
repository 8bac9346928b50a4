// The `demo-overoptimization` job behind the demo project's button in Compare: PPO with β = 0 and
// with the demo's β from the project's SFT model and reward model, every checkpoint judged by the
// reward model and the gold rubric against √KL (src-main/demo/overoptimization.ts).
import { z } from 'zod';
import { isDemoProject } from '../../demo/pipeline.js';
import { runOveroptimization, type OveroptimizationReport } from '../../demo/overoptimization.js';
import type { JobFn } from '../types.js';
import { JobCancelled } from '../../shared/errors.js';

export const demoOveroptimizationParamsSchema = z
  .object({
    quick: z.boolean().default(true),
    seed: z.number().int().min(0).default(1),
  })
  .strict();
export type DemoOveroptimizationParams = z.input<typeof demoOveroptimizationParamsSchema>;

const STAGES = ['sft', 'labels', 'rm', 'ppo β=0', 'ppo', 'evaluate'];

export const demoOveroptimizationJob: JobFn<DemoOveroptimizationParams, OveroptimizationReport> = async (raw, ctx) => {
  const p = demoOveroptimizationParamsSchema.parse(raw);
  if (!isDemoProject(ctx.project)) throw new Error(`${ctx.project.path} is not the demo project: only its rubric can judge gold scores`);
  try {
    return await runOveroptimization(ctx.project, {
      quick: p.quick,
      seed: p.seed,
      signal: ctx.signal,
      log: ctx.log,
      progress: (stage, done, total, message) => {
        const i = stage.startsWith('ppo β=') && stage !== 'ppo β=0' ? STAGES.indexOf('ppo') : STAGES.indexOf(stage);
        ctx.progress({ done: Math.max(0, i) + (total > 0 ? Math.min(done / total, 1) : 0), total: STAGES.length, unit: 'stages', message: `${stage}${message ? `: ${message}` : ''}` });
      },
    });
  } catch (e) {
    if (ctx.signal.aborted) throw new JobCancelled();
    throw e;
  }
};

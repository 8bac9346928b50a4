// The `demo` job: the demo pipeline (SFT → simulated rankings → reward model → PPO → SFT vs RLHF)
// run in place on the open demo project, so the app can fill Label, Train and Compare with one click.
import { z } from 'zod';
import { runDemoStages, type DemoReport } from '../../demo/pipeline.js';
import type { JobFn } from '../types.js';
import { JobCancelled } from '../../shared/errors.js';

export const demoParamsSchema = z
  .object({
    quick: z.boolean().default(true),
    seed: z.number().int().min(0).default(1),
  })
  .strict();

export type DemoParams = z.input<typeof demoParamsSchema>;

const STAGES = ['sft', 'labels', 'rm', 'ppo', 'compare'];

export const demoJob: JobFn<DemoParams, Omit<DemoReport, 'curves'>> = async (raw, ctx) => {
  const p = demoParamsSchema.parse(raw);
  try {
    const { curves: _curves, ...report } = await runDemoStages(ctx.project, {
      quick: p.quick,
      seed: p.seed,
      signal: ctx.signal,
      log: ctx.log,
      // One bar over the five stages: the whole stage count, the stage's own progress as a fraction.
      progress: (stage, done, total, message) =>
        ctx.progress({
          done: STAGES.indexOf(stage) + (total > 0 ? Math.min(done / total, 1) : 0),
          total: STAGES.length,
          unit: 'stages',
          message: `${stage}${message ? `: ${message}` : ''}`,
        }),
    });
    return report;
  } catch (e) {
    if (ctx.signal.aborted) throw new JobCancelled();
    throw e;
  }
};

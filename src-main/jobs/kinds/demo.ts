// The `demo` job: the demo pipeline (SFT → simulated rankings → reward model → PPO → SFT vs RLHF)
// run in place on the open demo project, so the app can fill Label, Train and Compare with one click.
import { z } from 'zod';
import { runDemoStages, type DemoReport } from '../../demo/pipeline.js';
import { RL_METHODS } from '../../demo/rl-phase.js';
import type { JobFn } from '../types.js';
import { JobCancelled } from '../../shared/errors.js';

export const demoParamsSchema = z
  .object({
    quick: z.boolean().default(true),
    seed: z.number().int().min(0).default(1),
    /** The RL methods to train, each against the reward model (as `rlhf-lab demo --rl`). */
    rl: z.array(z.enum(RL_METHODS)).min(1).default(['ppo']),
  })
  .strict();

export type DemoParams = z.input<typeof demoParamsSchema>;

export const demoJob: JobFn<DemoParams, Omit<DemoReport, 'curves'>> = async (raw, ctx) => {
  const p = demoParamsSchema.parse(raw);
  const stages = ['sft', 'labels', 'rm', ...p.rl, 'compare'];
  try {
    const { curves: _curves, ...report } = await runDemoStages(ctx.project, {
      quick: p.quick,
      seed: p.seed,
      rl: p.rl,
      signal: ctx.signal,
      log: ctx.log,
      // One bar over the stages: the whole stage count, the stage's own progress as a fraction.
      progress: (stage, done, total, message) =>
        ctx.progress({
          done: stages.indexOf(stage) + (total > 0 ? Math.min(done / total, 1) : 0),
          total: stages.length,
          unit: 'stages',
          phases: stages,
          message: `${stage}${message ? `: ${message}` : ''}`,
        }),
    });
    return report;
  } catch (e) {
    if (ctx.signal.aborted) throw new JobCancelled();
    throw e;
  }
};

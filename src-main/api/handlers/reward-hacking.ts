// Compare's "reward model vs gold/human" panel: start and read the judgement of a PPO run's
// checkpoints (jobs/kinds/judge-checkpoints.ts), and on the demo project the over-optimisation run
// (jobs/kinds/demo-overoptimization.ts) whose curves Compare charts.
import type { ApiContext } from '../context.js';
import type { Handlers } from '../router.js';
import { readOveroptimization } from '../../demo/overoptimization.js';
import { isDemoProject, readDemoBaselines } from '../../demo/pipeline.js';
import { readCheckpointJudges } from '../../jobs/kinds/judge-checkpoints.js';
import { UserError } from '../../shared/errors.js';

function requireHost(ctx: ApiContext): void {
  if (ctx.annotatorId !== null) throw new UserError('Only the host can start this.', 'forbidden');
}

export const rewardHackingHandlers: Partial<Handlers<ApiContext>> = {
  'compare.checkpointJudges': ({ runId }, ctx) => readCheckpointJudges(ctx.app.project(), runId),

  'compare.judgeCheckpoints': ({ runId }, ctx) => {
    requireHost(ctx);
    const run = ctx.app.project().runs.get(runId);
    if (!run) throw new UserError(`No run with id ${runId}.`, 'not_found');
    if (run.stage !== 'ppo') throw new UserError(`Run #${runId} is a ${run.stage} run: only PPO runs have a reward model to check.`, 'bad_request');
    return ctx.app.startJob('judge-checkpoints', { run: runId }, `Judge the checkpoints of run #${runId}`);
  },

  'compare.overoptimization': (_input, ctx) => {
    const p = ctx.app.project();
    const demo = isDemoProject(p);
    return { demo, report: readOveroptimization(p), baselines: demo ? readDemoBaselines(p) : null };
  },

  'compare.startOveroptimization': (_input, ctx) => {
    requireHost(ctx);
    if (!isDemoProject(ctx.app.project())) throw new UserError('Over-optimisation needs the demo project: only its rubric gives a gold score.', 'bad_request');
    return ctx.app.startJob('demo-overoptimization', {}, 'Over-optimisation: PPO with β = 0 and the demo β');
  },
};

// The demo panel (Compare view, demo project only): start the whole loop — SFT, simulated
// rankings, reward model, the chosen RL methods — as the `demo` job (jobs/kinds/demo.ts), and read
// the last run's method table, the same rows `rlhf-lab demo --rl` prints (demo/method-table.ts).
import type { ApiContext } from '../context.js';
import type { Handlers } from '../router.js';
import { Services } from '../services.js';
import { methodRows } from '../../demo/method-table.js';
import { isDemoProject, readDemoReport } from '../../demo/pipeline.js';
import type { DemoRunView } from '../../shared/contract.js';
import { UserError } from '../../shared/errors.js';
import { demoRlMethods } from '../../shared/vocabulary.js';

function services(ctx: ApiContext): Services {
  if (!(ctx.app instanceof Services)) throw new Error('demo handlers need the Services implementation');
  return ctx.app;
}

/** The demo job this process started on the project at `path` (Services.demoJobs), while it runs. */
function runningDemo(ctx: ApiContext, path: string) {
  const id = services(ctx).demoJobs.get(path);
  return services(ctx).jobs.running().find((j) => j.id === id) ?? null;
}

export const demoHandlers: Partial<Handlers<ApiContext>> = {
  'demo.state': (_input, ctx) => {
    const p = ctx.app.project();
    const demo = isDemoProject(p);
    const r = demo ? readDemoReport(p) : null;
    const last: DemoRunView | null = r && {
      seed: r.seed,
      quick: r.quick,
      judged_on: r.judged_on,
      n: r.compare.gold.n,
      backend: r.backend,
      seconds: r.seconds,
      sft_mean_gold: r.compare.gold.mean_score_sft,
      rows: methodRows(r),
    };
    return { demo, methods: demoRlMethods, last, job: demo ? runningDemo(ctx, p.path) : null };
  },

  'demo.start': ({ rl, seed, quick }, ctx) => {
    if (ctx.annotatorId !== null) throw new UserError('Only the host can start the demo.', 'forbidden');
    const p = ctx.app.project();
    if (!isDemoProject(p)) throw new UserError('The demo runs on the demo project only: its simulated annotators and gold judge know only its rubric. Open it from the Data view.', 'bad_request');
    if (p.readOnly) throw new UserError(`This project is read-only (${p.readOnly}): the demo writes runs and checkpoints into it.`, 'read_only');
    if (runningDemo(ctx, p.path)) throw new UserError('The demo is already running on this project: wait for it or cancel it.', 'busy');
    const job = ctx.app.startJob('demo', { rl, seed, quick }, `Demo: ${rl.map((m) => m.toUpperCase()).join(', ')}, seed ${seed}`);
    services(ctx).demoJobs.set(p.path, job.id);
    return job;
  },
};

// train.* and runs.*: start, stop and resume runs of every stage, and read what they log.
// The runs themselves are jobs (jobs/kinds/train-*.ts) running in the engine worker.
import { z } from 'zod';
import type { JobInfo, RunInfo, Series } from '../../shared/contract.js';
import type { ApiContext } from '../context.js';
import type { Handlers } from '../router.js';
import { Services } from '../services.js';
import { stages, stageInfo, stageSchema, jobKind } from '../../train/stages.js';
import { metricsCsv } from '../../train/metrics-csv.js';
import { UserError } from '../../shared/errors.js';
import type { RunStage } from '../../shared/vocabulary.js';

function services(ctx: ApiContext): Services {
  if (!(ctx.app instanceof Services)) throw new Error('train handlers need the Services implementation');
  return ctx.app;
}

/** Starting and stopping training is for the person at the machine, never a LAN annotator. */
function requireLocal(ctx: ApiContext): void {
  if (ctx.annotatorId !== null) throw new UserError('Only the host can start or stop training.', 'forbidden');
}

/** The live job writing a run: found through the run id its progress reports. */
function jobOfRun(ctx: ApiContext, runId: number): JobInfo | null {
  return services(ctx).jobs.running().find((j) => j.progress?.runId === runId) ?? null;
}

function fieldErrors(stage: RunStage, config: Record<string, unknown>) {
  const parsed = stageSchema(stage).safeParse(config);
  if (parsed.success) return { errors: {}, resolved: parsed.data as Record<string, unknown> };
  const errors: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const key = issue.path.length ? String(issue.path[0]) : '_';
    errors[key] ??= issue.message;
  }
  return { errors, resolved: null };
}

/** The group and advantage a critic-free stage stores with each sample (engine/train/critic-free.ts GroupSample). */
function groupOf(extra: Record<string, unknown> | null): { group?: number; advantage?: number } {
  if (typeof extra?.group !== 'number' || typeof extra.advantage !== 'number') return {};
  return { group: extra.group, advantage: extra.advantage };
}

const sinceSchema = z.record(z.string(), z.number().int());

/** The running resume job this process started for a run (Services.resumeJobs), if any. */
function resumeJobOf(ctx: ApiContext, runId: number): JobInfo | null {
  const id = services(ctx).resumeJobs.get(runId);
  const job = id === undefined ? undefined : services(ctx).jobs.list().find((j) => j.id === id);
  return job?.status === 'running' ? job : null;
}

export const trainHandlers: Partial<Handlers<ApiContext>> = {
  'train.stages': () => stages.map(stageInfo),
  'train.validate': ({ stage, config }) => fieldErrors(stage, config),
  'train.start': ({ stage, from, config, name }, ctx) => {
    requireLocal(ctx);
    const project = ctx.app.project();
    const parent = project.checkpoints.get(from);
    if (!parent) throw new UserError(`No checkpoint with id ${from}.`, 'not_found');
    const info = stageInfo(stage);
    if (!info.from.includes(parent.stage)) {
      throw new UserError(`A ${info.label} run starts from a ${info.from.join(' or ')} checkpoint; #${from} is ${parent.stage}.`, 'invalid_input');
    }
    const checked = fieldErrors(stage, config);
    if (!checked.resolved) {
      const list = Object.entries(checked.errors).map(([k, m]) => `${k}: ${m}`).join('; ');
      throw new UserError(`The ${info.label} config is not valid: ${list}`, 'invalid_config', checked.errors);
    }
    for (const [key, wanted] of Object.entries(info.checkpointFields)) {
      const ref = config[key];
      if (ref === undefined) continue;
      const c = typeof ref === 'number' ? project.checkpoints.get(ref) : null;
      if (!c || c.stage !== wanted) throw new UserError(`${key} must name a ${wanted} checkpoint.`, 'invalid_config', { [key]: `not a ${wanted} checkpoint` });
    }
    return ctx.app.startJob(jobKind(stage), { from, config, name }, `${info.label}: ${name ?? parent.name}`);
  },
  'train.stop': ({ runId }, ctx) => {
    requireLocal(ctx);
    const job = jobOfRun(ctx, runId);
    if (job) {
      services(ctx).jobs.cancel(job.id);
      return { stopped: true };
    }
    const run = ctx.app.project().runs.get(runId);
    if (!run) throw new UserError(`No run with id ${runId}.`, 'not_found');
    const lease = ctx.app.project().runLeases.holder(runId);
    if (lease) throw new UserError(`Run ${runId} is being trained by ${lease.owner}: stop it there.`, 'conflict');
    // A run left 'running' by a closed app has no job: mark it stopped so it can be resumed.
    if (run.status === 'running' || run.status === 'pending') {
      ctx.app.project().runs.setStatus(runId, 'stopped');
      return { stopped: true };
    }
    return { stopped: false };
  },
  'train.resume': ({ runId }, ctx) => {
    requireLocal(ctx);
    const run = ctx.app.project().runs.get(runId);
    if (!run) throw new UserError(`No run with id ${runId}.`, 'not_found');
    if (jobOfRun(ctx, runId) || resumeJobOf(ctx, runId)) throw new UserError(`Run ${runId} is already running.`, 'conflict');
    const lease = ctx.app.project().runLeases.holder(runId);
    if (lease) throw new UserError(`Run ${runId} is being trained by ${lease.owner}.`, 'conflict');
    if (run.status === 'completed') throw new UserError(`Run ${runId} has completed; start a new run from its checkpoint instead.`, 'conflict');
    const job = ctx.app.startJob(jobKind(run.stage as RunStage), { resume: runId }, `${stageInfo(run.stage as RunStage).label}: resume ${run.name}`);
    services(ctx).resumeJobs.set(runId, job.id);
    return job;
  },
  'runs.list': (_input, ctx) => {
    const project = ctx.app.project();
    // A job that has not reported its run yet may be about to write any 'running' run.
    const starting = services(ctx).jobs.running().some((j) => j.kind.startsWith('train-') && j.progress?.runId === undefined);
    return project.runs.listRuns().map((r): RunInfo => {
      const job = jobOfRun(ctx, r.id);
      const owner = project.runLeases.holder(r.id)?.owner ?? null;
      // 'running' without a live job or lease means the process that ran it was closed or crashed.
      const orphan = (r.status === 'running' || r.status === 'pending') && !job && !owner && !starting;
      const status = orphan ? 'stopped' : r.status;
      return {
        id: r.id,
        stage: r.stage,
        name: r.name,
        status,
        step: r.step,
        total_steps: r.total_steps,
        backend: r.backend,
        error: r.error,
        parent_checkpoint_id: r.parent_checkpoint_id,
        parent_name: r.parent_checkpoint_id ? (project.checkpoints.get(r.parent_checkpoint_id)?.name ?? null) : null,
        config: r.config,
        tags: r.tags,
        note: r.note,
        created_at: r.created_at,
        updated_at: r.updated_at,
        job,
        owner,
        last: project.runs.lastMetrics(r.id),
      };
    });
  },
  'runs.annotate': ({ runId, ...change }, ctx) => {
    requireLocal(ctx);
    const updated = ctx.app.project().runs.annotate(runId, change);
    if (!updated) throw new UserError(`No run with id ${runId}.`, 'not_found');
    ctx.app.emit('data.changed', { kinds: ['run'] });
    return { updated };
  },
  'runs.metrics': ({ runIds, since }, ctx) => {
    const runs = ctx.app.project().runs;
    const after = sinceSchema.parse(since);
    const out: Record<string, Record<string, Series>> = {};
    for (const id of runIds) {
      const series: Record<string, Series> = {};
      for (const [key, points] of Object.entries(runs.metricsFor(id, undefined, after[id] ?? -1))) {
        series[key] = { step: points.map((p) => p.step), value: points.map((p) => p.value), time: points.map((p) => p.time) };
      }
      out[id] = series;
    }
    return out;
  },
  'runs.samples': ({ runId }, ctx) =>
    ctx.app
      .project()
      .runs.samplesFor(runId)
      .map((s) => ({ id: s.id, step: s.step, prompt: s.prompt, response: s.response, score: s.score, kl: s.kl, ...groupOf(s.extra) })),
  'runs.events': ({ runId }, ctx) => ctx.app.project().runs.eventsFor(runId),
  'runs.exportCsv': ({ runId }, ctx) => {
    const project = ctx.app.project();
    const run = project.runs.get(runId);
    if (!run) throw new UserError(`No run with id ${runId}.`, 'not_found');
    const { text, rows } = metricsCsv(project.runs.metricsFor(runId));
    return { name: `run-${runId}-${run.stage}-metrics.csv`, text, rows };
  },
  'train.lineage': (_input, ctx) => ({
    checkpoints: ctx.app
      .project()
      .checkpoints.list()
      .map((c) => ({ id: c.id, name: c.name, stage: c.stage, parent_id: c.parent_id, run_id: c.run_id, step: c.step, created_at: c.created_at })),
  }),
};

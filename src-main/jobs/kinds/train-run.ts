// What the training jobs (train-<stage>, one per stage) share: their parameters
// — a new run from a checkpoint, or the resume of an interrupted run — and how a resume finds its
// place: the run's own config and parent, and its last checkpoint, with what the run logged after
// that checkpoint forgotten (the resumed run logs those steps again).
import { z } from 'zod';
import { loadModel } from '../../engine/io/checkpoint-io.js';
import type { GPT } from '../../engine/models/model.js';
import type { PreferenceData } from '../../engine/train/preference-data.js';
import type { CheckpointInfo } from '../../shared/records.js';
import type { Project } from '../../store/project.js';
import type { NewRun } from '../../store/runs.js';
import type { RunStage } from '../../shared/vocabulary.js';
import { holdRunLease } from '../run-lease.js';
import type { JobContext, TrainStageResult } from '../types.js';
import { JobCancelled } from '../../shared/errors.js';

export const trainParamsShape = {
  /** Checkpoint to start a new run from. */
  from: z.number().int().positive().optional(),
  /** Run to continue from its last checkpoint. */
  resume: z.number().int().positive().optional(),
  /** The stage's config fields; unknown keys are rejected. Ignored on resume (the run's own config is used). */
  config: z.record(z.string(), z.unknown()).default({}),
  name: z.string().min(1).max(200).optional(),
};

/** Exactly one of `from` and `resume`. */
export function fromOrResume<T extends { from?: number; resume?: number }>(schema: z.ZodType<T>) {
  return schema.refine((p) => (p.from === undefined) !== (p.resume === undefined), { message: 'give either "from" or "resume"' });
}

export const trainParamsSchema = fromOrResume(z.object(trainParamsShape).strict());
export type TrainParams = z.input<typeof trainParamsSchema>;

export interface RunStart<C> {
  config: C;
  parentId: number;
  /** The resumed run; undefined for a new run (the job creates it). */
  runId: number | undefined;
  /** The resumed run's last checkpoint; null for a new run or one that had not saved any yet. */
  last: CheckpointInfo | null;
}

export function startOrResume<C>(
  project: Project,
  stage: RunStage,
  schema: z.ZodType<C>,
  params: { from?: number; resume?: number; config: Record<string, unknown> },
): RunStart<C> {
  if (params.resume === undefined) return { config: schema.parse(params.config), parentId: params.from!, runId: undefined, last: null };
  const run = project.runs.get(params.resume);
  if (!run || run.stage !== stage) throw new Error(`run ${params.resume} is not a ${stage} run`);
  // Before anything is read or truncated: another trainer may be writing this run right now.
  holdRunLease(project, run.id);
  if (project.runs.get(run.id)!.status === 'completed') throw new Error(`run ${run.id} already completed; nothing to resume`);
  if (run.parent_checkpoint_id === null) throw new Error(`run ${run.id} lost its starting checkpoint; it cannot be resumed`);
  const config = schema.parse(run.config);
  const last = project.checkpoints.lastOfRun(run.id);
  project.runs.truncateAfter(run.id, last?.step ?? 0);
  return { config, parentId: run.parent_checkpoint_id, runId: run.id, last };
}

/** The run row, ready to train: created for a new run, then marked running with its backend and its first step. */
export function openRun(project: Project, runId: number | undefined, run: NewRun & { backend: string }, startStep: number, total: number): number {
  const id = runId ?? project.runs.createRun(run);
  holdRunLease(project, id);
  project.runs.setBackend(id, run.backend);
  project.runs.setProgress(id, startStep, total);
  project.runs.setStatus(id, 'running');
  return id;
}

/** The end of a run: 'stopped' (cancelled before its last step, resumable) or 'completed' with its final metrics. */
export function closeRun(project: Project, ctx: JobContext, id: number, stoppedAt: number | null, checkpoint: number): TrainStageResult {
  if (stoppedAt !== null) {
    project.runs.setStatus(id, 'stopped');
    ctx.log(`run ${id} stopped at step ${stoppedAt}; resume it with --resume ${id}`);
    throw new JobCancelled();
  }
  project.runs.setStatus(id, 'completed');
  return { run: id, checkpoint, metrics: project.runs.lastMetrics(id), stopped: false };
}

/** A run that failed says why; a cancelled one stays 'stopped' so it can be resumed. */
export function markFailed(project: Project, runId: number | undefined, e: unknown): void {
  if (runId !== undefined && !(e instanceof JobCancelled)) project.runs.setStatus(runId, 'failed', e instanceof Error ? e.message : String(e));
}

/** A record that does not fit the model's context: its name as the Data view shows it, and its length. */
export interface LongRecord {
  name: string;
  tokens: number;
}

/**
 * Long records are cut (the start of a prompt first, as packBatch and promptTail do), never
 * refused, in every pass of every stage; the run names them once, at its start, in the log and as
 * a 'long records' event the Train view lists with the health warnings. A resume does not repeat it.
 */
export function reportLongRecords(project: Project, ctx: JobContext, runId: number, records: LongRecord[], limit: number, cut: string): void {
  if (records.length === 0) return;
  if (project.runs.eventsFor(runId).some((e) => e.kind === LONG_RECORDS)) return;
  const shown = records.slice(0, 10).map((r) => `${r.name} (${r.tokens} tokens)`).join(', ');
  const more = records.length > 10 ? ` and ${records.length - 10} more` : '';
  const message = `${records.length} record${records.length === 1 ? ' is' : 's are'} longer than ${limit} tokens and lose ${cut}: ${shown}${more}`;
  ctx.log(message);
  project.runs.addEvent(runId, 0, LONG_RECORDS, message, { records: records.slice(0, 100) });
}

const LONG_RECORDS = 'long records';

/**
 * The voted prompts whose prompt plus longest voted response exceeds the context, or whose prompt
 * alone leaves fewer than `generateTokens` positions for sampling (the reward model's
 * normalisation samples after the training prompts).
 */
export function longPreferencePrompts(
  prefs: PreferenceData,
  enc: { prompt(text: string): number[]; response(text: string): number[] },
  nPositions: number,
  generateTokens = 0,
): LongRecord[] {
  const responseTokens = new Map<number, number>();
  const longestResponse = new Map<number, number>();
  for (const v of prefs.votes) {
    for (const r of [v.chosen, v.rejected]) {
      let n = responseTokens.get(r);
      if (n === undefined) responseTokens.set(r, (n = enc.response(prefs.responses.get(r)!).length));
      longestResponse.set(v.prompt_id, Math.max(n, longestResponse.get(v.prompt_id) ?? 0));
    }
  }
  const promptRoom = nPositions - Math.min(generateTokens, nPositions - 1);
  const long: LongRecord[] = [];
  for (const [id, response] of longestResponse) {
    const prompt = enc.prompt(prefs.prompts.get(id)!.text).length;
    if (prompt + response > nPositions || prompt > promptRoom) long.push({ name: `prompt #${id}`, tokens: prompt + response });
  }
  return long;
}

/**
 * Seconds left at `step` of `total`, from the pace of the steps this job has taken (a resumed run
 * starts a new count, so loading models is not averaged in twice). Undefined before the first step.
 */
export function etaClock(startStep: number): (step: number, total: number) => number | undefined {
  const started = performance.now();
  return (step, total) => {
    const done = step - startStep;
    if (done <= 0) return undefined;
    return Math.round(((total - step) * (performance.now() - started)) / 1000 / done);
  };
}

/**
 * The frozen reference of an RL stage (PPO, RLOO, GRPO) and its name, the run's default name:
 * with LoRA the policy's own base weights with no adapter (GPT.shareBase: no second copy), else
 * the parent checkpoint loaded as a model of its own.
 */
export function loadReference(project: Project, policy: GPT, parentId: number, seed: number): { model: GPT; name: string } {
  if (policy.lora) return { model: policy.shareBase(seed), name: project.checkpoints.get(parentId)?.name ?? `checkpoint ${parentId}` };
  const loaded = loadModel(project, parentId, seed);
  return { model: loaded.model, name: loaded.info.name };
}

// Runs jobs in worker threads so the main event loop (window, HTTP server) never stalls.
// Keeps the list of this session's jobs with their status in memory and turns worker
// messages into API events: job.progress while running, job.done + data.changed at the end.
import type { Worker } from 'node:worker_threads';
import { siblingModule, spawnModuleWorker } from '../engine/parallel/spawn-worker.js';
import type { Events, EventName, JobInfo } from '../shared/contract.js';
import { UserError } from '../shared/errors.js';
import type { FromWorker, ToWorker, WorkerInput } from './protocol.js';
import { writePriorityBuffer } from '../store/write-priority.js';
import { jobModuleUrl, jobRegistry, type JobRegistry } from './registry.js';

type Emit = <E extends EventName>(event: E, payload: Events[E]) => void;

export interface JobManagerOptions {
  emit: Emit;
  registry?: JobRegistry;
  onLog?: (job: JobInfo, message: string) => void;
}

interface Running {
  info: JobInfo;
  worker: Worker;
  finished: Promise<JobInfo>;
  cancelRequested: boolean;
}

/** A job that ignores its abort signal this long after a cancel is stopped by force. */
const CANCEL_GRACE_MS = 10_000;

/** Starts the job's worker thread (jobs/worker.ts, or worker.js in the build). */
function spawnWorker(input: WorkerInput): Worker {
  return spawnModuleWorker(siblingModule(import.meta.url, 'worker'), input);
}

export class JobManager {
  readonly #jobs = new Map<string, Running>();
  readonly #emit: Emit;
  readonly #registry: JobRegistry;
  readonly #onLog?: JobManagerOptions['onLog'];
  #nextId = 1;

  constructor(opts: JobManagerOptions) {
    this.#emit = opts.emit;
    this.#registry = opts.registry ?? jobRegistry;
    this.#onLog = opts.onLog;
  }

  start(kind: string, params: unknown, label: string, projectPath: string): JobInfo {
    const entry = Object.prototype.hasOwnProperty.call(this.#registry, kind) ? this.#registry[kind] : undefined;
    if (!entry) throw new UserError(`Unknown job kind "${kind}".`, 'unknown_job');
    const info: JobInfo = { id: `job-${this.#nextId++}`, kind, label, status: 'running', progress: null };
    const worker = spawnWorker({ moduleUrl: jobModuleUrl(entry), exportName: entry.export, projectPath, params, writePriority: writePriorityBuffer() });
    const finished = new Promise<JobInfo>((resolve) => {
      const finish = (patch: Partial<JobInfo>) => {
        if (info.status !== 'running') return;
        Object.assign(info, patch);
        this.#emit('job.done', { ...info });
        // Even a failed or cancelled run has written metrics and checkpoints on its way.
        this.#emit('data.changed', { kinds: entry.changes });
        resolve({ ...info });
      };
      // Every job's progress gets an ETA: a job that does not estimate its own is timed here, from
      // its first report on (so loading models is not counted as a step).
      let first: { at: number; done: number } | null = null;
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'progress') {
          const p = m.progress;
          first ??= { at: performance.now(), done: p.done };
          const paced = p.done - first.done;
          const eta = p.etaSeconds === undefined && paced > 0 && p.total > p.done ? Math.round(((p.total - p.done) * (performance.now() - first.at)) / 1000 / paced) : undefined;
          info.progress = eta === undefined ? p : { ...p, etaSeconds: eta };
          this.#emit('job.progress', { ...info });
        } else if (m.type === 'log') {
          this.#onLog?.(info, m.message);
        } else if (m.type === 'done') {
          // A job that stops early on cancel returns what it did so far.
          finish({ status: running.cancelRequested ? 'cancelled' : 'completed', result: m.result, ...(m.backend ? { backend: m.backend } : {}) });
        } else {
          finish(m.cancelled ? { status: 'cancelled' } : { status: 'failed', error: m.message });
        }
      });
      worker.on('error', (e) => finish({ status: 'failed', error: e.message }));
      worker.on('exit', (code) =>
        finish(
          running.cancelRequested
            ? { status: 'cancelled' }
            : { status: 'failed', error: `the job's worker stopped unexpectedly (exit ${code})` },
        ),
      );
    });
    const running: Running = { info, worker, finished, cancelRequested: false };
    this.#jobs.set(info.id, running);
    return { ...info };
  }

  list(): JobInfo[] {
    return [...this.#jobs.values()].map((j) => ({ ...j.info }));
  }

  get(id: string): JobInfo {
    return { ...this.#find(id).info };
  }

  /** Asks the job to stop; it finishes as 'cancelled' once it notices. */
  cancel(id: string, graceMs = CANCEL_GRACE_MS): JobInfo {
    const job = this.#find(id);
    if (job.info.status === 'running' && !job.cancelRequested) {
      job.cancelRequested = true;
      job.worker.postMessage({ type: 'cancel' } satisfies ToWorker);
      // SQLite rolls back whatever transaction a terminated worker had open.
      const force = setTimeout(() => void job.worker.terminate(), graceMs);
      void job.finished.then(() => clearTimeout(force));
    }
    return { ...job.info };
  }

  /** Resolves when the job has finished, whatever the outcome. */
  wait(id: string): Promise<JobInfo> {
    return this.#find(id).finished;
  }

  running(): JobInfo[] {
    return this.list().filter((j) => j.status === 'running');
  }

  /** Stops every worker (app quit); running jobs end as cancelled. */
  async close(graceMs = 2000): Promise<void> {
    const running = [...this.#jobs.values()].filter((j) => j.info.status === 'running');
    for (const j of running) this.cancel(j.info.id, graceMs);
    await Promise.all(running.map((j) => j.finished));
  }

  #find(id: string): Running {
    const job = this.#jobs.get(id);
    if (!job) throw new UserError(`No job "${id}".`, 'unknown_job');
    return job;
  }
}

// What every long-running piece of work (import, training, generation) sees. Jobs run in a
// worker thread under the app and in-process under the CLI; they know nothing about either.
import type { JobProgress } from '../shared/contract.js';
import type { Project } from '../store/project.js';

export interface JobContext {
  /** The project, opened by whoever runs the job (its own connection inside a worker). */
  project: Project;
  /** Aborted when the user cancels; check it between steps and stop cleanly. */
  signal: AbortSignal;
  progress(p: JobProgress): void;
  log(message: string): void;
}

export type JobFn<P, R> = (params: P, ctx: JobContext) => Promise<R>;

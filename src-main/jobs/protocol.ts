// Messages between the job manager (main thread) and a job's worker thread.
import type { JobProgress } from '../shared/contract.js';

export interface WorkerInput {
  moduleUrl: string;
  exportName: string;
  projectPath: string;
  params: unknown;
  /** The process's count of requests waiting for the write lock (store/write-priority.ts). */
  writePriority: SharedArrayBuffer;
}

export type ToWorker = { type: 'cancel' };

export type FromWorker =
  | { type: 'progress'; progress: JobProgress }
  | { type: 'log'; message: string }
  /** `backend`: the engine the job started, if it started one (engine/backend/backend-used.ts). */
  | { type: 'done'; result: unknown; backend?: string }
  | { type: 'failed'; message: string; cancelled: boolean };

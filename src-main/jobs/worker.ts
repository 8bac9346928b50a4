// The body of one job's worker thread: opens its own connection to the project (SQLite
// connections must not cross threads), runs the job, and reports back to the manager.
import { parentPort, workerData } from 'node:worker_threads';
import { backendUsed } from '../engine/backend/backend-used.js';
import { Project } from '../store/project.js';
import { useWritePriorityBuffer } from '../store/write-priority.js';
import { loadJobFn } from './load.js';
import { releaseRunLeases } from './run-lease.js';
import type { FromWorker, ToWorker, WorkerInput } from './protocol.js';
import { JobCancelled } from '../shared/errors.js';

const port = parentPort;
if (!port) throw new Error('jobs/worker.ts must run in a worker thread');
const input = workerData as WorkerInput;
useWritePriorityBuffer(input.writePriority);
const post = (m: FromWorker) => port.postMessage(m);

const PROGRESS_INTERVAL_MS = 50;
let lastProgress = 0;

const controller = new AbortController();
port.on('message', (m: ToWorker) => {
  if (m.type === 'cancel') controller.abort();
});

let project: Project | null = null;
try {
  const fn = await loadJobFn(input.moduleUrl, input.exportName);
  // The host checked the file when it opened the project; a job does not pay for quick_check again.
  project = Project.open(input.projectPath, { create: false, verify: false });
  const result = await fn(input.params, {
    project,
    signal: controller.signal,
    progress: (progress) => {
      // Jobs may report per line or per token; the UI needs a few updates a second at most.
      const now = Date.now();
      if (now - lastProgress < PROGRESS_INTERVAL_MS && progress.done < progress.total) return;
      lastProgress = now;
      // Memory of the whole engine process, so a run that grows is visible while it trains.
      post({ type: 'progress', progress: { ...progress, memoryMb: Math.round(process.memoryUsage().rss / 1048576) } });
    },
    log: (message) => post({ type: 'log', message }),
  });
  // Leases go back before the manager hears the job ended: a resume right after must find the run free.
  releaseRunLeases(project);
  const backend = backendUsed();
  post({ type: 'done', result, ...(backend ? { backend } : {}) });
} catch (e) {
  if (project) releaseRunLeases(project);
  const cancelled = e instanceof JobCancelled || controller.signal.aborted;
  post({ type: 'failed', message: e instanceof Error ? e.message : String(e), cancelled });
} finally {
  project?.close();
  port.close();
}

// The training jobs' side of run leases (store/run-leases.ts): take a run's lease, keep it alive
// with a heartbeat while the job runs, and give every lease back when the job ends — the job
// runners (jobs/worker.ts, jobs/run-in-process.ts) call releaseRunLeases whatever the outcome.
import { hostname } from 'node:os';
import { HEARTBEAT_MS } from '../store/run-leases.js';
import type { Project } from '../store/project.js';

interface Held {
  token: string;
  timer: NodeJS.Timeout;
}

const held = new Map<Project, Map<number, Held>>();

/** Who this process is, as the UI and CLI show a lease's owner. */
export function processOwner(): string {
  const who = process.versions.electron ? 'the RLHF Lab app' : `rlhf-lab ${process.argv[2] ?? ''}`.trim();
  return `${who} (pid ${process.pid} on ${hostname()})`;
}

/** Takes the run's lease (RunBusyError when another trainer holds it); a second call for the same run is a no-op. */
export function holdRunLease(project: Project, runId: number): void {
  const mine = held.get(project) ?? new Map<number, Held>();
  held.set(project, mine);
  if (mine.has(runId)) return;
  const token = project.runLeases.acquire(runId, processOwner());
  // unref: the heartbeat never keeps a finished process alive.
  const timer = setInterval(() => {
    if (project.db.open) project.runLeases.heartbeat(runId, token);
  }, HEARTBEAT_MS).unref();
  mine.set(runId, { token, timer });
}

export function releaseRunLeases(project: Project): void {
  const mine = held.get(project);
  if (!mine) return;
  for (const [runId, h] of mine) {
    clearInterval(h.timer);
    if (project.db.open) project.runLeases.release(runId, h.token);
  }
  held.delete(project);
}

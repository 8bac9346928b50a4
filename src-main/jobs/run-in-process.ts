// The CLI runs the same job functions as the app, in its own process (no worker needed:
// nothing else shares the event loop). Ctrl-C aborts the signal.
import type { JobProgress } from '../shared/contract.js';
import type { Project } from '../store/project.js';
import { loadJobFn } from './load.js';
import { releaseRunLeases } from './run-lease.js';
import { jobModuleUrl, jobRegistry, type JobRegistry } from './registry.js';

export async function runJobInProcess<R = unknown>(
  kind: string,
  params: unknown,
  project: Project,
  onProgress: (p: JobProgress) => void = () => {},
  opts: { signal?: AbortSignal; log?: (message: string) => void; registry?: JobRegistry } = {},
): Promise<R> {
  const registry = opts.registry ?? jobRegistry;
  const entry = Object.prototype.hasOwnProperty.call(registry, kind) ? registry[kind] : undefined;
  if (!entry) throw new Error(`Unknown job kind "${kind}".`);
  const fn = await loadJobFn(jobModuleUrl(entry), entry.export);
  try {
    return (await fn(params, {
      project,
      signal: opts.signal ?? new AbortController().signal,
      progress: onProgress,
      log: opts.log ?? (() => {}),
    })) as R;
  } finally {
    releaseRunLeases(project);
  }
}

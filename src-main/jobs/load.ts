// Loads a job's function from its module (shared by the worker and the in-process runner).
import type { JobFn } from './types.js';

export async function loadJobFn(moduleUrl: string, exportName: string): Promise<JobFn<unknown, unknown>> {
  const mod = (await import(moduleUrl)) as Record<string, unknown>;
  const fn = mod[exportName];
  if (typeof fn !== 'function') throw new Error(`${moduleUrl} does not export a job function "${exportName}"`);
  return fn as JobFn<unknown, unknown>;
}

// What an API handler can reach. One AppServices per process (desktop app or `serve`).
import type { Project } from '../store/project.js';
import type { Events, EventName, JobInfo } from '../shared/contract.js';

export interface AppServices {
  /** The open project; throws UserError('no_project') when none is open. */
  project(): Project;
  hasProject(): boolean;
  openProject(path: string, opts?: { create?: boolean }): Project;
  /** Start a job registered in jobs/registry.ts; it runs in the engine worker. */
  startJob(kind: string, params: unknown, label: string): JobInfo;
  emit<E extends EventName>(event: E, payload: Events[E]): void;
}

export interface ApiContext {
  app: AppServices;
  /** The annotator bound to the caller's invite token in LAN mode; null for the local user. */
  annotatorId: number | null;
}

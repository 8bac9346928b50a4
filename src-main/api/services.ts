// The app's services, one instance per process (desktop app or `serve`): the open project,
// recent projects, push events and the job runner. Plain Node, no Electron, so it is tested
// directly and shared by both transports.
import { EventEmitter } from 'node:events';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { BUNDLED_DEMO } from '../paths.js';
import { JobManager } from '../jobs/manager.js';
import type { JobRegistry } from '../jobs/registry.js';
import { checkWritableLocation, ProjectLocationError } from '../store/location.js';
import { Project } from '../store/project.js';
import type { AppServices } from './context.js';
import type { Events, EventName, JobInfo, ProjectInfo } from './contract.js';
import { UserError } from './router.js';
import { SettingsStore } from './settings.js';

export type EventListener = <E extends EventName>(event: E, payload: Events[E]) => void;

export interface ServicesOptions {
  /** Directory for settings.json and the user's copy of the demo project. */
  dataDir: string;
  demoPath?: string;
  jobRegistry?: JobRegistry;
  version?: string;
}

export class Services implements AppServices {
  readonly settings: SettingsStore;
  readonly jobs: JobManager;
  readonly version: string;
  /** Base URL when this process serves browser mode on the LAN (invite links point there). */
  lanUrl: string | null = null;
  readonly #dataDir: string;
  readonly #demoPath: string;
  readonly #events = new EventEmitter();
  #project: Project | null = null;

  constructor(opts: ServicesOptions) {
    this.#dataDir = opts.dataDir;
    this.#demoPath = opts.demoPath ?? BUNDLED_DEMO;
    this.version = opts.version ?? '0.0.0';
    this.settings = new SettingsStore(opts.dataDir);
    this.jobs = new JobManager({ emit: (e, p) => this.emit(e, p), registry: opts.jobRegistry });
    this.#events.setMaxListeners(0);
  }

  project(): Project {
    if (!this.#project) throw new UserError('No project is open. Create or open a project first.', 'no_project');
    return this.#project;
  }

  hasProject(): boolean {
    return this.#project !== null;
  }

  openProject(path: string, opts: { create?: boolean } = {}): Project {
    const abs = resolve(path);
    if (!opts.create && !existsSync(abs)) throw new UserError(`No project file at ${abs}.`, 'not_found');
    if (opts.create && existsSync(abs)) throw new UserError(`${abs} already exists; open it instead.`, 'exists');
    if (opts.create) {
      try {
        checkWritableLocation(abs);
      } catch (e) {
        if (e instanceof ProjectLocationError) throw new UserError(e.message, 'bad_location');
        throw e;
      }
      mkdirSync(dirname(abs), { recursive: true });
    }
    let project: Project;
    try {
      project = Project.open(abs, { create: opts.create ?? false });
    } catch (e) {
      throw new UserError(`Cannot open ${abs}: ${e instanceof Error ? e.message : String(e)}`, 'open_failed');
    }
    // This connection serves requests on the event loop: it never waits for another connection's
    // write lock synchronously (that would freeze every request); a busy call is retried
    // asynchronously by the router instead (api/router.ts).
    project.db.pragma('busy_timeout = 0');
    this.#project?.close();
    this.#project = project;
    this.settings.rememberProject(abs);
    this.emit('project.changed', this.projectInfo());
    return project;
  }

  /** Opens the user's copy of the demo project, copying the bundled one on first use. */
  openDemo(): Project {
    const bundled = this.demoPath();
    if (!bundled) throw new UserError('This build has no demo project.', 'no_demo');
    const copy = this.#demoCopyPath();
    if (!existsSync(copy)) {
      mkdirSync(dirname(copy), { recursive: true });
      copyFileSync(bundled, copy);
    }
    return this.openProject(copy);
  }

  demoPath(): string | null {
    return existsSync(this.#demoPath) ? this.#demoPath : null;
  }

  projectInfo(): ProjectInfo | null {
    const p = this.#project;
    if (!p) return null;
    return {
      path: p.path,
      name: basename(p.path, extname(p.path)),
      isDemo: resolve(p.path) === this.#demoCopyPath(),
      schemaVersion: p.db.pragma('user_version', { simple: true }) as number,
      readOnly: p.readOnly,
    };
  }

  /** The compute backend the project's latest run used (runs record it), or null before any run. */
  backendName(): string | null {
    if (!this.#project) return null;
    const row = this.#project.db.prepare('SELECT backend FROM runs WHERE backend IS NOT NULL ORDER BY id DESC LIMIT 1').get() as
      | { backend: string }
      | undefined;
    return row?.backend ?? null;
  }

  recentProjects(): string[] {
    return this.settings.get().recentProjects.filter((p) => existsSync(p));
  }

  startJob(kind: string, params: unknown, label: string): JobInfo {
    const info = this.jobs.start(kind, params, label, this.project().path);
    this.emit('job.progress', info);
    return info;
  }

  emit<E extends EventName>(event: E, payload: Events[E]): void {
    this.#events.emit('event', event, payload);
  }

  /** Every event, in order; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.#events.on('event', listener);
    return () => this.#events.off('event', listener);
  }

  async close(): Promise<void> {
    await this.jobs.close();
    this.#project?.close();
    this.#project = null;
  }

  #demoCopyPath(): string {
    return resolve(join(this.#dataDir, 'demo.rlhf'));
  }
}

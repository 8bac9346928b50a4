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
import type { Events, EventName, JobInfo, ProjectInfo } from '../shared/contract.js';
import { UserError } from '../shared/errors.js';
import { SettingsStore } from './settings.js';

/**
 * Who an event is for: every connection (undefined), one browser session (a project switched in
 * that tab), or the connections that follow the process's project (`followers`: the desktop app,
 * unbound tabs and invited teammates).
 */
export type EventAudience = { session: string } | { followers: true } | undefined;
export type EventListener = <E extends EventName>(event: E, payload: Events[E], audience?: EventAudience) => void;

/** A browser tab's id: letters, digits and dashes (the renderer makes one per tab, api.ts). */
export const SESSION_ID = /^[A-Za-z0-9-]{8,64}$/;

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
  /** The backend this process's engine last ran a job on (job.done says it), shown before any run recorded one. */
  #engineBackend: string | null = null;
  readonly #events = new EventEmitter();
  #project: Project | null = null;
  /**
   * Each browser tab keeps the project it opened (issue: a switch in one tab moved every tab and
   * every teammate): tab session → project path, and the projects open for tabs besides the
   * process's own `#project` (which the desktop app, unbound tabs and teammates follow).
   */
  #sessions = new Map<string, string>();
  #pool = new Map<string, Project>();
  /**
   * The job writing each comparison set this process started (Compare view), so a set still marked
   * running whose job is gone — after a crash or a restart — shows as interrupted. Process state, not
   * project state: a new process has no jobs, and every set it finds running was interrupted.
   */
  readonly comparisonJobs = new Map<number, string>();
  /**
   * The resume job this process started for each run (Train view), so a second resume sent before
   * the first job has taken the run's lease is refused. Process state, like `comparisonJobs`.
   */
  readonly resumeJobs = new Map<number, string>();
  /** The demo job this process started on each project (path → job id), so a second start while it runs is refused. */
  readonly demoJobs = new Map<string, string>();

  constructor(opts: ServicesOptions) {
    this.#dataDir = opts.dataDir;
    this.#demoPath = opts.demoPath ?? BUNDLED_DEMO;
    this.version = opts.version ?? '0.0.0';
    this.settings = new SettingsStore(opts.dataDir);
    this.jobs = new JobManager({ emit: (e, p) => this.emit(e, p), registry: opts.jobRegistry });
    this.#events.setMaxListeners(0);
    this.subscribe((event, payload) => {
      if (event === 'job.done' && (payload as JobInfo).backend) this.#engineBackend = (payload as JobInfo).backend!;
    });
  }

  project(): Project {
    if (!this.#project) throw new UserError('No project is open. Create or open a project first.', 'no_project');
    return this.#project;
  }

  hasProject(): boolean {
    return this.#project !== null;
  }

  openProject(path: string, opts: { create?: boolean } = {}): Project {
    const project = this.#open(path, opts);
    const old = this.#project;
    this.#project = project;
    if (old && old !== project) this.#release(old);
    this.settings.rememberProject(project.path);
    // Only the connections that follow the process's project switch; tabs that chose theirs stay.
    this.emit('project.changed', this.projectInfo(), { followers: true });
    return project;
  }

  /** The project at `path`: the one already open (for the process or another tab), or opened now. */
  #open(path: string, opts: { create?: boolean } = {}): Project {
    const abs = resolve(path);
    const already = this.#project?.path === abs ? this.#project : this.#pool.get(abs);
    if (already && !opts.create) return already;
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
    return project;
  }

  /** Closes a project nobody uses any more (neither the process nor a tab). */
  #release(project: Project): void {
    const path = project.path;
    if (this.#project === project || [...this.#sessions.values()].includes(path)) {
      if (this.#project !== project) this.#pool.set(path, project);
      return;
    }
    this.#pool.delete(path);
    project.close();
  }

  /**
   * The services as one browser tab sees them: its own project once it opened one (else the
   * process's), a switch announced to that tab only. A null or malformed session is the process.
   */
  forSession(session: string | null | undefined): Services {
    if (!session || !SESSION_ID.test(session)) return this;
    const own = () => {
      const path = this.#sessions.get(session);
      return path === undefined ? this.#project : (this.#pool.get(path) ?? (this.#project?.path === path ? this.#project : null));
    };
    const openFor = (path: string, opts: { create?: boolean } = {}): Project => {
      const project = this.#open(path, opts);
      const before = own();
      this.#sessions.set(session, project.path);
      if (project !== this.#project) this.#pool.set(project.path, project);
      if (before && before !== project) this.#release(before);
      // A tab's first project becomes the process's when it has none (what unbound tabs then see).
      if (!this.#project) {
        this.#project = project;
        this.#pool.delete(project.path);
      }
      this.settings.rememberProject(project.path);
      this.emit('project.changed', this.#info(project), { session });
      return project;
    };
    return this.#view({
      project: () => own() ?? this.project(),
      hasProject: () => own() !== null,
      openProject: openFor,
      openDemo: () => openFor(this.#demoCopy()),
      projectInfo: () => this.#info(own()),
      backendName: () => this.#backend(own()),
    });
  }

  /** The services bound to one project, as an invited teammate sees them (the project of their invite). */
  forProject(path: string): Services {
    if (this.#project?.path === path) return this;
    const project = this.#pool.get(path);
    if (!project) return this;
    return this.#view({ project: () => project, hasProject: () => true, projectInfo: () => this.#info(project), backendName: () => this.#backend(project) });
  }

  /** The open project (the process's first, then the tabs') whose invites hold this token. */
  findInvite(token: string): { annotatorId: number; path: string } | null {
    for (const p of [...(this.#project ? [this.#project] : []), ...this.#pool.values()]) {
      const annotatorId = p.invites.annotatorFor(token);
      if (annotatorId !== null) return { annotatorId, path: p.path };
    }
    return null;
  }

  /** Whether a tab has chosen its own project (then only its own switches reach it). */
  isBound(session: string): boolean {
    return this.#sessions.has(session);
  }

  /**
   * A view that is still `instanceof Services` (handlers check it) with the project-facing methods
   * replaced; everything else — jobs, settings, events — is the process's. Methods that read private
   * fields are bound to the process object, since a view has none of its own.
   */
  #view(overrides: Pick<Services, 'project' | 'hasProject' | 'projectInfo' | 'backendName'> & Partial<Pick<Services, 'openProject' | 'openDemo'>>): Services {
    const view = Object.create(this) as Services;
    const bound = { emit: this.emit.bind(this), subscribe: this.subscribe.bind(this), demoPath: this.demoPath.bind(this), close: this.close.bind(this), forSession: this.forSession.bind(this), forProject: this.forProject.bind(this), findInvite: this.findInvite.bind(this), isBound: this.isBound.bind(this) };
    const startJob = (kind: string, params: unknown, label: string): JobInfo => {
      const info = this.jobs.start(kind, params, label, view.project().path);
      this.emit('job.progress', info);
      return info;
    };
    return Object.assign(view, bound, { startJob, openProject: this.openProject.bind(this), openDemo: this.openDemo.bind(this) }, overrides);
  }

  /** Opens the user's copy of the demo project, copying the bundled one on first use. */
  openDemo(): Project {
    return this.openProject(this.#demoCopy());
  }

  demoPath(): string | null {
    return existsSync(this.#demoPath) ? this.#demoPath : null;
  }

  projectInfo(): ProjectInfo | null {
    return this.#info(this.#project);
  }

  #info(p: Project | null): ProjectInfo | null {
    if (!p) return null;
    return {
      path: p.path,
      name: basename(p.path, extname(p.path)),
      isDemo: resolve(p.path) === this.#demoCopyPath(),
      schemaVersion: p.db.pragma('user_version', { simple: true }) as number,
      readOnly: p.readOnly,
    };
  }

  /**
   * The compute backend the engine runs on: the one this process's last engine job used (a
   * generation or a new model starts the engine without a run), else the one the project's latest
   * run recorded, else null (the engine has not started).
   */
  backendName(): string | null {
    return this.#backend(this.#project);
  }

  #backend(project: Project | null): string | null {
    if (!project) return null;
    const row = project.db.prepare('SELECT backend FROM runs WHERE backend IS NOT NULL ORDER BY id DESC LIMIT 1').get() as
      | { backend: string }
      | undefined;
    return this.#engineBackend ?? row?.backend ?? null;
  }

  recentProjects(): string[] {
    return this.settings.get().recentProjects.filter((p) => existsSync(p));
  }

  startJob(kind: string, params: unknown, label: string): JobInfo {
    const info = this.jobs.start(kind, params, label, this.project().path);
    this.emit('job.progress', info);
    return info;
  }

  emit<E extends EventName>(event: E, payload: Events[E], audience?: EventAudience): void {
    this.#events.emit('event', event, payload, audience);
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
    for (const p of this.#pool.values()) p.close();
    this.#pool.clear();
    this.#sessions.clear();
  }

  /** The user's copy of the demo project, copied from the bundled one on first use. */
  #demoCopy(): string {
    const bundled = this.demoPath();
    if (!bundled) throw new UserError('This build has no demo project.', 'no_demo');
    const copy = this.#demoCopyPath();
    if (!existsSync(copy)) {
      mkdirSync(dirname(copy), { recursive: true });
      copyFileSync(bundled, copy);
    }
    return copy;
  }

  #demoCopyPath(): string {
    return resolve(join(this.#dataDir, 'demo.rlhf'));
  }
}

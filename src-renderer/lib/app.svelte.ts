// App-wide state: which view is shown, the open project, engine info, and the event channel.
import { untrack } from 'svelte';
import type { AnnotatorInfo, Output, ProjectInfo, TrashEntryInfo } from '../../src-main/shared/contract.js';
import type { Client, ConnectionState } from './api';
import type { DeletableKind } from '../../src-main/shared/vocabulary.js';

export const views = [
  { id: 'data', label: 'Data' },
  { id: 'label', label: 'Label' },
  { id: 'train', label: 'Train' },
  { id: 'compare', label: 'Compare' },
  { id: 'models', label: 'Models' },
] as const;
export type ViewId = (typeof views)[number]['id'];

export type AppInfo = Output<'app.info'>;

export class AppState {
  readonly client: Client;
  view = $state<ViewId>('data');
  #project = $state<ProjectInfo | null>(null);
  #info = $state<AppInfo | null>(null);
  #connection = $state<ConnectionState>('connecting');
  #startError = $state<string | null>(null);
  #me = $state.raw<AnnotatorInfo | null>(null);
  /** Bumped on every `data.changed` event; views re-query when it changes. */
  #dataVersion = $state(0);
  /** Jobs whose first progress event has been seen (not reactive: only the info refresh reads it). */
  #jobsSeen = new Set<string>();

  constructor(client: Client) {
    this.client = client;
  }

  get project(): ProjectInfo | null {
    return this.#project;
  }
  get info(): AppInfo | null {
    return this.#info;
  }
  get connection(): ConnectionState {
    return this.#connection;
  }
  get startError(): string | null {
    return this.#startError;
  }
  /**
   * True in a teammate's browser (a LAN invite): the server refuses them the host's work
   * (projects, imports, training, models, task management), so views hide those controls.
   */
  get teammate(): boolean {
    return this.#me !== null;
  }
  /** The annotator a LAN invite signs this browser in as; null for the host. */
  get me(): AnnotatorInfo | null {
    return this.#me;
  }
  get dataVersion(): number {
    return this.#dataVersion;
  }

  /**
   * Subscribes to events and loads the initial state; returns the unsubscribe function.
   * Untracked, so the $effect that calls it does not re-run (and re-subscribe) on state it reads.
   */
  start(): () => void {
    return untrack(() => this.#subscribe());
  }

  #subscribe(): () => void {
    const offs = [
      this.client.onConnection((s) => {
        const reconnected = this.#connection === 'reconnecting' && s === 'open';
        this.#connection = s;
        // Anything may have changed while the server was away: reload the state and the tables.
        if (reconnected) void this.refresh().then(() => this.#dataVersion++);
      }),
      this.client.on('project.changed', (p) => {
        this.#project = p;
        this.#dataVersion++;
        void this.refreshInfo();
      }),
      this.client.on('data.changed', () => this.#dataVersion++),
      // Imports started from the File menu, and training runs, change what the views show.
      this.client.on('job.done', (job) => {
        if (job.status === 'completed') this.#dataVersion++;
        void this.refreshInfo();
      }),
      // The status bar follows the engine: a job's first progress comes after its run recorded the backend.
      this.client.on('job.progress', (job) => {
        if (!job.progress || this.#jobsSeen.has(job.id)) return;
        this.#jobsSeen.add(job.id);
        void this.refreshInfo();
      }),
    ];
    void this.refresh();
    return () => offs.forEach((off) => off());
  }

  async refresh(): Promise<void> {
    try {
      const [info, project, me] = await Promise.all([
        this.client.call('app.info', {}),
        this.client.call('project.current', {}),
        // Null for the host; only an invite binds the caller to an annotator.
        this.client.call('annotators.me', {}).catch(() => null),
      ]);
      this.#info = info;
      this.#project = project;
      this.#me = me;
      this.#startError = null;
    } catch (e) {
      this.#startError = e instanceof Error ? e.message : String(e);
    }
  }

  async refreshInfo(): Promise<void> {
    this.#info = await this.client.call('app.info', {}).catch(() => this.#info);
  }

  /** Opens (or, with create, creates) a project file; throws ApiCallError with the server's message. */
  async openProject(path: string, create: boolean): Promise<void> {
    const before = this.#project;
    this.#project = await this.client.call(create ? 'project.create' : 'project.open', { path });
    this.#dataVersion++;
    this.#announceSwitch(before);
    await this.refreshInfo();
  }

  async openDemo(): Promise<void> {
    const before = this.#project;
    this.#project = await this.client.call('project.openDemo', {});
    this.#dataVersion++;
    this.#announceSwitch(before);
  }

  /** Said in the tab that switched, for a few seconds: the switch is this tab's alone. */
  switchNotice = $state<string | null>(null);
  #noticeTimer: ReturnType<typeof setTimeout> | undefined;
  #announceSwitch(before: ProjectInfo | null): void {
    if (!before || !this.#project || before.path === this.#project.path) return;
    const others = this.client.transport === 'http' ? ' Other tabs and teammates stay on theirs.' : '';
    this.switchNotice = `Switched from ${before.name} to ${this.#project.name} in this tab.${others}`;
    clearTimeout(this.#noticeTimer);
    this.#noticeTimer = setTimeout(() => (this.switchNotice = null), 8000);
  }

  /** What this window deleted last, until it is undone or dismissed (the undo toast shows it). */
  lastDeleted = $state.raw<TrashEntryInfo | null>(null);

  /** Deletes a record and its dependents (the caller showed them first); undoable until the project closes. */
  async remove(kind: DeletableKind, id: number): Promise<TrashEntryInfo> {
    const entry = await this.client.call('data.delete', { kind, id });
    this.lastDeleted = entry;
    this.#dataVersion++;
    return entry;
  }

  async restore(trashId: number): Promise<void> {
    await this.client.call('data.restore', { trashId });
    if (this.lastDeleted?.id === trashId) this.lastDeleted = null;
    this.#dataVersion++;
  }

  /** Called after this window changed data itself (its own `data.changed` may not echo back). */
  dataChanged(): void {
    this.#dataVersion++;
  }
}

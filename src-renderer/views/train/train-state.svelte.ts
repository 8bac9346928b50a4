// The Train view's state: the runs of the project, which are selected and overlaid, and their
// metric series, fetched incrementally (only steps after the last one held) while runs are live.
import { SvelteSet } from 'svelte/reactivity';
import type { RunEventInfo, RunInfo, RunSample, Series, StageInfo } from '../../../src-main/shared/contract.js';
import type { Client } from '../../lib/api';

/** How often live curves refresh: fast enough to watch, slow enough to leave the UI idle. */
const LIVE_MS = 1000;
export const runColours = ['#2f5bd3', '#d9482b', '#17803d', '#8e44ad', '#c28a00', '#0e8a9a', '#b83280', '#5b6b7f'];

export class TrainState {
  #client: Client;
  runs = $state.raw<RunInfo[]>([]);
  stages = $state.raw<StageInfo[]>([]);
  selected = $state<number | null>(null);
  overlay = new SvelteSet<number>();
  /** Per run: series per key. Replaced (not mutated) on every fetch so charts redraw. */
  series = $state.raw<Record<number, Record<string, Series>>>({});
  samples = $state.raw<RunSample[]>([]);
  events = $state.raw<RunEventInfo[]>([]);
  smoothing = $state(0.6);
  logY = $state(false);
  xAxis = $state<'step' | 'time'>('step');
  error = $state<string | null>(null);
  #timer: ReturnType<typeof setInterval> | null = null;
  #busy = false;
  /** The job of a run the user just started, until its run id is known. */
  #awaiting: string | null = null;

  constructor(client: Client) {
    this.#client = client;
  }

  get run(): RunInfo | null {
    return this.runs.find((r) => r.id === this.selected) ?? null;
  }

  /** Runs drawn on the charts: the selected one plus those ticked for overlay. */
  get shown(): RunInfo[] {
    return this.runs.filter((r) => r.id === this.selected || this.overlay.has(r.id));
  }

  colour(runId: number): string {
    const index = this.runs.length - 1 - this.runs.findIndex((r) => r.id === runId);
    return runColours[Math.max(0, index) % runColours.length]!;
  }

  /** Subscribes to run events; `host` also loads the stage forms (refused to LAN teammates). */
  start(host = true): () => void {
    if (host) void this.#client.call('train.stages', {}).then((s) => (this.stages = s)).catch((e) => (this.error = String(e.message ?? e)));
    const offs = [
      this.#client.on('job.done', (job) => {
        if (job.kind.startsWith('train-')) void this.tick(true);
      }),
      // A run deleted or brought back (data.delete / data.restore), here or in another window.
      this.#client.on('data.changed', (d) => {
        if (d.kinds.includes('run')) void this.tick(true);
      }),
      this.#client.on('job.progress', (job) => {
        // The run the user just started exists now: open it so they watch it from its first step.
        const runId = job.progress?.runId;
        if (job.id === this.#awaiting && runId) {
          this.#awaiting = null;
          this.selected = runId;
          void this.tick(true);
        }
      }),
    ];
    void this.tick(true);
    this.#timer = setInterval(() => void this.tick(false), LIVE_MS);
    return () => {
      offs.forEach((off) => off());
      if (this.#timer) clearInterval(this.#timer);
    };
  }

  /** Follow the run a newly started job creates. */
  follow(jobId: string): void {
    this.#awaiting = jobId;
  }

  select(runId: number): void {
    if (this.selected === runId) return;
    this.selected = runId;
    this.samples = [];
    this.events = [];
    void this.tick(true);
  }

  toggleOverlay(runId: number): void {
    if (this.overlay.has(runId)) this.overlay.delete(runId);
    else this.overlay.add(runId);
    void this.tick(true);
  }

  /** One refresh: the run list, new metric points of shown runs, and the selected run's tables. */
  async tick(force: boolean): Promise<void> {
    const live = this.#awaiting !== null || this.runs.some((r) => r.status === 'running');
    if ((!force && !live) || this.#busy) return;
    this.#busy = true;
    try {
      this.runs = await this.#client.call('runs.list', {});
      // The started run may show up here before its progress event does.
      const started = this.#awaiting ? this.runs.find((r) => r.job?.id === this.#awaiting) : undefined;
      if (started) {
        this.#awaiting = null;
        this.selected = started.id;
      }
      if (this.selected === null && this.runs.length) this.selected = this.runs[0]!.id;
      await this.#fetchSeries();
      const run = this.run;
      if (run && (force || run.status === 'running')) {
        [this.samples, this.events] = await Promise.all([
          this.#client.call('runs.samples', { runId: run.id }),
          this.#client.call('runs.events', { runId: run.id }),
        ]);
      }
      this.error = null;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    } finally {
      this.#busy = false;
    }
  }

  async #fetchSeries(): Promise<void> {
    const ids = this.shown.map((r) => r.id);
    if (!ids.length) return;
    const since: Record<string, number> = {};
    for (const id of ids) {
      const held = this.series[id];
      if (held) since[id] = Math.max(-1, ...Object.values(held).map((s) => s.step[s.step.length - 1] ?? -1));
    }
    const fresh = await this.#client.call('runs.metrics', { runIds: ids, since });
    const next = { ...this.series };
    for (const [id, keys] of Object.entries(fresh)) {
      const held = { ...(next[Number(id)] ?? {}) };
      for (const [key, s] of Object.entries(keys)) {
        const old = held[key];
        // A resumed run re-logs steps after its last checkpoint: drop what the new points replace.
        const keep = old ? old.step.findIndex((st) => st >= (s.step[0] ?? Infinity)) : -1;
        const cut = (a: number[]) => (keep >= 0 ? a.slice(0, keep) : a);
        held[key] = old
          ? { step: [...cut(old.step), ...s.step], value: [...cut(old.value), ...s.value], time: [...cut(old.time), ...s.time] }
          : s;
      }
      next[Number(id)] = held;
    }
    this.series = next;
  }

  /** After a resume the server truncates what came after the last checkpoint: refetch whole. */
  forget(runId: number): void {
    const next = { ...this.series };
    delete next[runId];
    this.series = next;
  }

  async call<T>(fn: () => Promise<T>): Promise<T | null> {
    try {
      const v = await fn();
      this.error = null;
      return v;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
      return null;
    }
  }
}

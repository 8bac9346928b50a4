// Training runs of every stage and what they log as they go: metrics (one value per key and step),
// sample tables and health events. Shared by SFT, reward modeling, PPO/DPO and the Train view.
import type { DB } from './db.js';
import type { RunStage } from '../shared/vocabulary.js';

export type RunStatus = 'pending' | 'running' | 'stopped' | 'completed' | 'failed';

export interface Run {
  id: number;
  stage: RunStage;
  name: string;
  config: Record<string, unknown>;
  status: RunStatus;
  parent_checkpoint_id: number | null;
  backend: string | null;
  error: string | null;
  total_steps: number | null;
  step: number;
  /** Labels a team files runs under ("baseline", "β sweep"); the notebook of the Train view. */
  tags: string[];
  note: string;
  created_at: number;
  updated_at: number;
}

export interface NewRun {
  stage: RunStage;
  name: string;
  /** The fully resolved config. */
  config: Record<string, unknown>;
  parentCheckpointId?: number | null;
  backend?: string | null;
  totalSteps?: number | null;
  status?: RunStatus;
}

export interface MetricPoint {
  step: number;
  value: number;
  time: number;
}

export interface NewSample {
  prompt: string;
  response: string;
  score?: number | null;
  kl?: number | null;
  extra?: Record<string, unknown> | null;
}

export interface Sample {
  id: number;
  run_id: number;
  step: number;
  prompt: string;
  response: string;
  score: number | null;
  kl: number | null;
  extra: Record<string, unknown> | null;
}

export interface RunEvent {
  id: number;
  run_id: number;
  step: number;
  kind: string;
  message: string;
  data: unknown;
  time: number;
}

interface RunRow extends Omit<Run, 'config' | 'tags'> {
  config: string;
  tags: string;
}

export class RunsRepo {
  private readonly insertRun;
  private readonly getRun;
  private readonly listAll;
  private readonly listByStage;
  private readonly statusStmt;
  private readonly progressStmt;
  private readonly backendStmt;
  private readonly deleteStmt;
  private readonly metricStmt;
  private readonly metricsAll;
  private readonly lastMetricsStmt;
  private readonly sampleStmt;
  private readonly samplesStmt;
  private readonly eventStmt;
  private readonly eventsStmt;
  private readonly truncMetrics;
  private readonly truncSamples;
  private readonly truncEvents;
  private readonly countStmt;

  constructor(private readonly db: DB) {
    this.insertRun = db.prepare<[RunStage, string, string, RunStatus, number | null, string | null, number | null, number, number]>(
      `INSERT INTO runs (stage, name, config, status, parent_checkpoint_id, backend, total_steps, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.getRun = db.prepare<[number], RunRow>('SELECT * FROM runs WHERE id = ?');
    this.listAll = db.prepare<[], RunRow>('SELECT * FROM runs ORDER BY id DESC');
    this.listByStage = db.prepare<[RunStage], RunRow>('SELECT * FROM runs WHERE stage = ? ORDER BY id DESC');
    this.statusStmt = db.prepare<[RunStatus, string | null, number, number]>(
      'UPDATE runs SET status = ?, error = ?, updated_at = ? WHERE id = ?',
    );
    this.progressStmt = db.prepare<[number, number | null, number, number]>(
      'UPDATE runs SET step = ?, total_steps = coalesce(?, total_steps), updated_at = ? WHERE id = ?',
    );
    this.backendStmt = db.prepare<[string, number, number]>('UPDATE runs SET backend = ?, updated_at = ? WHERE id = ?');
    this.deleteStmt = db.prepare<[number]>('DELETE FROM runs WHERE id = ?');
    // A resumed run re-logs the steps after its last checkpoint: the newer value wins.
    this.metricStmt = db.prepare<[number, number, string, number, number]>(
      'INSERT OR REPLACE INTO metrics (run_id, step, key, value, time) VALUES (?, ?, ?, ?, ?)',
    );
    this.metricsAll = db.prepare<[number, number], { key: string; step: number; value: number; time: number }>(
      'SELECT key, step, value, time FROM metrics WHERE run_id = ? AND step > ? ORDER BY key, step',
    );
    this.lastMetricsStmt = db.prepare<[number, number], { key: string; value: number }>(
      `SELECT m.key, m.value FROM metrics m
       JOIN (SELECT key, max(step) AS step FROM metrics WHERE run_id = ? GROUP BY key) l ON l.key = m.key AND l.step = m.step
       WHERE m.run_id = ?`,
    );
    this.sampleStmt = db.prepare<[number, number, string, string, number | null, number | null, string | null]>(
      'INSERT INTO samples (run_id, step, prompt, response, score, kl, extra) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.samplesStmt = db.prepare<[number, number], Omit<Sample, 'extra'> & { extra: string | null }>(
      'SELECT * FROM samples WHERE run_id = ? AND step > ? ORDER BY step, id',
    );
    this.eventStmt = db.prepare<[number, number, string, string, string | null, number]>(
      'INSERT INTO run_events (run_id, step, kind, message, data, time) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.eventsStmt = db.prepare<[number], Omit<RunEvent, 'data'> & { data: string | null }>(
      'SELECT * FROM run_events WHERE run_id = ? ORDER BY step, id',
    );
    this.truncMetrics = db.prepare<[number, number]>('DELETE FROM metrics WHERE run_id = ? AND step > ?');
    this.truncSamples = db.prepare<[number, number]>('DELETE FROM samples WHERE run_id = ? AND step > ?');
    this.truncEvents = db.prepare<[number, number]>('DELETE FROM run_events WHERE run_id = ? AND step > ?');
    this.countStmt = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM runs');
  }

  createRun(r: NewRun): number {
    const now = Date.now();
    const res = this.insertRun.run(
      r.stage,
      r.name,
      JSON.stringify(r.config),
      r.status ?? 'pending',
      r.parentCheckpointId ?? null,
      r.backend ?? null,
      r.totalSteps ?? null,
      now,
      now,
    );
    return Number(res.lastInsertRowid);
  }

  get(id: number): Run | null {
    const row = this.getRun.get(id);
    return row ? toRun(row) : null;
  }

  listRuns(stage?: RunStage): Run[] {
    return (stage ? this.listByStage.all(stage) : this.listAll.all()).map(toRun);
  }

  setStatus(id: number, status: RunStatus, error: string | null = null): void {
    this.statusStmt.run(status, error, Date.now(), id);
  }

  setProgress(id: number, step: number, totalSteps?: number): void {
    this.progressStmt.run(step, totalSteps ?? null, Date.now(), id);
  }

  setBackend(id: number, backend: string): void {
    this.backendStmt.run(backend, Date.now(), id);
  }

  /** Renames a run, files it under tags, or writes its note; false when there is no such run. */
  annotate(id: number, change: { name?: string; tags?: string[]; note?: string }): boolean {
    const res = this.db
      .prepare('UPDATE runs SET name = coalesce(?, name), tags = coalesce(?, tags), note = coalesce(?, note), updated_at = ? WHERE id = ?')
      .run(change.name ?? null, change.tags ? JSON.stringify([...new Set(change.tags)]) : null, change.note ?? null, Date.now(), id);
    return res.changes > 0;
  }

  deleteRun(id: number): boolean {
    return this.deleteStmt.run(id).changes > 0;
  }

  count(): number {
    return this.countStmt.get()!.n;
  }

  /** One value per key for `step`; non-finite values are skipped (SQLite REAL cannot hold NaN). */
  logMetrics(runId: number, step: number, values: Record<string, number>): void {
    const now = Date.now();
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(values)) if (Number.isFinite(value)) this.metricStmt.run(runId, step, key, value, now);
    })();
  }

  /** Series per key, ordered by step; only `keys` when given, only steps after `sinceStep` when given. */
  metricsFor(runId: number, keys?: string[], sinceStep = -1): Record<string, MetricPoint[]> {
    const wanted = keys ? new Set(keys) : null;
    const out: Record<string, MetricPoint[]> = {};
    for (const r of this.metricsAll.iterate(runId, sinceStep)) {
      if (wanted && !wanted.has(r.key)) continue;
      (out[r.key] ??= []).push({ step: r.step, value: r.value, time: r.time });
    }
    return out;
  }

  /** The latest value of every metric of a run (its "final metrics"). */
  lastMetrics(runId: number): Record<string, number> {
    return Object.fromEntries(this.lastMetricsStmt.all(runId, runId).map((r) => [r.key, r.value]));
  }

  addSamples(runId: number, step: number, samples: NewSample[]): void {
    this.db.transaction(() => {
      for (const s of samples) {
        this.sampleStmt.run(runId, step, s.prompt, s.response, s.score ?? null, s.kl ?? null, s.extra ? JSON.stringify(s.extra) : null);
      }
    })();
  }

  samplesFor(runId: number, sinceStep = -1): Sample[] {
    return this.samplesStmt.all(runId, sinceStep).map((s) => ({ ...s, extra: s.extra ? JSON.parse(s.extra) : null }));
  }

  addEvent(runId: number, step: number, kind: string, message: string, data?: unknown): void {
    this.eventStmt.run(runId, step, kind, message, data === undefined ? null : JSON.stringify(data), Date.now());
  }

  eventsFor(runId: number): RunEvent[] {
    return this.eventsStmt.all(runId).map((e) => ({ ...e, data: e.data ? JSON.parse(e.data) : null }));
  }

  /** Forgets what a run logged after `step`: a resume from the checkpoint at `step` logs it again. */
  truncateAfter(runId: number, step: number): void {
    this.db.transaction(() => {
      this.truncMetrics.run(runId, step);
      this.truncSamples.run(runId, step);
      this.truncEvents.run(runId, step);
    })();
  }
}

function toRun(r: RunRow): Run {
  return { ...r, config: JSON.parse(r.config) as Record<string, unknown>, tags: JSON.parse(r.tags) as string[] };
}

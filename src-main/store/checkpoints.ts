// Model checkpoints: weights (and optimizer state) as safetensors bytes, the resolved model config,
// the tokenizer, and lineage (parent checkpoint, run, stage). A sha256 over the blobs is taken when
// written and checked on every load, so a damaged file is reported instead of silently loaded.
import { createHash } from 'node:crypto';
import type { DB } from './db.js';
import type { CheckpointStage } from '../shared/vocabulary.js';


export interface NewCheckpoint {
  name: string;
  stage: CheckpointStage;
  runId?: number | null;
  parentId?: number | null;
  step?: number;
  /** The resolved model config (GPTConfig, plus the head for reward/value models). */
  modelConfig: unknown;
  /** tokenizer.json text. */
  tokenizer: string;
  weights: Uint8Array;
  optimizer?: Uint8Array | null;
  /** Anything else a stage needs back: resume state, reward normalisation, final metrics. */
  extra?: Record<string, unknown> | null;
}

export interface CheckpointInfo {
  id: number;
  name: string;
  stage: CheckpointStage;
  run_id: number | null;
  parent_id: number | null;
  step: number;
  model_config: unknown;
  extra: Record<string, unknown> | null;
  sha256: string;
  created_at: number;
  weights_bytes: number;
  has_optimizer: boolean;
  /** Ancestor ids, parent first (the parent chain up to a base or imported model). */
  lineage: number[];
}

export interface LoadedCheckpoint extends CheckpointInfo {
  tokenizer: string;
  weights: Uint8Array;
  optimizer: Uint8Array | null;
}

export class CheckpointNotFoundError extends Error {
  constructor(readonly id: number) {
    super(`checkpoint ${id} does not exist`);
  }
}

export class CheckpointCorruptError extends Error {
  constructor(
    readonly id: number,
    expected: string,
    actual: string,
  ) {
    super(
      `checkpoint ${id} is corrupted: its stored sha256 is ${expected.slice(0, 12)}…, its data hashes to ` +
        `${actual.slice(0, 12)}…; it was not loaded`,
    );
  }
}

export function checkpointHash(weights: Uint8Array, optimizer: Uint8Array | null | undefined): string {
  const h = createHash('sha256').update(weights);
  if (optimizer) h.update(optimizer);
  return h.digest('hex');
}

interface InfoRow {
  id: number;
  name: string;
  stage: CheckpointStage;
  run_id: number | null;
  parent_id: number | null;
  step: number;
  model_config: string;
  extra: string | null;
  sha256: string;
  created_at: number;
  weights_bytes: number;
  has_optimizer: number;
}

const INFO_COLUMNS = `id, name, stage, run_id, parent_id, step, model_config, extra, sha256, created_at,
  length(weights) AS weights_bytes, optimizer IS NOT NULL AS has_optimizer`;

export class CheckpointsRepo {
  private readonly insertStmt;
  private readonly infoStmt;
  private readonly blobStmt;
  private readonly listStmt;
  private readonly parentsStmt;
  private readonly lastOfRunStmt;
  private readonly deleteStmt;
  private readonly countStmt;
  private readonly dropOptimizerStmt;

  constructor(private readonly db: DB) {
    this.insertStmt = db.prepare<
      [string, CheckpointStage, number | null, number | null, number, string, string, Uint8Array, Uint8Array | null, string | null, string, number]
    >(
      `INSERT INTO checkpoints (name, stage, run_id, parent_id, step, model_config, tokenizer, weights, optimizer, extra, sha256, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.infoStmt = db.prepare<[number], InfoRow>(`SELECT ${INFO_COLUMNS} FROM checkpoints WHERE id = ?`);
    this.blobStmt = db.prepare<[number], { tokenizer: string; weights: Buffer; optimizer: Buffer | null }>(
      'SELECT tokenizer, weights, optimizer FROM checkpoints WHERE id = ?',
    );
    this.listStmt = db.prepare<[], InfoRow>(`SELECT ${INFO_COLUMNS} FROM checkpoints ORDER BY id`);
    this.parentsStmt = db.prepare<[], { id: number; parent_id: number | null }>('SELECT id, parent_id FROM checkpoints');
    this.lastOfRunStmt = db.prepare<[number], { id: number }>(
      'SELECT id FROM checkpoints WHERE run_id = ? ORDER BY step DESC, id DESC LIMIT 1',
    );
    this.deleteStmt = db.prepare<[number]>('DELETE FROM checkpoints WHERE id = ?');
    this.countStmt = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM checkpoints');
    this.dropOptimizerStmt = db.prepare<[string, number]>('UPDATE checkpoints SET optimizer = NULL, sha256 = ? WHERE id = ?');
  }

  /** Stores a checkpoint in one transaction and returns its id. */
  save(c: NewCheckpoint): number {
    const sha = checkpointHash(c.weights, c.optimizer);
    return this.db.transaction(() => {
      const r = this.insertStmt.run(
        c.name,
        c.stage,
        c.runId ?? null,
        c.parentId ?? null,
        c.step ?? 0,
        JSON.stringify(c.modelConfig),
        c.tokenizer,
        c.weights,
        c.optimizer ?? null,
        c.extra ? JSON.stringify(c.extra) : null,
        sha,
        Date.now(),
      );
      return Number(r.lastInsertRowid);
    })();
  }

  /** Metadata only (no blobs); null when missing. */
  get(id: number): CheckpointInfo | null {
    const row = this.infoStmt.get(id);
    return row ? this.toInfo(row, this.parentMap()) : null;
  }

  /** The full checkpoint, its sha256 verified; throws CheckpointNotFoundError / CheckpointCorruptError. */
  load(id: number): LoadedCheckpoint {
    const row = this.infoStmt.get(id);
    const blobs = this.blobStmt.get(id);
    if (!row || !blobs) throw new CheckpointNotFoundError(id);
    const weights = new Uint8Array(blobs.weights.buffer, blobs.weights.byteOffset, blobs.weights.byteLength);
    const optimizer = blobs.optimizer
      ? new Uint8Array(blobs.optimizer.buffer, blobs.optimizer.byteOffset, blobs.optimizer.byteLength)
      : null;
    const actual = checkpointHash(weights, optimizer);
    if (actual !== row.sha256) throw new CheckpointCorruptError(id, row.sha256, actual);
    return { ...this.toInfo(row, this.parentMap()), tokenizer: blobs.tokenizer, weights, optimizer };
  }

  list(): CheckpointInfo[] {
    const parents = this.parentMap();
    return this.listStmt.all().map((r) => this.toInfo(r, parents));
  }

  /** The checkpoint a run wrote last (highest step): where a resume continues from. */
  lastOfRun(runId: number): CheckpointInfo | null {
    const r = this.lastOfRunStmt.get(runId);
    return r ? this.get(r.id) : null;
  }

  /**
   * Frees a checkpoint's optimizer state (a run needs it only where a resume starts: its latest
   * checkpoint); the sha256 then covers the weights alone. A corrupted checkpoint is left as it is,
   * so its corruption stays detectable. Returns whether state was dropped.
   */
  dropOptimizer(id: number): boolean {
    let c: LoadedCheckpoint;
    try {
      c = this.load(id);
    } catch {
      return false;
    }
    if (!c.optimizer) return false;
    return this.dropOptimizerStmt.run(checkpointHash(c.weights, null), id).changes > 0;
  }

  /** Deletes one checkpoint; its children keep existing with parent_id set to null (schema). */
  delete(id: number): boolean {
    return this.deleteStmt.run(id).changes > 0;
  }

  count(): number {
    return this.countStmt.get()!.n;
  }

  private parentMap(): Map<number, number | null> {
    return new Map(this.parentsStmt.all().map((r) => [r.id, r.parent_id]));
  }

  private toInfo(r: InfoRow, parents: Map<number, number | null>): CheckpointInfo {
    const lineage: number[] = [];
    const seen = new Set<number>([r.id]);
    for (let p = r.parent_id; p !== null && p !== undefined && !seen.has(p); p = parents.get(p) ?? null) {
      lineage.push(p);
      seen.add(p);
    }
    return {
      id: r.id,
      name: r.name,
      stage: r.stage,
      run_id: r.run_id,
      parent_id: r.parent_id,
      step: r.step,
      model_config: JSON.parse(r.model_config),
      extra: r.extra ? (JSON.parse(r.extra) as Record<string, unknown>) : null,
      sha256: r.sha256,
      created_at: r.created_at,
      weights_bytes: r.weights_bytes,
      has_optimizer: r.has_optimizer === 1,
      lineage,
    };
  }
}

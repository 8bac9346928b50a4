// Model checkpoints: weights (and optimizer state) as safetensors bytes, the resolved model config,
// the tokenizer, and lineage (parent checkpoint, run, stage). A sha256 over the blobs is taken when
// written and checked on every load, so a damaged file is reported instead of silently loaded.
import { createHash } from 'node:crypto';
import type { DB } from './db.js';
import type { CheckpointInfo, LoadedCheckpoint, NewCheckpoint } from '../shared/records.js';
import { isCheckpointStage, type CheckpointStage } from '../shared/vocabulary.js';


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
  length(weights) + coalesce((SELECT sum(length(bytes)) FROM checkpoint_parts p WHERE p.checkpoint_id = checkpoints.id AND p.blob = 'weights'), 0) AS weights_bytes,
  optimizer IS NOT NULL AS has_optimizer`;

/**
 * The largest blob stored inline; a larger one goes to checkpoint_parts in parts of this size.
 * better-sqlite3 refuses to bind a buffer over V8's largest string (2^29 − 24 bytes), so one
 * value cannot hold the float32 weights of a 135M model (migration 0009).
 */
export const CHECKPOINT_PART_BYTES = 2 ** 28;

type BlobKind = 'weights' | 'optimizer';

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
  private readonly insertPartStmt;
  private readonly partsStmt;
  private readonly deletePartsStmt;

  /** `partBytes`: where blobs are split (tests split small ones). */
  constructor(
    private readonly db: DB,
    private readonly partBytes = CHECKPOINT_PART_BYTES,
  ) {
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
    this.insertPartStmt = db.prepare<[number, BlobKind, number, Uint8Array]>('INSERT INTO checkpoint_parts (checkpoint_id, blob, part, bytes) VALUES (?, ?, ?, ?)');
    this.partsStmt = db.prepare<[number, BlobKind], { bytes: Buffer }>('SELECT bytes FROM checkpoint_parts WHERE checkpoint_id = ? AND blob = ? ORDER BY part');
    this.deletePartsStmt = db.prepare<[number, BlobKind]>('DELETE FROM checkpoint_parts WHERE checkpoint_id = ? AND blob = ?');
  }

  /** Stores a checkpoint in one transaction and returns its id. */
  save(c: NewCheckpoint): number {
    // 'base' or a stage of the catalogue (the table no longer lists them, migration 0008).
    if (!isCheckpointStage(c.stage)) throw new Error(`unknown checkpoint stage "${c.stage}"`);
    const sha = checkpointHash(c.weights, c.optimizer);
    const inline = (b: Uint8Array) => (b.byteLength > this.partBytes ? new Uint8Array(0) : b);
    return this.db.transaction(() => {
      const r = this.insertStmt.run(
        c.name,
        c.stage,
        c.runId ?? null,
        c.parentId ?? null,
        c.step ?? 0,
        JSON.stringify(c.modelConfig),
        c.tokenizer,
        inline(c.weights),
        c.optimizer ? inline(c.optimizer) : null,
        c.extra ? JSON.stringify(c.extra) : null,
        sha,
        Date.now(),
      );
      const id = Number(r.lastInsertRowid);
      this.saveParts(id, 'weights', c.weights);
      if (c.optimizer) this.saveParts(id, 'optimizer', c.optimizer);
      return id;
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
    const weights = this.joined(id, 'weights', blobs.weights);
    const optimizer = blobs.optimizer ? this.joined(id, 'optimizer', blobs.optimizer) : null;
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
    return this.db.transaction(() => {
      this.deletePartsStmt.run(id, 'optimizer');
      return this.dropOptimizerStmt.run(checkpointHash(c.weights, null), id).changes > 0;
    })();
  }

  /** A blob over partBytes, in parts (the row holds an empty blob in its place). */
  private saveParts(id: number, blob: BlobKind, bytes: Uint8Array): void {
    if (bytes.byteLength <= this.partBytes) return;
    for (let part = 0, at = 0; at < bytes.byteLength; part++, at += this.partBytes) {
      this.insertPartStmt.run(id, blob, part, bytes.subarray(at, at + this.partBytes));
    }
  }

  /** The stored bytes of a blob: inline, or (an empty inline blob) joined from its parts. */
  private joined(id: number, blob: BlobKind, inline: Buffer): Uint8Array {
    if (inline.byteLength > 0) return new Uint8Array(inline.buffer, inline.byteOffset, inline.byteLength);
    const parts = this.partsStmt.all(id, blob).map((p) => p.bytes);
    const all = Buffer.concat(parts);
    return new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
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

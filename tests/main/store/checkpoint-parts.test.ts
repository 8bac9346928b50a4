// Checkpoints larger than one SQLite value can hold (better-sqlite3 binds at most ~512 MiB: a
// 135M model's float32 weights do not fit) are stored in parts. Here the split is made small, so
// the same code path runs on a few kilobytes: the bytes come back identical and verified, through
// a repository that splits and one that does not, and the parts go with the optimizer state and
// with the checkpoint.
import { describe, expect, it } from 'vitest';
import { CheckpointCorruptError, CheckpointsRepo } from '../../../src-main/store/checkpoints.js';
import { tempProject } from './temp-project.js';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('checkpoints in parts', () => {
  it('stores a blob over the part size in parts and loads it back byte for byte', () => {
    const project = tempProject();
    const repo = new CheckpointsRepo(project.db, 1000);
    const weights = bytes(2500, 1);
    const optimizer = bytes(4100, 2);
    const id = repo.save({ name: 'big', stage: 'base', modelConfig: {}, tokenizer: '{}', weights, optimizer });
    const parts = project.db.prepare('SELECT blob, count(*) AS n, sum(length(bytes)) AS total FROM checkpoint_parts WHERE checkpoint_id = ? GROUP BY blob ORDER BY blob').all(id);
    expect(parts).toEqual([
      { blob: 'optimizer', n: 5, total: 4100 },
      { blob: 'weights', n: 3, total: 2500 },
    ]);
    const back = repo.load(id);
    expect(Buffer.from(back.weights).equals(Buffer.from(weights))).toBe(true);
    expect(Buffer.from(back.optimizer!).equals(Buffer.from(optimizer))).toBe(true);
    expect(back.weights_bytes).toBe(2500);
    // The project's own repository (which would keep these inline) reads them the same way.
    expect(Buffer.from(project.checkpoints.load(id).weights).equals(Buffer.from(weights))).toBe(true);
    project.close();
  });

  it('keeps a small blob inline, as before', () => {
    const project = tempProject();
    const repo = new CheckpointsRepo(project.db, 1000);
    const id = repo.save({ name: 'small', stage: 'base', modelConfig: {}, tokenizer: '{}', weights: bytes(999, 3) });
    expect(project.db.prepare('SELECT count(*) AS n FROM checkpoint_parts').get()).toEqual({ n: 0 });
    expect(repo.load(id).weights.byteLength).toBe(999);
    project.close();
  });

  it('drops the optimizer parts with the optimizer state, and every part with the checkpoint', () => {
    const project = tempProject();
    const repo = new CheckpointsRepo(project.db, 1000);
    const id = repo.save({ name: 'big', stage: 'base', modelConfig: {}, tokenizer: '{}', weights: bytes(2500, 4), optimizer: bytes(3000, 5) });
    expect(repo.dropOptimizer(id)).toBe(true);
    const left = () => project.db.prepare('SELECT blob, count(*) AS n FROM checkpoint_parts GROUP BY blob').all();
    expect(left()).toEqual([{ blob: 'weights', n: 3 }]);
    expect(repo.load(id).optimizer).toBeNull();
    expect(repo.delete(id)).toBe(true);
    expect(left()).toEqual([]);
    project.close();
  });

  it('detects a damaged part', () => {
    const project = tempProject();
    const repo = new CheckpointsRepo(project.db, 1000);
    const id = repo.save({ name: 'big', stage: 'base', modelConfig: {}, tokenizer: '{}', weights: bytes(2500, 6) });
    project.db.prepare("UPDATE checkpoint_parts SET bytes = zeroblob(1000) WHERE checkpoint_id = ? AND part = 1").run(id);
    expect(() => repo.load(id)).toThrow(CheckpointCorruptError);
    project.close();
  });
});

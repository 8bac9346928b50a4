import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointCorruptError, CheckpointsRepo } from '../../../src-main/store/checkpoints.js';
import { openDatabase, type DB } from '../../../src-main/store/db.js';
import { RunsRepo } from '../../../src-main/store/runs.js';

let dir: string;
let db: DB;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
  db = openDatabase(join(dir, 'p.rlhf'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const bytes = (...v: number[]) => new Uint8Array(v);

describe('checkpoints', () => {
  it('saves and loads weights, optimizer, config, tokenizer and lineage', () => {
    const repo = new CheckpointsRepo(db);
    const runs = new RunsRepo(db);
    const base = repo.save({ name: 'base', stage: 'base', modelConfig: { n_layer: 1 }, tokenizer: '{"t":1}', weights: bytes(1, 2, 3) });
    const run = runs.createRun({ stage: 'sft', name: 'sft 1', config: { lr: 1e-3 }, parentCheckpointId: base });
    const sft = repo.save({
      name: 'sft step 10', stage: 'sft', runId: run, parentId: base, step: 10, modelConfig: { n_layer: 1 },
      tokenizer: '{"t":1}', weights: bytes(4, 5), optimizer: bytes(6), extra: { resume: { epoch: 1 } },
    });
    const ppo = repo.save({ name: 'ppo', stage: 'ppo', parentId: sft, modelConfig: {}, tokenizer: '{}', weights: bytes(7) });

    const loaded = repo.load(sft);
    expect(Array.from(loaded.weights)).toEqual([4, 5]);
    expect(Array.from(loaded.optimizer!)).toEqual([6]);
    expect(loaded.model_config).toEqual({ n_layer: 1 });
    expect(loaded.tokenizer).toBe('{"t":1}');
    expect(loaded.extra).toEqual({ resume: { epoch: 1 } });
    expect(loaded.has_optimizer).toBe(true);
    expect(repo.get(ppo)!.lineage).toEqual([sft, base]);
    expect(repo.list().map((c) => c.id)).toEqual([base, sft, ppo]);
    expect(repo.lastOfRun(run)!.id).toBe(sft);
    expect(repo.delete(sft)).toBe(true);
    expect(repo.get(ppo)!.parent_id).toBeNull();
  });

  it('refuses to load a checkpoint whose blob was corrupted', () => {
    const repo = new CheckpointsRepo(db);
    const id = repo.save({ name: 'x', stage: 'base', modelConfig: {}, tokenizer: '{}', weights: bytes(1, 2, 3, 4) });
    db.prepare('UPDATE checkpoints SET weights = ? WHERE id = ?').run(Buffer.from([1, 2, 3, 5]), id);
    expect(() => repo.load(id)).toThrow(CheckpointCorruptError);
    expect(() => repo.load(id)).toThrow(/corrupted/);
    const id2 = repo.save({ name: 'y', stage: 'base', modelConfig: {}, tokenizer: '{}', weights: bytes(1), optimizer: bytes(2) });
    db.prepare('UPDATE checkpoints SET optimizer = ? WHERE id = ?').run(Buffer.from([3]), id2);
    expect(() => repo.load(id2)).toThrow(/corrupted/);
  });
});

describe('optimizer state', () => {
  it('can be dropped from older checkpoints; the weights stay verified, corruption stays detectable', () => {
    const repo = new CheckpointsRepo(db);
    const id = repo.save({ name: 'a', stage: 'sft', modelConfig: {}, tokenizer: '{}', weights: bytes(1, 2), optimizer: bytes(9, 9) });
    expect(repo.dropOptimizer(id)).toBe(true);
    const c = repo.load(id);
    expect(c.optimizer).toBeNull();
    expect(c.has_optimizer).toBe(false);
    expect(Array.from(c.weights)).toEqual([1, 2]);
    expect(repo.dropOptimizer(id)).toBe(false);
    const bad = repo.save({ name: 'b', stage: 'sft', modelConfig: {}, tokenizer: '{}', weights: bytes(1), optimizer: bytes(2) });
    db.prepare('UPDATE checkpoints SET weights = ? WHERE id = ?').run(Buffer.from([3]), bad);
    expect(repo.dropOptimizer(bad)).toBe(false);
    expect(() => repo.load(bad)).toThrow(/corrupted/);
  });
});

describe('runs', () => {
  it('logs metrics, samples and events and reads them back by key and step', () => {
    const runs = new RunsRepo(db);
    const id = runs.createRun({ stage: 'sft', name: 'r', config: { a: 1 }, totalSteps: 3 });
    runs.setStatus(id, 'running');
    for (let s = 1; s <= 3; s++) runs.logMetrics(id, s, { loss: 4 - s, lr: 0.1 * s, bad: NaN });
    runs.addSamples(id, 2, [{ prompt: 'p', response: 'r', score: 1 }]);
    runs.addEvent(id, 2, 'warning', 'kl high', { kl: 9 });
    runs.setProgress(id, 3);
    expect(runs.get(id)).toMatchObject({ status: 'running', step: 3, total_steps: 3, config: { a: 1 } });
    expect(runs.metricsFor(id, ['loss']).loss!.map((p) => p.value)).toEqual([3, 2, 1]);
    expect(Object.keys(runs.metricsFor(id))).toEqual(['loss', 'lr']);
    expect(runs.metricsFor(id, undefined, 2).loss!.map((p) => p.step)).toEqual([3]);
    expect(runs.lastMetrics(id)).toEqual({ loss: 1, lr: expect.closeTo(0.3, 6) });
    expect(runs.samplesFor(id)[0]).toMatchObject({ prompt: 'p', response: 'r', score: 1 });
    expect(runs.eventsFor(id)[0]).toMatchObject({ kind: 'warning', data: { kl: 9 } });
    runs.truncateAfter(id, 1);
    expect(runs.metricsFor(id).loss!.length).toBe(1);
    expect(runs.samplesFor(id)).toEqual([]);
    expect(runs.listRuns('sft').map((r) => r.id)).toEqual([id]);
  });
});

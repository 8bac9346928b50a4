import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMigrations, openDatabase, SCHEMA_VERSION } from '../../../src-main/store/db.js';
import { Project } from '../../../src-main/store/project.js';
import { tempDir } from './temp-project.js';

describe('migrations', () => {
  it('bring a fresh file to user_version = number of migrations', () => {
    const file = join(tempDir(), 'fresh.rlhf');
    const project = Project.open(file, { create: true });
    expect(project.db.pragma('user_version', { simple: true })).toBe(loadMigrations().length);
    expect(SCHEMA_VERSION).toBe(loadMigrations().length);
    expect(project.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(project.db.pragma('foreign_keys', { simple: true })).toBe(1);
    project.close();
  });

  it('refuse a file from a newer app with a clear message, leaving it untouched', () => {
    const file = join(tempDir(), 'newer.rlhf');
    Project.open(file, { create: true }).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    raw.close();
    expect(() => Project.open(file)).toThrow(
      `${file} was written by a newer RLHF Lab (schema ${SCHEMA_VERSION + 5}; this app knows up to ${SCHEMA_VERSION}). Update the app to open it.`,
    );
    const again = new Database(file);
    expect(again.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 5);
    again.close();
  });

  it('refuse to create a project on open unless asked', () => {
    const file = join(tempDir(), 'missing.rlhf');
    expect(() => Project.open(file)).toThrow(/no such project file/);
  });

  it('fill the pairs table from judgments made before migration 0003', () => {
    const file = join(tempDir(), 'old.rlhf');
    // A version-1 file: only the initial schema, with one ranking of three (two tied) and a vote.
    const db = new Database(file);
    db.exec(loadMigrations()[0]!.sql);
    db.pragma('user_version = 1');
    db.exec(`
      INSERT INTO annotators (id, name, created_at) VALUES (1, 'ann', 0);
      INSERT INTO prompts (id, text, created_at, text_hash) VALUES (1, 'p', 0, 'h');
      INSERT INTO responses (id, prompt_id, text, source, created_at) VALUES (1, 1, 'a', 'human', 0), (2, 1, 'b', 'human', 0), (3, 1, 'c', 'human', 0);
      INSERT INTO rankings (uid, prompt_id, annotator_id, ranking, created_at, updated_at) VALUES ('u', 1, 1, '[[1],[2,3]]', 0, 0);
      INSERT INTO comparisons (uid, prompt_id, response_a, response_b, outcome, annotator_id, created_at) VALUES ('v', 1, 2, 3, 'b', 1, 1);`);
    db.close();
    const migrated = openDatabase(file);
    expect(migrated.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    migrated.close();
    const project = Project.open(file);
    const page = project.preferences.pairsPage({ offset: 0, limit: 10 });
    expect(page.rows.map((r) => [r.chosen, r.rejected])).toEqual([
      ['a', 'b'],
      ['a', 'c'],
      ['c', 'b'],
    ]);
    expect(project.stats.counts().pairs).toBe(3);
    expect(project.prompts.page({ search: 'p', offset: 0, limit: 5 }).total).toBe(1);
    project.close();
  });

  it('0008 drops the stage CHECKs: runs, checkpoints and what hangs off them are kept, and a new stage is accepted', () => {
    const file = join(tempDir(), 'seven.rlhf');
    // A version-7 file with a PPO run, its checkpoints (one the parent of the other), metrics, samples, a lease and a response of the checkpoint.
    const db = new Database(file);
    for (const m of loadMigrations().slice(0, 7)) db.exec(m.sql);
    db.pragma('user_version = 7');
    db.pragma('foreign_keys = ON');
    db.exec(`
      INSERT INTO checkpoints (id, name, stage, step, model_config, tokenizer, weights, sha256, created_at) VALUES (1, 'sft', 'sft', 0, '{}', '{}', x'00', 'h', 0);
      INSERT INTO runs (id, stage, name, config, status, parent_checkpoint_id, step, created_at, updated_at, tags, note)
        VALUES (1, 'ppo', 'ppo run', '{"steps":3}', 'stopped', 1, 2, 0, 0, '["sweep"]', 'a note');
      INSERT INTO checkpoints (id, name, stage, run_id, parent_id, step, model_config, tokenizer, weights, optimizer, extra, sha256, created_at)
        VALUES (2, 'ppo · step 2', 'ppo', 1, 1, 2, '{}', '{}', x'01', x'02', '{"reward_model":7}', 'h2', 1);
      INSERT INTO metrics (run_id, step, key, value, time) VALUES (1, 1, 'objective/kl', 0.5, 0), (1, 2, 'objective/kl', 0.25, 0);
      INSERT INTO samples (run_id, step, prompt, response, score, kl) VALUES (1, 1, 'p', 'r', 1.5, 0.1);
      INSERT INTO run_events (run_id, step, kind, message, time) VALUES (1, 1, 'warn', 'w', 0);
      INSERT INTO annotators (id, name, created_at) VALUES (1, 'ann', 0);
      INSERT INTO prompts (id, text, created_at, text_hash) VALUES (1, 'p', 0, 'h');
      INSERT INTO responses (id, prompt_id, text, source, checkpoint_id, created_at) VALUES (1, 1, 'a', 'model', 2, 0);`);
    expect(() => db.exec(`INSERT INTO runs (stage, name, config, created_at, updated_at) VALUES ('grpo', 'x', '{}', 0, 0)`)).toThrow(/CHECK/);
    db.close();

    const project = Project.open(file);
    expect(project.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(project.db.pragma('foreign_keys', { simple: true })).toBe(1);
    const run = project.runs.get(1)!;
    expect(run).toMatchObject({ stage: 'ppo', name: 'ppo run', config: { steps: 3 }, status: 'stopped', parent_checkpoint_id: 1, step: 2, tags: ['sweep'], note: 'a note' });
    expect(project.checkpoints.get(2)).toMatchObject({ stage: 'ppo', run_id: 1, parent_id: 1, step: 2, extra: { reward_model: 7 } });
    // Dropping the old tables cascaded to nothing.
    expect(project.runs.metricsFor(1)['objective/kl']!.map((m) => [m.step, m.value])).toEqual([
      [1, 0.5],
      [2, 0.25],
    ]);
    expect(project.runs.samplesFor(1)).toHaveLength(1);
    expect(project.runs.eventsFor(1)).toHaveLength(1);
    expect(project.db.prepare('SELECT checkpoint_id FROM responses WHERE id = 1').get()).toEqual({ checkpoint_id: 2 });
    // The foreign keys still hold on the rebuilt tables: deleting the run keeps its checkpoint, unlinked, and drops its metrics.
    const grpo = project.runs.createRun({ stage: 'grpo', name: 'grpo run', config: {}, parentCheckpointId: 1 });
    expect(project.runs.get(grpo)!.stage).toBe('grpo');
    expect(() => project.runs.createRun({ stage: 'nope' as never, name: 'x', config: {} })).toThrow('unknown training stage "nope"');
    project.db.prepare('DELETE FROM runs WHERE id = 1').run();
    expect(project.checkpoints.get(2)!.run_id).toBeNull();
    expect(project.runs.metricsFor(1)).toEqual({});
    project.close();
  });
});

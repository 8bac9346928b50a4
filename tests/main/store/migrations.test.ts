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
});

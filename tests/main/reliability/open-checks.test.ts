// Opening the wrong file must not change it (issue 19): another application's SQLite database,
// a file from a newer app, an empty file and a damaged project are refused byte for byte
// untouched; a project the user may not write opens read-only and says why.
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiContext } from '../../../src-main/api/context.js';
import { handlers } from '../../../src-main/api/handlers/index.js';
import { dispatch } from '../../../src-main/api/router.js';
import { Services } from '../../../src-main/api/services.js';
import { APPLICATION_ID } from '../../../src-main/store/db.js';
import { Project } from '../../../src-main/store/project.js';
import { tempDir } from '../store/temp-project.js';

function openThroughApi(path: string) {
  const services = new Services({ dataDir: join(tempDir(), 'home') });
  const ctx: ApiContext = { app: services, annotatorId: null };
  return { services, result: dispatch(handlers, 'project.open', { path }, ctx), ctx };
}

/** The file's bytes and whether SQLite side files appeared: what "untouched" means. */
function snapshot(file: string) {
  return { bytes: readFileSync(file).toString('base64'), wal: existsSync(`${file}-wal`) };
}

describe('opening files that are not (usable) projects', () => {
  it('refuses another SQLite database without adding tables or switching it to WAL', async () => {
    const file = join(tempDir(), 'other.sqlite');
    const other = new Database(file);
    other.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep me')");
    other.close();
    const before = snapshot(file);
    const { services, result } = openThroughApi(file);
    const r = await result;
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.message).toMatch(/is not an RLHF Lab project/);
    expect(snapshot(file)).toEqual(before);
    // The CLI's path (Project.open) refuses it the same way.
    expect(() => Project.open(file)).toThrow(/not an RLHF Lab project/);
    expect(snapshot(file)).toEqual(before);
    await services.close();
  });

  it('refuses a newer-version project without rewriting its header', async () => {
    const file = join(tempDir(), 'newer.rlhf');
    Project.open(file, { create: true }).close();
    const db = new Database(file);
    db.pragma('journal_mode = DELETE');
    db.pragma('user_version = 999');
    db.close();
    const before = snapshot(file);
    const { services, result } = openThroughApi(file);
    const r = await result;
    expect(!r.ok && r.error.message).toMatch(/newer RLHF Lab/);
    expect(snapshot(file)).toEqual(before);
    await services.close();
  });

  it('refuses an empty file instead of turning it into a project', async () => {
    const file = join(tempDir(), 'empty.rlhf');
    writeFileSync(file, '');
    const { services, result } = openThroughApi(file);
    const r = await result;
    expect(!r.ok && r.error.message).toMatch(/empty file, not an RLHF Lab project/);
    expect(readFileSync(file).length).toBe(0);
    await services.close();
  });

  it('refuses a project with a damaged page at open, naming the way out through a backup', async () => {
    const file = join(tempDir(), 'damaged.rlhf');
    const p = Project.open(file, { create: true });
    p.db.transaction(() => {
      for (let i = 0; i < 400; i++) p.prompts.upsert(`prompt number ${i} ${'x'.repeat(200)}`);
    })();
    p.db.pragma('journal_mode = DELETE');
    const page = p.db.pragma('page_size', { simple: true }) as number;
    const root = (p.db.prepare("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'prompts'").get() as { rootpage: number }).rootpage;
    p.close();
    // Overwrite the prompts table's root page (past its 8-byte header) with garbage.
    const bytes = readFileSync(file);
    const target = (root - 1) * page;
    bytes.fill(0xa5, target + 8, target + page);
    writeFileSync(file, bytes);
    const { services, result } = openThroughApi(file);
    const r = await result;
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.message).toMatch(/is damaged \(SQLite quick_check: .+\).*rlhf-lab restore/);
    await services.close();
  });

  it('identifies projects made before application_id by their schema, and stamps them', () => {
    const file = join(tempDir(), 'old.rlhf');
    Project.open(file, { create: true }).close();
    const db = new Database(file);
    db.pragma('application_id = 0');
    db.close();
    const p = Project.open(file);
    expect(p.db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    p.close();
  });

  it.runIf(process.platform === 'linux')('opens a project the user cannot write read-only: viewable, and every change refused with a reason', () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const file = join(dir, 'shared.rlhf');
    const p = Project.open(file, { create: true });
    p.prompts.upsert('How do I return a parcel?');
    p.close();
    chmodSync(file, 0o444);
    const home = tempDir();
    chmodSync(home, 0o777);
    const script = `
      import { Services } from './src-main/api/services.ts';
      import { dispatch } from './src-main/api/router.ts';
      import { handlers } from './src-main/api/handlers/index.ts';
      const s = new Services({ dataDir: ${JSON.stringify(home)} });
      const ctx = { app: s, annotatorId: null };
      const out = {};
      out.open = await dispatch(handlers, 'project.open', { path: ${JSON.stringify(file)} }, ctx);
      out.stats = await dispatch(handlers, 'project.stats', {}, ctx);
      out.write = await dispatch(handlers, 'annotators.create', { name: 'bob' }, ctx);
      console.log(JSON.stringify(out));
      await s.close();`;
    // root may write any file: run as an unprivileged user to see what a normal user sees.
    const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--', 'env', `HOME=${home}`] : [];
    const cmd = [...asUser, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script];
    const res = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 60_000 });
    expect(res.status, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout.trim().split('\n').pop()!);
    expect(out.open).toMatchObject({ ok: true, value: { readOnly: expect.stringMatching(/^the file is read-only/) } });
    expect(out.stats).toMatchObject({ ok: true, value: { prompts: 1 } });
    expect(out.write).toMatchObject({ ok: false, error: { code: 'read_only' } });
  });
});

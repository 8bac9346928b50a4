import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupProject, BadBackupError, restoreProject, verifyBackup } from '../../../src-main/store/backup.js';
import { Project } from '../../../src-main/store/project.js';
import { tempDir } from './temp-project.js';

describe('backup and restore', () => {
  it('copy a project while another connection keeps writing, and restore it', async () => {
    const dir = tempDir();
    const file = join(dir, 'live.rlhf');
    const project = Project.open(file, { create: true });
    const writer = Project.open(file);
    project.db.transaction(() => {
      for (let i = 0; i < 3000; i++) project.prompts.upsert(`prompt ${i} ${'x'.repeat(200)}`);
    })();
    // A teammate is in the middle of a write while the backup runs: neither waits for the other,
    // and the backup holds what was committed.
    writer.db.exec('BEGIN IMMEDIATE');
    writer.prompts.upsert('uncommitted during the backup');
    const backup = join(dir, 'copy.rlhf');
    await backupProject(project.db, backup);
    writer.db.exec('COMMIT');
    expect(existsSync(`${backup}.partial`)).toBe(false);
    expect(verifyBackup(backup)).toBeGreaterThan(0);
    const copy = Project.open(backup);
    expect(copy.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(copy.stats.counts().prompts).toBe(3000);
    copy.close();

    writer.prompts.upsert('after the backup');
    const before = project.stats.counts().prompts;
    writer.close();
    project.close();
    const restoredFile = join(dir, 'restored.rlhf');
    await restoreProject(backup, restoredFile);
    const restored = Project.open(restoredFile);
    expect(restored.stats.counts().prompts).toBeLessThan(before);
    expect(restored.prompts.page({ search: 'after the backup', offset: 0, limit: 1 }).total).toBe(0);
    restored.close();

    // Restoring over the live file brings back the backup's content.
    await restoreProject(backup, file);
    const back = Project.open(file);
    expect(back.prompts.page({ search: 'after the backup', offset: 0, limit: 1 }).total).toBe(0);
    expect(back.db.pragma('integrity_check', { simple: true })).toBe('ok');
    back.close();
  });

  it('finish even when another connection commits between every step', async () => {
    const dir = tempDir();
    const file = join(dir, 'busy.rlhf');
    const project = Project.open(file, { create: true });
    const writer = Project.open(file);
    project.db.transaction(() => {
      for (let i = 0; i < 3000; i++) project.prompts.upsert(`prompt ${i} ${'y'.repeat(4000)}`);
    })();
    let commits = 0;
    const backup = join(dir, 'busy-copy.rlhf');
    const { pages } = await backupProject(project.db, backup, () => {
      writer.prompts.upsert(`committed between steps ${commits++}`);
    });
    expect(pages).toBeGreaterThan(3 * 1024);
    expect(commits).toBeGreaterThanOrEqual(2);
    const copy = Project.open(backup);
    expect(copy.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(copy.stats.counts().prompts).toBeGreaterThanOrEqual(3000);
    copy.close();
    writer.close();
    project.close();
  });

  it('refuse to restore a file that is not a project', async () => {
    const dir = tempDir();
    const junk = join(dir, 'junk.rlhf');
    writeFileSync(junk, 'not a database at all, just text'.repeat(200));
    await expect(restoreProject(junk, join(dir, 'target.rlhf'))).rejects.toBeInstanceOf(BadBackupError);
    expect(existsSync(join(dir, 'target.rlhf'))).toBe(false);
    await expect(restoreProject(join(dir, 'nope.rlhf'), join(dir, 'target.rlhf'))).rejects.toThrow(/no such file/);
  });
});

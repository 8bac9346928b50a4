// Online backup and restore of a project file with SQLite's backup API (through better-sqlite3):
// the copy is consistent even while the app, a training run or annotators keep writing.
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { NewerProjectError, SCHEMA_VERSION, type DB } from './db.js';
import { checkWritableLocation } from './location.js';

export interface BackupProgress {
  totalPages: number;
  remainingPages: number;
}

/** Pages per backup step (4 MB at the default page size). */
const STEP_PAGES = 1024;
/** More pages than any file has: the step copies everything (a restart included) in one go. */
const ALL_PAGES = 0x7fffffff;

/**
 * A backup in progress leaves a marker beside the project (`<project>-backup-<pid>`, like SQLite's
 * `-wal`) naming its `.partial` file. A process killed mid-backup cannot delete its partial copy
 * (up to the project's size); the next open of the project does (cleanInterruptedBackups).
 */
function markerPath(projectFile: string, pid: number): string {
  return `${projectFile}-backup-${pid}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the partial copies of backups whose process has died; returns the files removed. */
export function cleanInterruptedBackups(projectFile: string): string[] {
  const dir = dirname(projectFile);
  const prefix = `${basename(projectFile)}-backup-`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^\d+$/.test(name.slice(prefix.length))) continue;
    const pid = Number(name.slice(prefix.length));
    if (pid === process.pid || alive(pid)) continue;
    const marker = join(dir, name);
    try {
      const partial = readFileSync(marker, 'utf8').trim();
      // Only ever a file this module named: `<dest>.partial`.
      if (partial.endsWith('.partial')) {
        rmSync(partial, { force: true });
        rmSync(`${partial}-journal`, { force: true }); // SQLite's rollback journal of the copy
        removed.push(partial);
      }
      rmSync(marker, { force: true });
    } catch {
      // Another process cleaned it up first, or the folder is read-only: nothing to do.
    }
  }
  return removed;
}

/** Copies the open project to `dest` (replaced if present) while it stays in use. */
export async function backupProject(db: DB, dest: string, onProgress?: (p: BackupProgress) => void): Promise<{ pages: number }> {
  // Written beside the target and renamed, so an interrupted backup never leaves a half file.
  const tmp = `${resolve(dest)}.partial`;
  checkWritableLocation(dest);
  let marker: string | null = markerPath(db.name, process.pid);
  try {
    writeFileSync(marker, tmp);
  } catch {
    marker = null; // a read-only project's folder: the backup itself still works
  }
  rmSync(tmp, { force: true });
  let pages = 0;
  let lastRemaining = Infinity;
  let wholeRest = false;
  try {
    await db.backup(tmp, {
      progress: (p) => {
        pages = p.totalPages;
        onProgress?.(p);
        // Small steps keep the process responsive on a big project, but SQLite restarts the copy
        // whenever another connection (a training worker, an annotator) commits between steps.
        // On the first restart, copy the rest in one step: one read snapshot, which in WAL mode
        // never blocks writers, so the backup always finishes.
        if (p.remainingPages >= lastRemaining) wholeRest = true;
        lastRemaining = p.remainingPages;
        return wholeRest ? ALL_PAGES : STEP_PAGES;
      },
    });
    renameSync(tmp, dest);
  } finally {
    rmSync(tmp, { force: true });
    if (marker) rmSync(marker, { force: true });
  }
  return { pages };
}

export class BadBackupError extends Error {}

/** Checks that `file` is a readable project this app can open; returns its schema version. */
export function verifyBackup(file: string): number {
  if (!existsSync(file)) throw new BadBackupError(`${file}: no such file`);
  let db: DB | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new NewerProjectError(file, version, SCHEMA_VERSION);
    const ok = db.pragma('integrity_check', { simple: true });
    if (ok !== 'ok') throw new BadBackupError(`${file}: the backup is damaged (integrity_check: ${String(ok)})`);
    const hasPrompts = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'prompts'").get();
    if (version < 1 || !hasPrompts) throw new BadBackupError(`${file}: not an RLHF Lab project`);
    return version;
  } catch (e) {
    if (e instanceof BadBackupError || e instanceof NewerProjectError) throw e;
    throw new BadBackupError(`${file}: not an RLHF Lab project (${e instanceof Error ? e.message : String(e)})`);
  } finally {
    db?.close();
  }
}

/**
 * Replaces the project at `target` with the backup's content. Goes through the backup API into
 * the target database, so the target's WAL and any other connection stay consistent.
 */
export async function restoreProject(backup: string, target: string): Promise<{ pages: number }> {
  verifyBackup(backup);
  checkWritableLocation(target);
  const src = new Database(backup, { readonly: true, fileMustExist: true });
  try {
    let pages = 0;
    await src.backup(target, {
      progress: (p) => {
        pages = p.totalPages;
        return 256;
      },
    });
    return { pages };
  } finally {
    src.close();
  }
}

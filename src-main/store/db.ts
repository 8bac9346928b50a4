// Opens a project file (*.rlhf, one SQLite database) and brings its schema up to date.
import Database from 'better-sqlite3';
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type DB = Database.Database;

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export class NewerProjectError extends Error {
  constructor(file: string, fileVersion: number, appVersion: number) {
    super(
      `${file} was written by a newer RLHF Lab (schema ${fileVersion}; this app knows up to ${appVersion}). ` +
        'Update the app to open it.',
    );
  }
}

/** PRAGMA application_id of every project file ("RLHF"): tells our files from other SQLite databases. */
export const APPLICATION_ID = 0x524c4846;

/** The file is not an RLHF Lab project (another SQLite database, an empty file); it was left untouched. */
export class NotAProjectError extends Error {}

/** The file fails SQLite's quick_check: some page is damaged. */
export class DamagedProjectError extends Error {
  constructor(file: string, detail: string) {
    super(
      `${file} is damaged (SQLite quick_check: ${detail.replace(/\s+/g, ' ').trim()}). Nothing was changed. Restore your last backup ` +
        `("rlhf-lab restore <backup> ${file} --force"), or open a backup copy instead.`,
    );
  }
}

interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Migrations are `NNNN-name.sql`, numbered without gaps from 1. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir).filter((f) => /^\d{4}-.+\.sql$/.test(f)).sort();
  return files.map((name, i) => {
    const version = Number(name.slice(0, 4));
    if (version !== i + 1) throw new Error(`migration ${name} is out of sequence (expected ${i + 1})`);
    return { version, name, sql: readFileSync(join(dir, name), 'utf8') };
  });
}

export const SCHEMA_VERSION = loadMigrations().length;

export interface OpenOptions {
  readonly?: boolean;
  /** Create the file when missing (default true). */
  create?: boolean;
  /** Run SQLite's quick_check on an existing file (default true; a job's worker skips it, its host just did it). */
  verify?: boolean;
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why `file` can only be read (null when it can be written): WAL needs the file and its folder writable. */
export function readOnlyReason(file: string): string | null {
  if (!existsSync(file)) return null;
  if (!writable(file)) return 'the file is read-only';
  if (!writable(dirname(file))) return 'its folder is read-only';
  return null;
}

/**
 * Whether SQLite can read `file` in place without writing: a WAL-mode file (header byte 18 = 2)
 * needs its -shm beside it, which a read-only folder cannot hold (SQLITE_READONLY_DIRECTORY).
 */
export function readableInPlace(file: string): boolean {
  if (writable(dirname(file)) || existsSync(`${file}-shm`)) return true;
  const header = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  return header[18] !== 2;
}

export function openDatabase(file: string, opts: OpenOptions = {}): DB {
  const isNew = !existsSync(file);
  if (!isNew && statSync(file).isFile() && statSync(file).size === 0) {
    throw new NotAProjectError(`${file} is an empty file, not an RLHF Lab project (nothing was changed)`);
  }
  if (isNew && opts.create === false) throw new Error(`${file}: no such file`);
  const readonly = opts.readonly ?? false;
  const db = new Database(file, { readonly, fileMustExist: !isNew });
  try {
    // Everything up to the version check only reads: a foreign, newer or damaged file is left exactly as it was.
    if (!isNew) identifyProject(db, file, opts.verify ?? true);
    // WAL lets the UI read curves while a run writes metrics; NORMAL is durable across
    // process crashes in WAL mode (only an OS crash can lose the last commits).
    if (!readonly) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // Writers (imports, training jobs) hold the write lock for short transactions: a connection
    // waits for it rather than failing. The app's request-serving connection sets 0 instead and
    // retries without blocking (api/services.ts, api/router.ts).
    db.pragma('busy_timeout = 60000');
    if (!readonly) beginWritesImmediately(db);
    if (!readonly) {
      migrate(db, file);
      if ((db.pragma('application_id', { simple: true }) as number) !== APPLICATION_ID) db.pragma(`application_id = ${APPLICATION_ID}`);
    } else if (checkVersion(db, file) < SCHEMA_VERSION) {
      throw new NotAProjectError(
        `${file} was written by an older RLHF Lab and is read-only here (${readOnlyReason(file) ?? 'opened read-only'}), so it cannot be brought up to date; copy it to a folder you can write`,
      );
    }
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Refuses, before anything is written, a file that is not ours (another application's SQLite
 * database), one from a newer app, or one with a damaged page. Files from before application_id
 * was set are recognised by their schema (a user_version and the prompts table).
 */
function identifyProject(db: DB, file: string, verify: boolean): void {
  let appId: number;
  let version: number;
  try {
    appId = db.pragma('application_id', { simple: true }) as number;
    version = db.pragma('user_version', { simple: true }) as number;
  } catch (e) {
    throw new NotAProjectError(`${file} is not an RLHF Lab project (${e instanceof Error ? e.message : String(e)}; nothing was changed)`);
  }
  let legacy: boolean;
  try {
    legacy = appId === 0 && version >= 1 && db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'prompts'").get() !== undefined;
  } catch (e) {
    if (String((e as { code?: unknown }).code).startsWith('SQLITE_CORRUPT')) throw new DamagedProjectError(file, e instanceof Error ? e.message : String(e));
    throw e;
  }
  if (appId !== APPLICATION_ID && !legacy) {
    throw new NotAProjectError(`${file} is not an RLHF Lab project (another SQLite database; nothing was changed)`);
  }
  checkVersion(db, file);
  if (!verify) return;
  let check: string;
  try {
    check = db.pragma('quick_check(1)', { simple: true }) as string;
  } catch (e) {
    // A damaged page can stop quick_check itself ("database disk image is malformed").
    if (!String((e as { code?: unknown }).code).startsWith('SQLITE_CORRUPT')) throw e;
    check = e instanceof Error ? e.message : String(e);
  }
  if (check !== 'ok') throw new DamagedProjectError(file, check);
}

/**
 * Makes `db.transaction(fn)()` begin IMMEDIATE (take the write lock up front). A deferred
 * transaction that reads and then writes while another connection (a training worker, another
 * annotator) has written meanwhile gets SQLITE_BUSY at once: busy_timeout cannot help it.
 * `.deferred` / `.exclusive` stay available; nested calls still become savepoints.
 */
function beginWritesImmediately(db: DB): void {
  const make = db.transaction.bind(db);
  db.transaction = ((fn: Parameters<DB['transaction']>[0]) => {
    const tx = make(fn);
    return Object.assign((...args: unknown[]) => tx.immediate(...(args as [])), {
      default: tx.immediate,
      deferred: tx.deferred,
      immediate: tx.immediate,
      exclusive: tx.exclusive,
    });
  }) as DB['transaction'];
}

function checkVersion(db: DB, file: string): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) throw new NewerProjectError(file, current, SCHEMA_VERSION);
  return current;
}

/** Applies every pending migration in one transaction: a file is either fully migrated or untouched. */
export function migrate(db: DB, file = db.name): void {
  const current = checkVersion(db, file);
  const pending = loadMigrations().filter((m) => m.version > current);
  if (pending.length === 0) return;
  // A migration that rebuilds a table (0008) must not cascade the drop of the old one: foreign
  // keys are off while migrating (SQLite ignores the pragma inside a transaction, hence outside)
  // and checked before the commit, as SQLite's ALTER TABLE procedure says.
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
  db.pragma('foreign_keys = OFF');
  try {
    db.transaction(() => {
      for (const m of pending) db.exec(m.sql);
      const broken = db.pragma('foreign_key_check') as unknown[];
      if (broken.length > 0) throw new Error(`${file}: migrating left ${broken.length} broken references; nothing was changed`);
      db.pragma(`user_version = ${pending[pending.length - 1]!.version}`);
    })();
  } finally {
    if (foreignKeys) db.pragma('foreign_keys = ON');
  }
}

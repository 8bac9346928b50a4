// Opens a project file (*.rlhf, one SQLite database) and brings its schema up to date.
import Database from 'better-sqlite3';
import { readFileSync, readdirSync } from 'node:fs';
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
}

export function openDatabase(file: string, opts: OpenOptions = {}): DB {
  const db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.create === false });
  try {
    // WAL lets the UI read curves while a run writes metrics; NORMAL is durable across
    // process crashes in WAL mode (only an OS crash can lose the last commits).
    if (!opts.readonly) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // An import holds the write lock until it commits (all or nothing; a 200 MB file takes ~20 s):
    // a judgment submitted meanwhile waits for it rather than failing.
    db.pragma('busy_timeout = 60000');
    if (!opts.readonly) beginWritesImmediately(db);
    if (!opts.readonly) migrate(db, file);
    else checkVersion(db, file);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
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
  db.transaction(() => {
    for (const m of pending) db.exec(m.sql);
    db.pragma(`user_version = ${pending[pending.length - 1]!.version}`);
  })();
}

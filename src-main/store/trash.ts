// Deleting with undo: a record and everything that depends on it, found by following the
// schema's foreign keys (so a table added later is covered without a list to keep up to date).
// Rows that would be deleted with it (ON DELETE CASCADE, or a plain reference, which would
// otherwise block the delete) are copied out first; references that SQLite sets to NULL are
// remembered. The copies stay in memory until the project is closed: restoring writes the rows
// back, parents first, with their old ids, and the nulled references again. Derived tables kept
// by triggers (pairs, the search indexes) follow the rows by themselves. Hand-written: SQLite has
// no undo for a committed delete, and no library here offers one.
import type { DB } from './db.js';

type Row = Record<string, unknown>;

interface ForeignKey {
  /** The referencing (child) table and column. */
  table: string;
  column: string;
  /** The referenced column of the parent ('id' when the schema names none). */
  parentColumn: string;
  onDelete: string;
}

export interface Dependent {
  table: string;
  count: number;
  /** 'deleted' with the record, or 'unlinked' (the reference is cleared; the row stays). */
  effect: 'deleted' | 'unlinked';
}

interface Plan {
  /** Rows to delete, table by table, parents before children. */
  rows: { table: string; rows: Row[] }[];
  /** References SQLite will set to NULL: restored with the rows. */
  nulls: { table: string; column: string; row: Row; value: unknown }[];
}

export interface TrashEntry {
  id: number;
  /** What was deleted, as a person names it ("run #3 “SFT from base”"). */
  label: string;
  kind: string;
  recordId: number;
  deletedAt: number;
  dependents: Dependent[];
}

const ROWID = '__rowid__';

export class Trash {
  #entries = new Map<number, { entry: TrashEntry; plan: Plan }>();
  #next = 1;
  #keys: Map<string, ForeignKey[]> | null = null;
  #shapes = new Map<string, { key: string[]; integerKey: boolean }>();

  constructor(private readonly db: DB) {}

  /** What deleting row `id` of `table` takes with it (the record itself not counted). */
  dependents(table: string, id: number): Dependent[] {
    return summarise(this.#plan(table, id), table);
  }

  /** Deletes the row and its dependents in one transaction; they can be restored until the project closes. */
  remove(table: string, id: number, kind: string, label: string): TrashEntry {
    return this.db.transaction(() => {
      const plan = this.#plan(table, id);
      if (plan.rows[0]!.rows.length === 0) throw new Error(`no ${kind} ${id}`);
      // References are checked at commit, when every row of the plan is gone.
      this.db.pragma('defer_foreign_keys = ON');
      // Children first, so a plain reference never blocks its parent's delete.
      for (const { table: t, rows } of [...plan.rows].reverse()) {
        for (const r of rows) {
          const w = this.#where(t, r);
          this.db.prepare(`DELETE FROM "${t}" WHERE ${w.sql}`).run(...(w.values as never[]));
        }
      }
      const entry: TrashEntry = { id: this.#next++, label, kind, recordId: id, deletedAt: Date.now(), dependents: summarise(plan, table) };
      this.#entries.set(entry.id, { entry, plan });
      return entry;
    })();
  }

  list(): TrashEntry[] {
    return [...this.#entries.values()].map((e) => e.entry).reverse();
  }

  /** Writes the rows back with their ids; fails (changing nothing) if one of them exists again. */
  restore(trashId: number): TrashEntry {
    const held = this.#entries.get(trashId);
    if (!held) throw new Error(`nothing in the trash with id ${trashId}`);
    this.db.transaction(() => {
      // A row may refer to another restored row that comes later in the plan: checked at commit.
      this.db.pragma('defer_foreign_keys = ON');
      for (const { table, rows } of held.plan.rows) {
        for (const r of rows) {
          const cols = Object.keys(r).filter((c) => c !== ROWID);
          const shape = this.#shape(table);
          const keepRowid = shape.key[0] === ROWID && !shape.integerKey;
          const names = [...(keepRowid ? ['rowid'] : []), ...cols.map((c) => `"${c}"`)];
          const values = [...(keepRowid ? [r[ROWID]] : []), ...cols.map((c) => r[c])];
          this.db.prepare(`INSERT INTO "${table}" (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`).run(...(values as never[]));
        }
      }
      for (const n of held.plan.nulls) {
        const w = this.#where(n.table, n.row);
        this.db.prepare(`UPDATE "${n.table}" SET "${n.column}" = ? WHERE ${w.sql}`).run(n.value as never, ...(w.values as never[]));
      }
    })();
    this.#entries.delete(trashId);
    return held.entry;
  }

  #plan(table: string, id: number): Plan {
    const keys = this.#foreignKeys();
    const plan: Plan = { rows: [], nulls: [] };
    const seen = new Map<string, Set<string>>();
    const visit = (t: string, rows: Row[]) => {
      const fresh = rows.filter((r) => {
        const s = seen.get(t) ?? new Set<string>();
        seen.set(t, s);
        const k = JSON.stringify(this.#where(t, r).values);
        if (s.has(k)) return false;
        s.add(k);
        return true;
      });
      if (fresh.length === 0 && plan.rows.length > 0) return;
      plan.rows.push({ table: t, rows: fresh });
      for (const fk of keys.get(t) ?? []) {
        const values = [...new Set(fresh.map((r) => r[fk.parentColumn]))].filter((v) => v !== null && v !== undefined);
        if (values.length === 0) continue;
        const children = this.#select(fk.table, fk.column, values);
        if (fk.onDelete === 'SET NULL') {
          for (const c of children) plan.nulls.push({ table: fk.table, column: fk.column, row: c, value: c[fk.column] });
        } else if (children.length) {
          visit(fk.table, children);
        }
      }
    };
    visit(table, this.#select(table, 'rowid', [id]));
    return plan;
  }

  #select(table: string, column: string, values: unknown[]): Row[] {
    const out: Row[] = [];
    // In chunks: SQLite limits the number of bound parameters.
    for (let i = 0; i < values.length; i += 500) {
      const part = values.slice(i, i + 500);
      const where = column === 'rowid' ? 'rowid' : `"${column}"`;
      const rowid = this.#shape(table).key[0] === ROWID ? `rowid AS ${ROWID}, ` : '';
      out.push(...(this.db.prepare(`SELECT ${rowid}* FROM "${table}" WHERE ${where} IN (${part.map(() => '?').join(', ')})`).all(...(part as never[])) as Row[]));
    }
    return out;
  }

  /** Foreign keys by referenced table, read from the schema once. */
  #foreignKeys(): Map<string, ForeignKey[]> {
    if (this.#keys) return this.#keys;
    const tables = this.db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%'")
      .all()
      .map((t) => t.name);
    const keys = new Map<string, ForeignKey[]>();
    for (const t of tables) {
      const list = this.db.prepare(`PRAGMA foreign_key_list("${t}")`).all() as { table: string; from: string; to: string | null; on_delete: string }[];
      for (const fk of list) {
        const arr = keys.get(fk.table) ?? [];
        arr.push({ table: t, column: fk.from, parentColumn: fk.to ?? 'id', onDelete: fk.on_delete });
        keys.set(fk.table, arr);
      }
    }
    this.#keys = keys;
    return keys;
  }

  /**
   * How a row of the table is found again: by rowid, or — in a WITHOUT ROWID table (metrics) — by
   * its primary key; and whether its primary key is an INTEGER column (an alias of rowid, restored
   * by its own name).
   */
  #shape(table: string): { key: string[]; integerKey: boolean } {
    const cached = this.#shapes.get(table);
    if (cached) return cached;
    const cols = this.db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string; type: string; pk: number }[];
    const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
    const sql = (this.db.prepare("SELECT sql FROM sqlite_master WHERE name = ?").get(table) as { sql: string }).sql;
    const shape = { key: /WITHOUT\s+ROWID/i.test(sql) ? pk.map((c) => c.name) : [ROWID], integerKey: pk.length === 1 && pk[0]!.type.toUpperCase() === 'INTEGER' };
    this.#shapes.set(table, shape);
    return shape;
  }

  /** WHERE clause and values that find one captured row again. */
  #where(table: string, row: Row): { sql: string; values: unknown[] } {
    const { key } = this.#shape(table);
    if (key[0] === ROWID) return { sql: 'rowid = ?', values: [row[ROWID]] };
    return { sql: key.map((k) => `"${k}" = ?`).join(' AND '), values: key.map((k) => row[k]) };
  }
}

function summarise(plan: Plan, root: string): Dependent[] {
  const out = new Map<string, Dependent>();
  plan.rows.forEach(({ table, rows }, i) => {
    const n = i === 0 && table === root ? rows.length - 1 : rows.length;
    if (n <= 0) return;
    const d = out.get(`${table}|deleted`) ?? { table, count: 0, effect: 'deleted' as const };
    d.count += n;
    out.set(`${table}|deleted`, d);
  });
  for (const n of plan.nulls) {
    const d = out.get(`${n.table}|unlinked`) ?? { table: n.table, count: 0, effect: 'unlinked' as const };
    d.count += 1;
    out.set(`${n.table}|unlinked`, d);
  }
  return [...out.values()];
}

// The people (and simulated rubric annotators) whose judgments a project holds.
import type { DB } from './db.js';

export interface Annotator {
  id: number;
  name: string;
  colour: string;
  simulated: boolean;
  /** Not a person: the annotator imports credit (IMPORT_ANNOTATOR). Kept out of pickers and progress. */
  pseudo: boolean;
  created_at: number;
}

type DbRow = Omit<Annotator, 'simulated' | 'pseudo'> & { simulated: number };

/** The annotator credited with imported preferences and rankings that name nobody. */
export const IMPORT_ANNOTATOR = 'import';

export class AnnotatorsRepo {
  private readonly insertStmt;
  private readonly byNameStmt;
  private readonly getStmt;
  private readonly listStmt;
  private readonly createStmt;
  private readonly updateStmt;

  constructor(db: DB) {
    this.insertStmt = db.prepare<[string, string, number, number], { id: number }>(
      `INSERT INTO annotators (name, colour, simulated, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO NOTHING RETURNING id`,
    );
    const cols = 'id, name, colour, simulated, created_at';
    this.byNameStmt = db.prepare<[string], DbRow>(`SELECT ${cols} FROM annotators WHERE name = ?`);
    this.getStmt = db.prepare<[number], DbRow>(`SELECT ${cols} FROM annotators WHERE id = ?`);
    this.listStmt = db.prepare<[], DbRow>(`SELECT ${cols} FROM annotators ORDER BY id`);
    this.createStmt = db.prepare<[string, string, number], { id: number }>(
      'INSERT INTO annotators (name, colour, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING id',
    );
    this.updateStmt = db.prepare<{ id: number; name: string | null; colour: string | null }>(
      'UPDATE annotators SET name = coalesce(:name, name), colour = coalesce(:colour, colour) WHERE id = :id',
    );
  }

  /** A new profile (a person who labels); null when the name is taken. */
  create(name: string, colour: string): number | null {
    return this.createStmt.get(name, colour, Date.now())?.id ?? null;
  }

  /** Renames or recolours a profile; false when no such annotator. Throws on a taken name. */
  update(id: number, change: { name?: string; colour?: string }): boolean {
    return this.updateStmt.run({ id, name: change.name ?? null, colour: change.colour ?? null }).changes > 0;
  }

  /** The id of the annotator with this name, created on first use. */
  ensure(name: string, opts: { colour?: string; simulated?: boolean } = {}): number {
    const row = this.insertStmt.get(name, opts.colour ?? '#4f7cff', opts.simulated ? 1 : 0, Date.now());
    return row ? row.id : this.byNameStmt.get(name)!.id;
  }

  byName(name: string): Annotator | undefined {
    const row = this.byNameStmt.get(name);
    return row && parse(row);
  }

  get(id: number): Annotator | undefined {
    const row = this.getStmt.get(id);
    return row && parse(row);
  }

  list(): Annotator[] {
    return this.listStmt.all().map(parse);
  }
}

function parse(row: DbRow): Annotator {
  return { ...row, simulated: row.simulated === 1, pseudo: row.name === IMPORT_ANNOTATOR };
}

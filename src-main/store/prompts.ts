// Prompts: unique by text (sha256), with a train/eval split.
import type { Page, PromptRow } from '../api/contract.js';
import type { DB } from './db.js';
import { sha256 } from './hash.js';
import { textSearch } from './search.js';

export type Split = 'train' | 'eval';

export interface Prompt {
  id: number;
  text: string;
  split: Split;
  source: string;
  meta: unknown;
  created_at: number;
}

interface PromptDbRow extends Omit<Prompt, 'meta'> {
  meta: string | null;
}

export interface PageQuery {
  search?: string;
  split?: Split;
  offset: number;
  limit: number;
}

export class PromptsRepo {
  private readonly insertStmt;
  private readonly idByHash;
  private readonly getStmt;
  private readonly countStmt;
  private readonly allStmt;
  private readonly pageStmts;

  constructor(private readonly db: DB) {
    this.insertStmt = db.prepare<[string, Split, string, string | null, number, string], { id: number }>(
      `INSERT INTO prompts (text, split, source, meta, created_at, text_hash) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (text_hash) DO NOTHING RETURNING id`,
    );
    this.idByHash = db.prepare<[string], { id: number }>('SELECT id FROM prompts WHERE text_hash = ?');
    this.getStmt = db.prepare<[number], PromptDbRow>('SELECT id, text, split, source, meta, created_at FROM prompts WHERE id = ?');
    this.countStmt = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM prompts');
    this.allStmt = db.prepare<[], PromptDbRow>('SELECT id, text, split, source, meta, created_at FROM prompts ORDER BY id');
    type Filter = { split: Split | null; term: string | null };
    const select = `SELECT p.id, p.text, p.split,
              (SELECT count(*) FROM responses r WHERE r.prompt_id = p.id) AS responses,
              (SELECT count(*) FROM rankings k WHERE k.prompt_id = p.id) AS rankings FROM prompts p`;
    const bySplit = '(:split IS NULL OR p.split = :split)';
    const matches = {
      none: ':term IS NULL',
      fts: 'p.id IN (SELECT rowid FROM prompts_fts WHERE prompts_fts MATCH :term)',
      like: "p.text LIKE :term ESCAPE '\\'",
    };
    const variant = (where: string) => ({
      page: db.prepare<Filter & { limit: number; offset: number }, PromptRow>(
        `${select} WHERE ${bySplit} AND ${where} ORDER BY p.id LIMIT :limit OFFSET :offset`,
      ),
      total: db.prepare<Filter, { n: number }>(`SELECT count(*) AS n FROM prompts p WHERE ${bySplit} AND ${where}`),
    });
    this.pageStmts = { none: variant(matches.none), fts: variant(matches.fts), like: variant(matches.like) };
  }

  /** Adds a prompt unless the same text exists; returns its id either way. */
  upsert(text: string, opts: { split?: Split; source?: string; meta?: unknown } = {}): { id: number; created: boolean } {
    const hash = sha256(text);
    const meta = opts.meta === undefined ? null : JSON.stringify(opts.meta);
    const row = this.insertStmt.get(text, opts.split ?? 'train', opts.source ?? 'import', meta, Date.now(), hash);
    if (row) return { id: row.id, created: true };
    return { id: this.idByHash.get(hash)!.id, created: false };
  }

  get(id: number): Prompt | undefined {
    const row = this.getStmt.get(id);
    return row && parsePrompt(row);
  }

  count(): number {
    return this.countStmt.get()!.n;
  }

  *iterate(): IterableIterator<Prompt> {
    for (const row of this.allStmt.iterate()) yield parsePrompt(row);
  }

  page(q: PageQuery): Page<PromptRow> {
    const search = textSearch(q.search);
    const stmts = this.pageStmts[search.mode];
    const filter = { split: q.split ?? null, term: search.mode === 'fts' ? search.q : search.mode === 'like' ? search.like : null };
    const rows = stmts.page.all({ ...filter, limit: q.limit, offset: q.offset });
    return { rows, total: stmts.total.get(filter)!.n, offset: q.offset };
  }
}

function parsePrompt(row: PromptDbRow): Prompt {
  return { ...row, meta: row.meta === null ? null : (JSON.parse(row.meta) as unknown) };
}

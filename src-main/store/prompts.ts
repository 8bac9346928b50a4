// Prompts: unique by text (sha256), with a train/eval split.
import type { Page, PromptRow } from '../shared/contract.js';
import type { DB } from './db.js';
import { sha256 } from './hash.js';
import { likePattern } from './like.js';

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
  private readonly allStmt;
  private readonly pageStmt;
  private readonly totalStmt;
  private readonly searchIds;
  private readonly rowsByIds;

  constructor(private readonly db: DB) {
    this.insertStmt = db.prepare<[string, Split, string, string | null, number, string], { id: number }>(
      `INSERT INTO prompts (text, split, source, meta, created_at, text_hash) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (text_hash) DO NOTHING RETURNING id`,
    );
    this.idByHash = db.prepare<[string], { id: number }>('SELECT id FROM prompts WHERE text_hash = ?');
    this.getStmt = db.prepare<[number], PromptDbRow>('SELECT id, text, split, source, meta, created_at FROM prompts WHERE id = ?');
    this.allStmt = db.prepare<[], PromptDbRow>('SELECT id, text, split, source, meta, created_at FROM prompts ORDER BY id');
    const select = `SELECT p.id, p.text, p.split,
              (SELECT count(*) FROM responses r WHERE r.prompt_id = p.id) AS responses,
              (SELECT count(*) FROM rankings k WHERE k.prompt_id = p.id) AS rankings FROM prompts p`;
    const bySplit = '(:split IS NULL OR p.split = :split)';
    this.pageStmt = db.prepare<{ split: Split | null; limit: number; offset: number }, PromptRow>(
      `${select} WHERE ${bySplit} ORDER BY p.id LIMIT :limit OFFSET :offset`,
    );
    this.totalStmt = db.prepare<{ split: Split | null }, { n: number }>(`SELECT count(*) AS n FROM prompts p WHERE ${bySplit}`);
    // A search collects every matching id in one scan (the total is its length), then reads one page.
    this.searchIds = db
      .prepare<{ split: Split | null; like: string }, number>(
        `SELECT p.id FROM prompts p WHERE ${bySplit} AND p.text LIKE :like ESCAPE '\\' ORDER BY p.id`,
      )
      .pluck();
    this.rowsByIds = db.prepare<[string], PromptRow>(`${select} WHERE p.id IN (SELECT value FROM json_each(?)) ORDER BY p.id`);
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

  *iterate(): IterableIterator<Prompt> {
    for (const row of this.allStmt.iterate()) yield parsePrompt(row);
  }

  page(q: PageQuery): Page<PromptRow> {
    const split = q.split ?? null;
    const like = likePattern(q.search);
    if (like === null) {
      return { rows: this.pageStmt.all({ split, limit: q.limit, offset: q.offset }), total: this.totalStmt.get({ split })!.n, offset: q.offset };
    }
    const ids = this.searchIds.all({ split, like });
    const rows = this.rowsByIds.all(JSON.stringify(ids.slice(q.offset, q.offset + q.limit)));
    return { rows, total: ids.length, offset: q.offset };
  }
}

function parsePrompt(row: PromptDbRow): Prompt {
  return { ...row, meta: row.meta === null ? null : (JSON.parse(row.meta) as unknown) };
}

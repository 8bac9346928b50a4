// SFT demonstrations in the three shapes of ALGORITHMS.md: prompt/completion, messages, text.
import type { Page, SftRow } from '../shared/contract.js';
import type { DB } from './db.js';
import { hashParts } from './hash.js';
import { likePattern } from './like.js';
import type { Split } from './prompts.js';

export interface ChatMessage {
  role: string;
  content: string;
}

export type SftRecord =
  | { kind: 'completion'; prompt: string; completion: string }
  | { kind: 'messages'; messages: ChatMessage[] }
  | { kind: 'text'; text: string };

export type SftExample = SftRecord & { id: number; split: Split };

interface DbRow {
  id: number;
  kind: SftRecord['kind'];
  prompt: string | null;
  completion: string | null;
  messages: string | null;
  text: string | null;
  split: Split;
}

export class SftRepo {
  private readonly insertStmt;
  private readonly allStmt;
  private readonly pageStmt;
  private readonly pageTotal;

  constructor(db: DB) {
    this.insertStmt = db.prepare(
      `INSERT INTO sft_examples (kind, prompt, completion, messages, text, split, created_at, record_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (record_hash) DO NOTHING`,
    );
    const cols = 'id, kind, prompt, completion, messages, text, split';
    this.allStmt = db.prepare<[], DbRow>(`SELECT ${cols} FROM sft_examples ORDER BY id`);
    const where = `(:like IS NULL OR coalesce(prompt, '') || char(10) || coalesce(completion, '') || char(10) ||
                    coalesce(messages, '') || char(10) || coalesce(text, '') LIKE :like ESCAPE '\\')`;
    this.pageStmt = db.prepare<{ like: string | null; limit: number; offset: number }, DbRow>(
      `SELECT ${cols} FROM sft_examples WHERE ${where} ORDER BY id LIMIT :limit OFFSET :offset`,
    );
    this.pageTotal = db.prepare<{ like: string | null }, { n: number }>(`SELECT count(*) AS n FROM sft_examples WHERE ${where}`);
  }

  /** Adds a demonstration unless an identical one exists; returns whether it was added. */
  insert(record: SftRecord, split: Split = 'train'): boolean {
    const r = columns(record);
    const hash = hashParts(record.kind, r.prompt ?? '', r.completion ?? '', r.messages ?? '', r.text ?? '');
    return this.insertStmt.run(record.kind, r.prompt, r.completion, r.messages, r.text, split, Date.now(), hash).changes === 1;
  }

  *iterate(): IterableIterator<SftExample> {
    for (const row of this.allStmt.iterate()) yield parse(row);
  }

  page(q: { search?: string; offset: number; limit: number }): Page<SftRow> {
    const like = likePattern(q.search);
    const rows = this.pageStmt.all({ like, limit: q.limit, offset: q.offset }).map((r) => ({
      id: r.id,
      kind: r.kind,
      prompt: r.prompt,
      completion: r.completion,
      // The browse table shows a messages example as its transcript.
      text: r.kind === 'messages' ? transcript(JSON.parse(r.messages!) as ChatMessage[]) : r.text,
      split: r.split,
    }));
    return { rows, total: this.pageTotal.get({ like })!.n, offset: q.offset };
  }
}

function columns(r: SftRecord) {
  return {
    prompt: r.kind === 'completion' ? r.prompt : null,
    completion: r.kind === 'completion' ? r.completion : null,
    messages: r.kind === 'messages' ? JSON.stringify(r.messages) : null,
    text: r.kind === 'text' ? r.text : null,
  };
}

function parse(row: DbRow): SftExample {
  if (row.kind === 'completion') return { id: row.id, split: row.split, kind: 'completion', prompt: row.prompt!, completion: row.completion! };
  if (row.kind === 'messages')
    return { id: row.id, split: row.split, kind: 'messages', messages: JSON.parse(row.messages!) as ChatMessage[] };
  return { id: row.id, split: row.split, kind: 'text', text: row.text! };
}

function transcript(messages: ChatMessage[]): string {
  return messages.map((m) => `${m.role}: ${m.content}`).join('\n');
}

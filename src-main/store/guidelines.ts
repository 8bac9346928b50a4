// The project's labeling guidelines: one Markdown document every annotator reads beside the items.
import type { DB } from './db.js';

export class GuidelinesRepo {
  readonly #get;
  readonly #set;

  constructor(db: DB) {
    this.#get = db.prepare<[], { markdown: string; updated_at: number }>('SELECT markdown, updated_at FROM guidelines WHERE id = 1');
    this.#set = db.prepare<[string, number]>(
      'INSERT INTO guidelines (id, markdown, updated_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET markdown = excluded.markdown, updated_at = excluded.updated_at',
    );
  }

  get(): { markdown: string; updated_at: number | null } {
    return this.#get.get() ?? { markdown: '', updated_at: null };
  }

  set(markdown: string): { markdown: string; updated_at: number } {
    const now = Date.now();
    this.#set.run(markdown, now);
    return { markdown, updated_at: now };
  }
}

// How a search box term is matched: through the trigram full-text indexes (migration 0003) when
// it has 3+ characters, which they need; shorter terms, or terms with LIKE wildcards the user
// typed, fall back to a LIKE scan.
import { likePattern } from './like.js';

export type TextSearch = { mode: 'none' } | { mode: 'fts'; q: string } | { mode: 'like'; like: string };

export function textSearch(search: string | undefined): TextSearch {
  const term = search?.trim() ?? '';
  if (!term) return { mode: 'none' };
  if ([...term].length < 3) return { mode: 'like', like: likePattern(term)! };
  // One quoted FTS5 phrase: with the trigram tokenizer, a case-insensitive substring match.
  return { mode: 'fts', q: `"${term.replace(/"/g, '""')}"` };
}

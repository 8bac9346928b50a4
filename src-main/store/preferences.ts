// Preference data read as pairs (chosen, rejected): from submitted rankings (every two responses
// in different rank groups; ties give no pair) plus A/B comparisons with a winner. Also writes the
// rankings that imports create.
import type { Page, PairRow } from '../shared/contract.js';
import type { VoteOutcome } from '../shared/vocabulary.js';
import type { DB } from './db.js';
import { likePattern } from './like.js';

export interface NewRanking {
  uid: string;
  promptId: number;
  annotatorId: number;
  /** Response ids best first; ids in one inner list are tied. */
  ranking: number[][];
  flags?: string[];
  comment?: string;
  seconds?: number;
  source: 'human' | 'import' | 'simulated';
}

export interface Pair {
  prompt_id: number;
  prompt: string;
  prompt_meta: string | null;
  chosen: string;
  rejected: string;
  annotator: string;
}

export interface RankingExport {
  id: number;
  prompt: string;
  /** Texts of the ranked responses with their texts' ids, best group first. */
  groups: { id: number; text: string }[][];
  annotator: string;
  flags: string[];
  comment: string;
  seconds: number;
  source: string;
  created_at: number;
}

export interface ComparisonExport {
  prompt: string;
  response_a: string;
  response_b: string;
  outcome: VoteOutcome;
  annotator: string;
  context: string;
  flags: string[];
  comment: string;
  seconds: number;
  created_at: number;
}

// Pairs come from the `pairs` table that triggers keep (migration 0003), in the order the
// judgments were made. CROSS JOIN pins the pairs scan (rowid order) as the outer loop, so a page
// is LIMIT/OFFSET over an integer key with no sort.
const PAIR_COLUMNS = `x.prompt_id, p.text AS prompt, p.meta AS prompt_meta, c.text AS chosen, j.text AS rejected, a.name AS annotator`;
const PAIR_JOINS = `FROM pairs x CROSS JOIN prompts p CROSS JOIN responses c CROSS JOIN responses j CROSS JOIN annotators a`;
const PAIR_ON = `p.id = x.prompt_id AND c.id = x.chosen_id AND j.id = x.rejected_id AND a.id = x.annotator_id`;
// A search collects the ids of every matching pair in one pass (the total is their number),
// then reads one page of rows by id.
const SEARCH_IDS = `
  WITH r AS MATERIALIZED (SELECT id FROM responses WHERE text LIKE :like ESCAPE '\\')
  SELECT x.id FROM pairs x
  WHERE x.prompt_id IN (SELECT id FROM prompts WHERE text LIKE :like ESCAPE '\\')
     OR x.chosen_id IN (SELECT id FROM r) OR x.rejected_id IN (SELECT id FROM r)
  ORDER BY x.id`;

export class PreferencesRepo {
  private readonly insertRankingStmt;
  private readonly pageIds;
  private readonly countAll;
  private readonly searchIds;
  private readonly rowsByIds;
  private readonly allPairs;
  private readonly rankingsStmt;
  private readonly responseText;
  private readonly comparisonsStmt;

  constructor(db: DB) {
    this.insertRankingStmt = db.prepare(
      `INSERT INTO rankings (uid, prompt_id, annotator_id, status, ranking, flags, comment, seconds_spent, source, created_at, updated_at)
       VALUES (?, ?, ?, 'submitted', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uid) DO NOTHING`,
    );
    type Paging = { limit: number; offset: number };
    // Page by id alone first: OFFSET then skips over bare rowids, not over joined rows.
    this.pageIds = db.prepare<Paging, number>('SELECT id FROM pairs ORDER BY id LIMIT :limit OFFSET :offset').pluck();
    this.countAll = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM pairs');
    this.searchIds = db.prepare<{ like: string }, number>(SEARCH_IDS).pluck();
    this.rowsByIds = db.prepare<[string], Pair & { ranking_id: number | null; comparison_id: number | null }>(
      `SELECT ${PAIR_COLUMNS}, x.ranking_id, x.comparison_id ${PAIR_JOINS} WHERE x.id IN (SELECT value FROM json_each(?)) AND ${PAIR_ON} ORDER BY x.id`,
    );
    this.allPairs = db.prepare<[], Pair>(`SELECT ${PAIR_COLUMNS} ${PAIR_JOINS} WHERE ${PAIR_ON} ORDER BY x.id`);
    this.rankingsStmt = db.prepare<
      [],
      { id: number; prompt: string; ranking: string; annotator: string; flags: string; comment: string; seconds_spent: number; source: string; created_at: number }
    >(
      `SELECT r.id, p.text AS prompt, r.ranking, a.name AS annotator, r.flags, r.comment, r.seconds_spent, r.source, r.created_at
       FROM rankings r JOIN prompts p ON p.id = r.prompt_id JOIN annotators a ON a.id = r.annotator_id
       WHERE r.status = 'submitted' ORDER BY r.id`,
    );
    this.responseText = db.prepare<[number], { text: string }>('SELECT text FROM responses WHERE id = ?');
    this.comparisonsStmt = db.prepare<
      [],
      Omit<ComparisonExport, 'flags' | 'seconds'> & { flags: string; seconds_spent: number }
    >(
      `SELECT p.text AS prompt, ra.text AS response_a, rb.text AS response_b, m.outcome, a.name AS annotator,
              m.context, m.flags, m.comment, m.seconds_spent, m.created_at
       FROM comparisons m JOIN prompts p ON p.id = m.prompt_id JOIN annotators a ON a.id = m.annotator_id
       JOIN responses ra ON ra.id = m.response_a JOIN responses rb ON rb.id = m.response_b ORDER BY m.id`,
    );
  }

  /** Adds a submitted ranking unless one with this uid exists; returns whether it was added. */
  insertRanking(r: NewRanking): boolean {
    const now = Date.now();
    return (
      this.insertRankingStmt.run(
        r.uid,
        r.promptId,
        r.annotatorId,
        JSON.stringify(r.ranking),
        JSON.stringify(r.flags ?? []),
        r.comment ?? '',
        r.seconds ?? 0,
        r.source,
        now,
        now,
      ).changes === 1
    );
  }

  /** A page of pairs in judgment order; search matches the prompt or either response. */
  pairsPage(q: { search?: string; offset: number; limit: number }): Page<PairRow> {
    const like = likePattern(q.search);
    let ids: number[];
    let total: number;
    if (like === null) {
      ids = this.pageIds.all({ limit: q.limit, offset: q.offset });
      total = this.countAll.get()!.n;
    } else {
      const all = this.searchIds.all({ like });
      ids = all.slice(q.offset, q.offset + q.limit);
      total = all.length;
    }
    const rows = this.rowsByIds.all(JSON.stringify(ids));
    return {
      rows: rows.map((r) => ({
        prompt_id: r.prompt_id,
        prompt: r.prompt,
        chosen: r.chosen,
        rejected: r.rejected,
        annotator: r.annotator,
        ranking_id: r.ranking_id,
        comparison_id: r.comparison_id,
      })),
      total,
      offset: q.offset,
    };
  }

  /** Every pair, for export and training. */
  iteratePairs(): IterableIterator<Pair> {
    return this.allPairs.iterate();
  }

  *iterateRankings(): IterableIterator<RankingExport> {
    for (const r of this.rankingsStmt.iterate()) {
      const ids = JSON.parse(r.ranking) as number[][];
      yield {
        id: r.id,
        prompt: r.prompt,
        groups: ids.map((g) => g.map((id) => ({ id, text: this.responseText.get(id)?.text ?? '' }))),
        annotator: r.annotator,
        flags: JSON.parse(r.flags) as string[],
        comment: r.comment,
        seconds: r.seconds_spent,
        source: r.source,
        created_at: r.created_at,
      };
    }
  }

  *iterateComparisons(): IterableIterator<ComparisonExport> {
    for (const c of this.comparisonsStmt.iterate()) {
      const { seconds_spent, flags, ...rest } = c;
      yield { ...rest, flags: JSON.parse(flags) as string[], seconds: seconds_spent };
    }
  }
}

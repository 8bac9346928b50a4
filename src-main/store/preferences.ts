// Preference data read as pairs (chosen, rejected): expanded from submitted rankings
// (every two responses in different rank groups; ties give no pair) plus blind A/B comparisons
// with a winner. Also writes the rankings that imports create.
import type { Page, PairRow } from '../api/contract.js';
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
  outcome: 'a' | 'b' | 'tie' | 'both_bad';
  annotator: string;
  context: string;
  flags: string[];
  comment: string;
  seconds: number;
  created_at: number;
}

// Pairs in a stable order (ranking or comparison id, then position), so offsets page reliably.
// json_each walks a ranking's groups in order; CROSS JOIN pins the rankings scan (rowid order) as
// the outer loop, which keeps LIMIT/OFFSET pages cheap without sorting (the planner otherwise
// picks a full responses scan first).
const RANKING_PAIRS = `
  SELECT r.id AS ord, 0 AS kind, r.prompt_id, p.text AS prompt, p.meta AS prompt_meta,
         c.text AS chosen, j.text AS rejected, a.name AS annotator
  FROM rankings r
  CROSS JOIN json_each(r.ranking) g1
  CROSS JOIN json_each(r.ranking) g2
  CROSS JOIN json_each(g1.value) w
  CROSS JOIN json_each(g2.value) l
  CROSS JOIN prompts p
  CROSS JOIN annotators a
  CROSS JOIN responses c
  CROSS JOIN responses j
  WHERE r.status = 'submitted' AND g2.key > g1.key AND p.id = r.prompt_id AND a.id = r.annotator_id
    AND c.id = w.value AND j.id = l.value`;
const COMPARISON_PAIRS = `
  SELECT m.id AS ord, 1 AS kind, m.prompt_id, p.text AS prompt, p.meta AS prompt_meta,
         CASE m.outcome WHEN 'a' THEN ra.text ELSE rb.text END AS chosen,
         CASE m.outcome WHEN 'a' THEN rb.text ELSE ra.text END AS rejected, a.name AS annotator
  FROM comparisons m
  JOIN prompts p ON p.id = m.prompt_id
  JOIN annotators a ON a.id = m.annotator_id
  JOIN responses ra ON ra.id = m.response_a
  JOIN responses rb ON rb.id = m.response_b
  WHERE m.outcome IN ('a', 'b')`;
const SEARCH = `(:like IS NULL OR prompt LIKE :like ESCAPE '\\' OR chosen LIKE :like ESCAPE '\\' OR rejected LIKE :like ESCAPE '\\')`;

export class PreferencesRepo {
  private readonly insertRankingStmt;
  private readonly rankingPairsPage;
  private readonly comparisonPairsPage;
  private readonly rankingPairsCount;
  private readonly comparisonPairsCount;
  private readonly allPairs;
  private readonly rankingsStmt;
  private readonly responseText;
  private readonly comparisonsStmt;
  private readonly countRankings;
  private readonly countComparisons;

  constructor(db: DB) {
    this.insertRankingStmt = db.prepare(
      `INSERT INTO rankings (uid, prompt_id, annotator_id, status, ranking, flags, comment, seconds_spent, source, created_at, updated_at)
       VALUES (?, ?, ?, 'submitted', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uid) DO NOTHING`,
    );
    type PageParams = { like: string | null; limit: number; offset: number };
    this.rankingPairsPage = db.prepare<PageParams, Pair>(
      `SELECT * FROM (${RANKING_PAIRS}) WHERE ${SEARCH} LIMIT :limit OFFSET :offset`,
    );
    this.comparisonPairsPage = db.prepare<PageParams, Pair>(
      `SELECT * FROM (${COMPARISON_PAIRS} ORDER BY m.id) WHERE ${SEARCH} LIMIT :limit OFFSET :offset`,
    );
    this.rankingPairsCount = db.prepare<{ like: string | null }, { n: number }>(
      `SELECT count(*) AS n FROM (${RANKING_PAIRS}) WHERE ${SEARCH}`,
    );
    this.comparisonPairsCount = db.prepare<{ like: string | null }, { n: number }>(
      `SELECT count(*) AS n FROM (${COMPARISON_PAIRS}) WHERE ${SEARCH}`,
    );
    this.allPairs = db.prepare<[], Pair>(`${RANKING_PAIRS} UNION ALL SELECT * FROM (${COMPARISON_PAIRS} ORDER BY m.id)`);
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
    this.countRankings = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM rankings WHERE status = 'submitted'");
    this.countComparisons = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM comparisons');
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

  /** A page of pairs: ranking pairs first, then comparison pairs; search matches prompt or either response. */
  pairsPage(q: { search?: string; offset: number; limit: number }): Page<PairRow> {
    const like = likePattern(q.search);
    const fromRankings = this.rankingPairsCount.get({ like })!.n;
    const fromComparisons = this.comparisonPairsCount.get({ like })!.n;
    const rows: Pair[] = [];
    if (q.offset < fromRankings) rows.push(...this.rankingPairsPage.all({ like, limit: q.limit, offset: q.offset }));
    const left = q.limit - rows.length;
    if (left > 0 && fromComparisons > 0) {
      const offset = Math.max(0, q.offset - fromRankings);
      rows.push(...this.comparisonPairsPage.all({ like, limit: left, offset }));
    }
    return {
      rows: rows.map((r) => ({ prompt_id: r.prompt_id, prompt: r.prompt, chosen: r.chosen, rejected: r.rejected, annotator: r.annotator })),
      total: fromRankings + fromComparisons,
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

  rankingCount(): number {
    return this.countRankings.get()!.n;
  }

  comparisonCount(): number {
    return this.countComparisons.get()!.n;
  }
}

// Compare's stored comparisons: the settings of each, its rows (one response per prompt and
// checkpoint with score, KL and length) and the blind votes cast on it. A vote is a `comparisons`
// row with context 'compare', linked here to the checkpoints that wrote A and B.
import { randomUUID } from 'node:crypto';
import type { DB } from './db.js';
import type { VoteOutcome } from '../shared/vocabulary.js';

export type SetStatus = 'running' | 'completed' | 'cancelled' | 'failed';

export interface ComparisonSet {
  id: number;
  name: string;
  config: Record<string, unknown>;
  status: SetStatus;
  error: string | null;
  created_at: number;
  rows: number;
  votes: number;
}

export interface ComparisonRowData {
  prompt_id: number;
  checkpoint_id: number;
  response_id: number | null;
  text: string;
  score: number | null;
  kl: number | null;
  tokens: number;
  seed: number;
}

export interface StoredVote {
  comparison_id: number;
  prompt_id: number;
  prompt: string;
  response_a: number;
  response_b: number;
  text_a: string;
  text_b: string;
  checkpoint_a: number;
  checkpoint_b: number;
  outcome: VoteOutcome;
  annotator_id: number;
  seconds_spent: number;
}

export interface NewVote {
  promptId: number;
  responseA: number;
  responseB: number;
  checkpointA: number;
  checkpointB: number;
  outcome: VoteOutcome;
  annotatorId: number;
  secondsSpent: number;
}

type SetDbRow = Omit<ComparisonSet, 'config'> & { config: string };

export class ComparisonSetsRepo {
  private readonly insertSet;
  private readonly statusStmt;
  private readonly getStmt;
  private readonly listStmt;
  private readonly insertRow;
  private readonly rowsStmt;
  private readonly insertComparison;
  private readonly insertLink;
  private readonly votesStmt;

  constructor(private readonly db: DB) {
    this.insertSet = db.prepare<[string, string, number], { id: number }>(
      'INSERT INTO comparison_sets (name, config, created_at) VALUES (?, ?, ?) RETURNING id',
    );
    this.statusStmt = db.prepare<[SetStatus, string | null, number]>('UPDATE comparison_sets SET status = ?, error = ? WHERE id = ?');
    const cols = `s.id, s.name, s.config, s.status, s.error, s.created_at,
      (SELECT count(*) FROM comparison_rows r WHERE r.set_id = s.id) AS rows,
      (SELECT count(*) FROM comparison_votes v WHERE v.set_id = s.id) AS votes`;
    this.getStmt = db.prepare<[number], SetDbRow>(`SELECT ${cols} FROM comparison_sets s WHERE s.id = ?`);
    this.listStmt = db.prepare<[], SetDbRow>(`SELECT ${cols} FROM comparison_sets s ORDER BY s.id DESC`);
    this.insertRow = db.prepare<[number, number, number, number | null, string, number | null, number | null, number, number]>(
      `INSERT OR REPLACE INTO comparison_rows (set_id, prompt_id, checkpoint_id, response_id, text, score, kl, tokens, seed)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.rowsStmt = db.prepare<[number], ComparisonRowData>(
      `SELECT prompt_id, checkpoint_id, response_id, text, score, kl, tokens, seed
       FROM comparison_rows WHERE set_id = ? ORDER BY prompt_id, checkpoint_id`,
    );
    this.insertComparison = db.prepare<[string, number, number, number, VoteOutcome, number, number, number], { id: number }>(
      `INSERT INTO comparisons (uid, prompt_id, response_a, response_b, outcome, annotator_id, context, seconds_spent, created_at)
       VALUES (?, ?, ?, ?, ?, ?, 'compare', ?, ?) RETURNING id`,
    );
    this.insertLink = db.prepare<[number, number, number, number]>(
      'INSERT INTO comparison_votes (comparison_id, set_id, checkpoint_a, checkpoint_b) VALUES (?, ?, ?, ?)',
    );
    this.votesStmt = db.prepare<[number], StoredVote>(
      `SELECT c.id AS comparison_id, c.prompt_id, p.text AS prompt, c.response_a, c.response_b,
              ra.text AS text_a, rb.text AS text_b, v.checkpoint_a, v.checkpoint_b, c.outcome,
              c.annotator_id, c.seconds_spent
       FROM comparison_votes v JOIN comparisons c ON c.id = v.comparison_id
       JOIN prompts p ON p.id = c.prompt_id
       JOIN responses ra ON ra.id = c.response_a JOIN responses rb ON rb.id = c.response_b
       WHERE v.set_id = ? ORDER BY c.id`,
    );
  }

  create(name: string, config: Record<string, unknown>): number {
    return this.insertSet.get(name, JSON.stringify(config), Date.now())!.id;
  }

  setStatus(id: number, status: SetStatus, error: string | null = null): void {
    this.statusStmt.run(status, error, id);
  }

  get(id: number): ComparisonSet | undefined {
    const row = this.getStmt.get(id);
    return row && parseSet(row);
  }

  list(): ComparisonSet[] {
    return this.listStmt.all().map(parseSet);
  }

  addRows(setId: number, rows: ComparisonRowData[]): void {
    this.db.transaction(() => {
      for (const r of rows) this.insertRow.run(setId, r.prompt_id, r.checkpoint_id, r.response_id, r.text, r.score, r.kl, r.tokens, r.seed);
    })();
  }

  rows(setId: number): ComparisonRowData[] {
    return this.rowsStmt.all(setId);
  }

  /** Stores a blind vote and which checkpoints were behind A and B; returns the comparison id. */
  vote(setId: number, v: NewVote): number {
    return this.db.transaction(() => {
      const id = this.insertComparison.get(randomUUID(), v.promptId, v.responseA, v.responseB, v.outcome, v.annotatorId, v.secondsSpent, Date.now())!.id;
      this.insertLink.run(id, setId, v.checkpointA, v.checkpointB);
      return id;
    })();
  }

  votes(setId: number): StoredVote[] {
    return this.votesStmt.all(setId);
  }

  /** Every blind vote of every comparison: which checkpoints met and who won (the leaderboard's battles). */
  allBattles(): { checkpoint_a: number; checkpoint_b: number; outcome: VoteOutcome }[] {
    return this.db
      .prepare<[], { checkpoint_a: number; checkpoint_b: number; outcome: VoteOutcome }>(
        'SELECT v.checkpoint_a, v.checkpoint_b, c.outcome FROM comparison_votes v JOIN comparisons c ON c.id = v.comparison_id ORDER BY c.id',
      )
      .all();
  }
}

function parseSet(row: SetDbRow): ComparisonSet {
  return { ...row, config: JSON.parse(row.config) as Record<string, unknown> };
}

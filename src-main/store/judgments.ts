// Each annotator's judgment of a label item: a ranking (draft, submitted or skipped) or a pairwise
// vote, and the annotation bundles that carry them between projects.
//
// Concurrency: one judgment per (item, annotator) is guaranteed by the unique indexes of
// migrations 0001/0002, and every write is a single upsert inside a transaction, so concurrent or
// retried submissions (LAN annotators, flaky networks) update one row instead of adding a second.
// A draft never overwrites a submission, and a vote, once cast, is final (its sources have been
// revealed to the voter).
import { randomUUID } from 'node:crypto';
import type { DB } from './db.js';
import type { LabelTasksRepo } from './label-tasks.js';
import {
  LabelingError, RANKING_COLS, VOTE_COLS, checkRanking, parseRanking, parseVote,
  type ImportedRanking, type ImportedVote, type JudgmentInput, type JudgmentStatus, type Mark, type RankingJudgment, type RankingRow, type VoteInput, type VoteJudgment, type VoteRow,
} from './labeling.js';
import type { VoteOutcome } from '../shared/vocabulary.js';

export class JudgmentsRepo {
  readonly #db: DB;
  readonly #tasks: LabelTasksRepo;
  readonly #rankingsOfTask;
  readonly #statusesOfTask;
  readonly #votesOfTask;
  readonly #ranking;
  readonly #rankingsOfItem;
  readonly #votesOfItem;
  readonly #vote;
  readonly #upsertRanking;
  readonly #insertVote;
  readonly #bundleRankings;
  readonly #bundleVotes;
  readonly #importRanking;
  readonly #importVote;

  constructor(db: DB, tasks: LabelTasksRepo) {
    this.#db = db;
    this.#tasks = tasks;
    // `item_id IS NOT NULL` lets SQLite use the partial unique indexes on (item_id, annotator_id).
    this.#rankingsOfTask = db.prepare<[number], RankingRow>(
      `SELECT ${RANKING_COLS.split(', ').map((c) => `r.${c}`).join(', ')} FROM rankings r
       JOIN label_items i ON i.id = r.item_id WHERE i.task_id = ? AND r.item_id IS NOT NULL`,
    );
    // Queues and counts need only who marked which item how: no JSON to parse, so `label.next`
    // stays fast on tasks with thousands of items.
    this.#statusesOfTask = db.prepare<[number, number], { itemId: number; annotatorId: number; status: JudgmentStatus }>(
      `SELECT r.item_id AS itemId, r.annotator_id AS annotatorId, r.status FROM rankings r
       JOIN label_items i ON i.id = r.item_id WHERE i.task_id = ? AND r.item_id IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM comparisons c WHERE c.item_id = r.item_id AND c.annotator_id = r.annotator_id)
       UNION ALL
       SELECT c.item_id, c.annotator_id, 'submitted' FROM comparisons c
       JOIN label_items i ON i.id = c.item_id WHERE i.task_id = ? AND c.item_id IS NOT NULL`,
    );
    this.#votesOfTask = db.prepare<[number], VoteRow>(
      `SELECT ${VOTE_COLS.split(', ').map((c) => `c.${c}`).join(', ')} FROM comparisons c
       JOIN label_items i ON i.id = c.item_id WHERE i.task_id = ? AND c.item_id IS NOT NULL`,
    );
    this.#ranking = db.prepare<[number, number], RankingRow>(
      `SELECT ${RANKING_COLS} FROM rankings WHERE item_id = ? AND annotator_id = ?`,
    );
    this.#rankingsOfItem = db.prepare<[number], RankingRow>(`SELECT ${RANKING_COLS} FROM rankings WHERE item_id = ? ORDER BY id`);
    this.#votesOfItem = db.prepare<[number], VoteRow>(`SELECT ${VOTE_COLS} FROM comparisons WHERE item_id = ? ORDER BY id`);
    this.#vote = db.prepare<[number, number], VoteRow>(`SELECT ${VOTE_COLS} FROM comparisons WHERE item_id = ? AND annotator_id = ?`);
    // The WHERE on DO UPDATE keeps a submission from being downgraded to a draft or a skip.
    this.#upsertRanking = db.prepare<{
      uid: string;
      prompt: number;
      annotator: number;
      item: number;
      status: JudgmentStatus;
      ranking: string;
      flags: string;
      comment: string;
      seconds: number;
      now: number;
    }>(
      `INSERT INTO rankings (uid, prompt_id, annotator_id, item_id, status, ranking, flags, comment, seconds_spent, source, created_at, updated_at)
       VALUES (:uid, :prompt, :annotator, :item, :status, :ranking, :flags, :comment, :seconds, 'human', :now, :now)
       ON CONFLICT (item_id, annotator_id) WHERE item_id IS NOT NULL DO UPDATE SET
         status = excluded.status, ranking = excluded.ranking, flags = excluded.flags, comment = excluded.comment,
         seconds_spent = excluded.seconds_spent, updated_at = excluded.updated_at
       WHERE rankings.status <> 'submitted' OR excluded.status = 'submitted'`,
    );
    this.#insertVote = db.prepare<{
      uid: string;
      prompt: number;
      a: number;
      b: number;
      outcome: VoteOutcome;
      annotator: number;
      item: number;
      flags: string;
      comment: string;
      seconds: number;
      now: number;
    }>(
      `INSERT INTO comparisons (uid, prompt_id, response_a, response_b, outcome, annotator_id, context, flags, comment, seconds_spent, created_at, item_id)
       VALUES (:uid, :prompt, :a, :b, :outcome, :annotator, 'label', :flags, :comment, :seconds, :now, :item)
       ON CONFLICT (item_id, annotator_id) WHERE item_id IS NOT NULL DO NOTHING`,
    );
    this.#bundleRankings = db.prepare<[], RankingRow & { annotator: string; task: string | null; source: string }>(
      `SELECT ${RANKING_COLS.split(', ').map((c) => `r.${c}`).join(', ')}, r.source, a.name AS annotator, t.name AS task
       FROM rankings r JOIN annotators a ON a.id = r.annotator_id
       LEFT JOIN label_items i ON i.id = r.item_id LEFT JOIN label_tasks t ON t.id = i.task_id
       WHERE r.status IN ('submitted', 'skipped') ORDER BY r.id`,
    );
    this.#bundleVotes = db.prepare<[], VoteRow & { annotator: string; task: string | null; context: string }>(
      `SELECT ${VOTE_COLS.split(', ').map((c) => `c.${c}`).join(', ')}, c.context, a.name AS annotator, t.name AS task
       FROM comparisons c JOIN annotators a ON a.id = c.annotator_id
       LEFT JOIN label_items i ON i.id = c.item_id LEFT JOIN label_tasks t ON t.id = i.task_id ORDER BY c.id`,
    );
    this.#importRanking = db.prepare<ImportedRanking>(
      `INSERT INTO rankings (uid, prompt_id, annotator_id, item_id, status, ranking, flags, comment, seconds_spent, source, created_at, updated_at)
       VALUES (:uid, :prompt_id, :annotator_id, :item_id, :status, :ranking, :flags, :comment, :seconds_spent, :source, :created_at, :updated_at)
       ON CONFLICT DO NOTHING`,
    );
    this.#importVote = db.prepare<ImportedVote>(
      `INSERT INTO comparisons (uid, prompt_id, response_a, response_b, outcome, annotator_id, context, flags, comment, seconds_spent, created_at, item_id)
       VALUES (:uid, :prompt_id, :response_a, :response_b, :outcome, :annotator_id, :context, :flags, :comment, :seconds_spent, :created_at, :item_id)
       ON CONFLICT DO NOTHING`,
    );
  }

  /** Every annotator's mark on every item of a task, for queues, progress and agreement. */
  marks(taskId: number): Mark[] {
    const rankings = this.#rankingsOfTask.all(taskId).map((r): Mark => ({
      itemId: r.item_id!,
      annotatorId: r.annotator_id,
      status: r.status,
      ranking: JSON.parse(r.ranking) as number[][],
      seconds: r.seconds_spent,
    }));
    const votes = this.#votesOfTask.all(taskId).map((v): Mark => ({
      itemId: v.item_id!,
      annotatorId: v.annotator_id,
      status: 'submitted',
      vote: { a: v.response_a, b: v.response_b, outcome: v.outcome },
      seconds: v.seconds_spent,
    }));
    // A skipped pairwise item is a ranking row with status 'skipped'; a vote supersedes it.
    const voted = new Set(votes.map((v) => `${v.itemId}:${v.annotatorId}`));
    return [...rankings.filter((r) => !voted.has(`${r.itemId}:${r.annotatorId}`)), ...votes];
  }

  /** Like marks() without the rankings and votes themselves: enough for queues and progress. */
  statusMarks(taskId: number): Mark[] {
    return this.#statusesOfTask.all(taskId, taskId);
  }

  /** Every annotator's ranking (or skip) and vote on one item. */
  judgmentsOf(itemId: number): (RankingJudgment | VoteJudgment)[] {
    const votes = this.#votesOfItem.all(itemId).map(parseVote);
    const voted = new Set(votes.map((v) => v.annotator_id));
    return [...this.#rankingsOfItem.all(itemId).map(parseRanking).filter((r) => !voted.has(r.annotator_id)), ...votes];
  }

  ranking(itemId: number, annotatorId: number): RankingJudgment | undefined {
    const row = this.#ranking.get(itemId, annotatorId);
    return row && parseRanking(row);
  }

  vote(itemId: number, annotatorId: number): VoteJudgment | undefined {
    const row = this.#vote.get(itemId, annotatorId);
    return row && parseVote(row);
  }

  /** Autosave: a partial ranking is fine. Ignored (returns the stored judgment) once submitted. */
  saveDraft(itemId: number, annotatorId: number, j: JudgmentInput): RankingJudgment {
    return this.#writeRanking(itemId, annotatorId, 'draft', j);
  }

  /** A complete ranking of the item's K responses (ties allowed). Re-submitting edits it. */
  submit(itemId: number, annotatorId: number, j: JudgmentInput): RankingJudgment {
    return this.#writeRanking(itemId, annotatorId, 'submitted', j);
  }

  /** Skipping keeps any draft ranking so that coming back to the item restores it. */
  skip(itemId: number, annotatorId: number, secondsSpent: number): RankingJudgment {
    return this.#db.transaction(() => {
      const item = this.#tasks.require(itemId);
      const existing = this.ranking(itemId, annotatorId);
      if (existing?.status === 'submitted' || this.vote(itemId, annotatorId)) {
        throw new LabelingError('This item is already judged; it cannot be skipped.', 'already_submitted');
      }
      this.#upsertRanking.run({
        uid: existing?.uid ?? randomUUID(),
        prompt: item.prompt_id,
        annotator: annotatorId,
        item: itemId,
        status: 'skipped',
        ranking: JSON.stringify(existing?.ranking ?? []),
        flags: JSON.stringify(existing?.flags ?? []),
        comment: existing?.comment ?? '',
        seconds: secondsSpent,
        now: Date.now(),
      });
      return this.ranking(itemId, annotatorId)!;
    })();
  }

  /** A pairwise vote. Final: a second vote by the same annotator returns the first unchanged. */
  castVote(itemId: number, annotatorId: number, v: VoteInput): { vote: VoteJudgment; created: boolean } {
    return this.#db.transaction(() => {
      const item = this.#tasks.require(itemId);
      const task = this.#tasks.task(item.task_id)!;
      if (task.mode !== 'pairwise') throw new LabelingError(`Task "${task.name}" is a ranking task: rank its responses instead.`, 'wrong_mode');
      const [a, b] = item.response_ids as [number, number];
      const info = this.#insertVote.run({
        uid: randomUUID(),
        prompt: item.prompt_id,
        a,
        b,
        outcome: v.outcome,
        annotator: annotatorId,
        item: itemId,
        flags: JSON.stringify(v.flags),
        comment: v.comment,
        seconds: v.seconds_spent,
        now: Date.now(),
      });
      return { vote: this.vote(itemId, annotatorId)!, created: info.changes > 0 };
    })();
  }

  #writeRanking(itemId: number, annotatorId: number, status: 'draft' | 'submitted', j: JudgmentInput): RankingJudgment {
    return this.#db.transaction(() => {
      const item = this.#tasks.require(itemId);
      const task = this.#tasks.task(item.task_id)!;
      if (task.mode !== 'ranking') throw new LabelingError(`Task "${task.name}" is pairwise: vote on it instead.`, 'wrong_mode');
      checkRanking(j.ranking, item.response_ids, status === 'submitted');
      const existing = this.ranking(itemId, annotatorId);
      this.#upsertRanking.run({
        uid: existing?.uid ?? randomUUID(),
        prompt: item.prompt_id,
        annotator: annotatorId,
        item: itemId,
        status,
        ranking: JSON.stringify(j.ranking.filter((tier) => tier.length > 0)),
        flags: JSON.stringify([...new Set(j.flags)]),
        comment: j.comment,
        seconds: j.seconds_spent,
        now: Date.now(),
      });
      return this.ranking(itemId, annotatorId)!;
    })();
  }

  /** Submitted and skipped rankings with their annotator's and task's names (drafts stay private). */
  bundleRankings(): (RankingJudgment & { annotator: string; task: string | null; source: string })[] {
    return this.#bundleRankings.all().map((r) => ({ ...parseRanking(r), annotator: r.annotator, task: r.task, source: r.source }));
  }

  bundleVotes(): (VoteJudgment & { annotator: string; task: string | null; context: string })[] {
    return this.#bundleVotes.all().map((v) => ({ ...parseVote(v), annotator: v.annotator, task: v.task, context: v.context }));
  }

  /** Inserts a judgment from a bundle; false when its uid (or its item/annotator slot) is taken. */
  importRanking(r: ImportedRanking): boolean {
    return this.#importRanking.run(r).changes > 0;
  }

  importVote(v: ImportedVote): boolean {
    return this.#importVote.run(v).changes > 0;
  }
}

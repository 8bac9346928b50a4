// Labeling: tasks and their items, each annotator's judgment of an item (a ranking — draft,
// submitted or skipped — or a pairwise vote), and the guidelines.
//
// Concurrency: one judgment per (item, annotator) is guaranteed by the unique indexes of
// migrations 0001/0002, and every write is a single upsert inside a transaction, so concurrent or
// retried submissions (LAN annotators, flaky networks) update one row instead of adding a second.
// A draft never overwrites a submission, and a vote, once cast, is final (its sources have been
// revealed to the voter).
import { randomUUID } from 'node:crypto';
import type { DB } from './db.js';
import type { LabelMode, VoteOutcome } from '../shared/vocabulary.js';

export const FLAGS = ['unsafe', 'factually_wrong', 'should_say_idk'] as const;
export type Flag = (typeof FLAGS)[number];
export type JudgmentStatus = 'draft' | 'submitted' | 'skipped';

/** One annotator's mark on one item (what label/queue.ts and label/stats.ts work on). A ranking's tiers are best first; ids within a tier are tied. */
export interface Mark {
  itemId: number;
  annotatorId: number;
  status: JudgmentStatus;
  ranking?: number[][];
  /** Pairwise votes, with the two responses in the order shown. */
  vote?: { a: number; b: number; outcome: VoteOutcome };
  seconds?: number;
}

export interface LabelTask {
  id: number;
  name: string;
  mode: LabelMode;
  k: number;
  min_annotators: number;
  config: unknown;
  created_at: number;
  items: number;
}

export interface LabelItem {
  id: number;
  task_id: number;
  prompt_id: number;
  /** In the shuffled display order. */
  response_ids: number[];
  position: number;
}

export interface RankingJudgment {
  kind: 'ranking';
  id: number;
  uid: string;
  item_id: number | null;
  prompt_id: number;
  annotator_id: number;
  status: JudgmentStatus;
  /** Tiers of response ids, best first; ids within a tier are tied. */
  ranking: number[][];
  flags: Flag[];
  comment: string;
  seconds_spent: number;
  created_at: number;
  updated_at: number;
}

export interface VoteJudgment {
  kind: 'vote';
  id: number;
  uid: string;
  item_id: number | null;
  prompt_id: number;
  annotator_id: number;
  response_a: number;
  response_b: number;
  outcome: VoteOutcome;
  flags: Flag[];
  comment: string;
  seconds_spent: number;
  created_at: number;
}

export interface JudgmentInput {
  ranking: number[][];
  flags: Flag[];
  comment: string;
  seconds_spent: number;
}

export interface VoteInput {
  outcome: VoteOutcome;
  flags: Flag[];
  comment: string;
  seconds_spent: number;
}

export interface NewTask {
  name: string;
  mode: LabelMode;
  k: number;
  minAnnotators: number;
  config?: unknown;
  /** Response ids already in display order. */
  items: { promptId: number; responseIds: number[] }[];
}

export interface ResponseInfo {
  id: number;
  text: string;
  source: string;
  checkpoint_id: number | null;
  checkpoint_name: string | null;
  checkpoint_step: number | null;
}

export interface ImportedRanking {
  uid: string;
  prompt_id: number;
  annotator_id: number;
  item_id: number | null;
  status: 'submitted' | 'skipped';
  ranking: string;
  flags: string;
  comment: string;
  seconds_spent: number;
  source: string;
  created_at: number;
  updated_at: number;
}

export interface ImportedVote {
  uid: string;
  prompt_id: number;
  response_a: number;
  response_b: number;
  outcome: VoteOutcome;
  annotator_id: number;
  context: string;
  flags: string;
  comment: string;
  seconds_spent: number;
  created_at: number;
  item_id: number | null;
}

/** Raised for a judgment that does not fit its item; the API turns it into a UserError. */
export class LabelingError extends Error {
  constructor(
    message: string,
    readonly code: 'not_found' | 'invalid_ranking' | 'already_submitted' | 'already_voted' | 'wrong_mode',
  ) {
    super(message);
  }
}

interface TaskRow extends Omit<LabelTask, 'config'> {
  config: string | null;
}
interface ItemRow extends Omit<LabelItem, 'response_ids'> {
  response_ids: string;
}
interface RankingRow extends Omit<RankingJudgment, 'kind' | 'ranking' | 'flags'> {
  ranking: string;
  flags: string;
}
interface VoteRow extends Omit<VoteJudgment, 'kind' | 'flags'> {
  flags: string;
}

const RANKING_COLS = 'id, uid, item_id, prompt_id, annotator_id, status, ranking, flags, comment, seconds_spent, created_at, updated_at';
const VOTE_COLS = 'id, uid, item_id, prompt_id, annotator_id, response_a, response_b, outcome, flags, comment, seconds_spent, created_at';

export class LabelingRepo {
  readonly #db: DB;
  readonly #insertTask;
  readonly #insertItem;
  readonly #tasks;
  readonly #task;
  readonly #items;
  readonly #item;
  readonly #rankingsOfTask;
  readonly #statusesOfTask;
  readonly #itemRefs;
  readonly #firstItem;
  readonly #votesOfTask;
  readonly #ranking;
  readonly #rankingsOfItem;
  readonly #votesOfItem;
  readonly #vote;
  readonly #upsertRanking;
  readonly #insertVote;
  readonly #guidelines;
  readonly #setGuidelines;
  readonly #responseInfo;
  readonly #itemsOfPrompt;
  readonly #bundleRankings;
  readonly #bundleVotes;
  readonly #importRanking;
  readonly #importVote;
  readonly #insertAnnotator;
  readonly #updateAnnotator;

  constructor(db: DB) {
    this.#db = db;
    this.#insertTask = db.prepare<[string, LabelMode, number, number, string | null, number], { id: number }>(
      'INSERT INTO label_tasks (name, mode, k, min_annotators, config, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
    );
    this.#insertItem = db.prepare<[number, number, string, number]>(
      'INSERT INTO label_items (task_id, prompt_id, response_ids, position) VALUES (?, ?, ?, ?) ON CONFLICT (task_id, prompt_id) DO NOTHING',
    );
    const taskCols = `t.id, t.name, t.mode, t.k, t.min_annotators, t.config, t.created_at,
      (SELECT count(*) FROM label_items i WHERE i.task_id = t.id) AS items`;
    this.#tasks = db.prepare<[], TaskRow>(`SELECT ${taskCols} FROM label_tasks t ORDER BY t.id`);
    this.#task = db.prepare<[number], TaskRow>(`SELECT ${taskCols} FROM label_tasks t WHERE t.id = ?`);
    this.#items = db.prepare<[number], ItemRow>(
      'SELECT id, task_id, prompt_id, response_ids, position FROM label_items WHERE task_id = ? ORDER BY position',
    );
    this.#item = db.prepare<[number], ItemRow>('SELECT id, task_id, prompt_id, response_ids, position FROM label_items WHERE id = ?');
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
    this.#itemRefs = db.prepare<[number], { id: number; position: number }>(
      'SELECT id, position FROM label_items WHERE task_id = ? ORDER BY position',
    );
    this.#firstItem = db.prepare<[number], { id: number }>('SELECT id FROM label_items WHERE task_id = ? ORDER BY position LIMIT 1');
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
    this.#responseInfo = db.prepare<[number], ResponseInfo>(
      `SELECT r.id, r.text, r.source, r.checkpoint_id, c.name AS checkpoint_name, c.step AS checkpoint_step
       FROM responses r LEFT JOIN checkpoints c ON c.id = r.checkpoint_id WHERE r.id = ?`,
    );
    this.#itemsOfPrompt = db.prepare<[number], ItemRow & { task_name: string }>(
      `SELECT i.id, i.task_id, i.prompt_id, i.response_ids, i.position, t.name AS task_name
       FROM label_items i JOIN label_tasks t ON t.id = i.task_id WHERE i.prompt_id = ? ORDER BY i.id`,
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
    this.#insertAnnotator = db.prepare<[string, string, number], { id: number }>(
      'INSERT INTO annotators (name, colour, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING id',
    );
    this.#updateAnnotator = db.prepare<{ id: number; name: string | null; colour: string | null }>(
      'UPDATE annotators SET name = coalesce(:name, name), colour = coalesce(:colour, colour) WHERE id = :id',
    );
    this.#guidelines = db.prepare<[], { markdown: string; updated_at: number }>('SELECT markdown, updated_at FROM guidelines WHERE id = 1');
    this.#setGuidelines = db.prepare<[string, number]>(
      'INSERT INTO guidelines (id, markdown, updated_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET markdown = excluded.markdown, updated_at = excluded.updated_at',
    );
  }

  // ---------- annotator profiles ----------

  /** A new profile; null when the name is taken. */
  createAnnotator(name: string, colour: string): number | null {
    return this.#insertAnnotator.get(name, colour, Date.now())?.id ?? null;
  }

  /** Renames or recolours a profile; false when no such annotator. Throws on a taken name. */
  updateAnnotator(id: number, change: { name?: string; colour?: string }): boolean {
    return this.#updateAnnotator.run({ id, name: change.name ?? null, colour: change.colour ?? null }).changes > 0;
  }

  // ---------- tasks ----------

  createTask(t: NewTask): LabelTask {
    return this.#db.transaction(() => {
      const { id } = this.#insertTask.get(t.name, t.mode, t.k, t.minAnnotators, t.config === undefined ? null : JSON.stringify(t.config), Date.now())!;
      t.items.forEach((item, position) => this.#insertItem.run(id, item.promptId, JSON.stringify(item.responseIds), position));
      return this.task(id)!;
    })();
  }

  tasks(): LabelTask[] {
    return this.#tasks.all().map(parseTask);
  }

  task(id: number): LabelTask | undefined {
    const row = this.#task.get(id);
    return row && parseTask(row);
  }

  items(taskId: number): LabelItem[] {
    return this.#items.all(taskId).map(parseItem);
  }

  item(id: number): LabelItem | undefined {
    const row = this.#item.get(id);
    return row && parseItem(row);
  }

  // ---------- judgments ----------

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

  firstItem(taskId: number): number | null {
    return this.#firstItem.get(taskId)?.id ?? null;
  }

  /** A task's item ids in display order, without their response lists. */
  itemRefs(taskId: number): { id: number; position: number }[] {
    return this.#itemRefs.all(taskId);
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
      const item = this.#requireItem(itemId);
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
      const item = this.#requireItem(itemId);
      const task = this.task(item.task_id)!;
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
      const item = this.#requireItem(itemId);
      const task = this.task(item.task_id)!;
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

  #requireItem(itemId: number): LabelItem {
    const item = this.item(itemId);
    if (!item) throw new LabelingError(`Label item ${itemId} does not exist.`, 'not_found');
    return item;
  }

  /** The responses of an item, in the order given, with where each came from. */
  responses(ids: readonly number[]): ResponseInfo[] {
    return ids.map((id) => {
      const r = this.#responseInfo.get(id);
      if (!r) throw new LabelingError(`Response ${id} no longer exists.`, 'not_found');
      return r;
    });
  }

  // ---------- annotation bundles ----------

  /** Submitted and skipped rankings with their annotator's and task's names (drafts stay private). */
  bundleRankings(): (RankingJudgment & { annotator: string; task: string | null; source: string })[] {
    return this.#bundleRankings.all().map((r) => ({ ...parseRanking(r), annotator: r.annotator, task: r.task, source: r.source }));
  }

  bundleVotes(): (VoteJudgment & { annotator: string; task: string | null; context: string })[] {
    return this.#bundleVotes.all().map((v) => ({ ...parseVote(v), annotator: v.annotator, task: v.task, context: v.context }));
  }

  /**
   * The label item showing exactly these responses for this prompt, preferring a task of the
   * given name, so that merged judgments count towards the task's progress.
   */
  matchItem(promptId: number, responseIds: readonly number[], taskName: string | null): LabelItem | undefined {
    const want = [...responseIds].sort((a, b) => a - b).join(',');
    const candidates = this.#itemsOfPrompt
      .all(promptId)
      .filter((i) => (JSON.parse(i.response_ids) as number[]).sort((a, b) => a - b).join(',') === want);
    const best = candidates.find((i) => i.task_name === taskName) ?? candidates[0];
    return best && parseItem(best);
  }

  /** Inserts a judgment from a bundle; false when its uid (or its item/annotator slot) is taken. */
  importRanking(r: ImportedRanking): boolean {
    return this.#importRanking.run(r).changes > 0;
  }

  importVote(v: ImportedVote): boolean {
    return this.#importVote.run(v).changes > 0;
  }

  // ---------- guidelines ----------

  guidelines(): { markdown: string; updated_at: number | null } {
    return this.#guidelines.get() ?? { markdown: '', updated_at: null };
  }

  setGuidelines(markdown: string): { markdown: string; updated_at: number } {
    const now = Date.now();
    this.#setGuidelines.run(markdown, now);
    return { markdown, updated_at: now };
  }
}

/** Every id belongs to the item and appears once; a submission places all K responses. */
function checkRanking(ranking: number[][], responseIds: number[], complete: boolean): void {
  const allowed = new Set(responseIds);
  const seen = new Set<number>();
  for (const id of ranking.flat()) {
    if (!allowed.has(id)) throw new LabelingError(`Response ${id} is not one of this item's responses.`, 'invalid_ranking');
    if (seen.has(id)) throw new LabelingError(`Response ${id} is ranked twice.`, 'invalid_ranking');
    seen.add(id);
  }
  if (complete && seen.size !== allowed.size) {
    throw new LabelingError(
      `Rank all ${allowed.size} responses before submitting (${allowed.size - seen.size} still unranked).`,
      'invalid_ranking',
    );
  }
}

function parseTask(row: TaskRow): LabelTask {
  return { ...row, config: row.config === null ? null : (JSON.parse(row.config) as unknown) };
}

function parseItem(row: ItemRow): LabelItem {
  return { ...row, response_ids: JSON.parse(row.response_ids) as number[] };
}

function parseRanking(row: RankingRow): RankingJudgment {
  return { kind: 'ranking', ...row, ranking: JSON.parse(row.ranking) as number[][], flags: JSON.parse(row.flags) as Flag[] };
}

function parseVote(row: VoteRow): VoteJudgment {
  return { kind: 'vote', ...row, flags: JSON.parse(row.flags) as Flag[] };
}

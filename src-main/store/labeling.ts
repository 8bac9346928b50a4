// Labeling's records as the store keeps them: tasks and their items (label-tasks.ts), each
// annotator's judgment of an item — a ranking, draft, submitted or skipped, or a pairwise vote —
// (judgments.ts), and the rows both read. The people are annotators.ts, the guidelines
// guidelines.ts.
import type { LabelFlag, LabelMode, VoteOutcome } from '../shared/vocabulary.js';

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
  flags: LabelFlag[];
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
  flags: LabelFlag[];
  comment: string;
  seconds_spent: number;
  created_at: number;
}

export interface JudgmentInput {
  ranking: number[][];
  flags: LabelFlag[];
  comment: string;
  seconds_spent: number;
}

export interface VoteInput {
  outcome: VoteOutcome;
  flags: LabelFlag[];
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

export interface TaskRow extends Omit<LabelTask, 'config'> {
  config: string | null;
}
export interface ItemRow extends Omit<LabelItem, 'response_ids'> {
  response_ids: string;
}
export interface RankingRow extends Omit<RankingJudgment, 'kind' | 'ranking' | 'flags'> {
  ranking: string;
  flags: string;
}
export interface VoteRow extends Omit<VoteJudgment, 'kind' | 'flags'> {
  flags: string;
}

export const RANKING_COLS = 'id, uid, item_id, prompt_id, annotator_id, status, ranking, flags, comment, seconds_spent, created_at, updated_at';
export const VOTE_COLS = 'id, uid, item_id, prompt_id, annotator_id, response_a, response_b, outcome, flags, comment, seconds_spent, created_at';

/** Every id belongs to the item and appears once; a submission places all K responses. */
export function checkRanking(ranking: number[][], responseIds: number[], complete: boolean): void {
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

export function parseTask(row: TaskRow): LabelTask {
  return { ...row, config: row.config === null ? null : (JSON.parse(row.config) as unknown) };
}

export function parseItem(row: ItemRow): LabelItem {
  return { ...row, response_ids: JSON.parse(row.response_ids) as number[] };
}

export function parseRanking(row: RankingRow): RankingJudgment {
  return { kind: 'ranking', ...row, ranking: JSON.parse(row.ranking) as number[][], flags: JSON.parse(row.flags) as LabelFlag[] };
}

export function parseVote(row: VoteRow): VoteJudgment {
  return { kind: 'vote', ...row, flags: JSON.parse(row.flags) as LabelFlag[] };
}

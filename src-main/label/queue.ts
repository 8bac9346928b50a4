// Task distribution (Argilla's model): every annotator sees every item of a task until the item
// has `min_annotators` submissions; then it is done and leaves the pending queues of everyone who
// has not touched it. Pure functions over what the store holds, so they are tested without SQLite.

import type { JudgmentStatus, Mark } from '../store/labeling.js';
import type { VoteOutcome } from '../shared/vocabulary.js';

export type ItemStatus = 'pending' | JudgmentStatus;

export interface QueueItem {
  id: number;
  position: number;
}

export interface Queue {
  pending: number[];
  draft: number[];
  submitted: number[];
  skipped: number[];
}

export function submissionCounts(marks: readonly Mark[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const m of marks) if (m.status === 'submitted') counts.set(m.itemId, (counts.get(m.itemId) ?? 0) + 1);
  return counts;
}

/** One annotator's queue, each list in task order. */
export function queueFor(
  annotatorId: number,
  items: readonly QueueItem[],
  marks: readonly Mark[],
  minAnnotators: number,
): Queue {
  const counts = submissionCounts(marks);
  const mine = new Map(marks.filter((m) => m.annotatorId === annotatorId).map((m) => [m.itemId, m.status]));
  const q: Queue = { pending: [], draft: [], submitted: [], skipped: [] };
  for (const item of [...items].sort((x, y) => x.position - y.position)) {
    const status = mine.get(item.id);
    if (status) q[status].push(item.id);
    else if ((counts.get(item.id) ?? 0) < minAnnotators) q.pending.push(item.id);
  }
  return q;
}

/**
 * What the annotator should work on next: an unfinished draft first, then the first pending item,
 * then (when asked) the first item they skipped.
 */
export function nextFor(
  annotatorId: number,
  items: readonly QueueItem[],
  marks: readonly Mark[],
  minAnnotators: number,
  revisitSkipped = false,
): number | null {
  const q = queueFor(annotatorId, items, marks, minAnnotators);
  return q.draft[0] ?? q.pending[0] ?? (revisitSkipped ? q.skipped[0] : undefined) ?? null;
}

export interface Conflict {
  itemId: number;
  annotators: number[];
  /** Rankings: share of response pairs ordered oppositely by some two annotators. Pairwise: 1. */
  disagreement: number;
}

/**
 * Items whose submitted judgments disagree. Rankings disagree when some two annotators order a
 * pair of responses oppositely (one tie against a strict order is not a conflict); pairwise votes
 * disagree when their outcomes, mapped to the responses rather than the screen sides, differ.
 */
export function conflicts(marks: readonly Mark[]): Conflict[] {
  const byItem = groupSubmitted(marks);
  const out: Conflict[] = [];
  for (const [itemId, ms] of byItem) {
    if (ms.length < 2) continue;
    const annotators = ms.map((m) => m.annotatorId);
    if (ms[0]!.vote) {
      const outcomes = new Set(ms.map((m) => canonicalOutcome(m.vote!)));
      if (outcomes.size > 1) out.push({ itemId, annotators, disagreement: 1 });
      continue;
    }
    const prefs = ms.map((m) => pairPreferences(m.ranking ?? []));
    const keys = new Set(prefs.flatMap((p) => [...p.keys()]));
    let discordant = 0;
    for (const key of keys) {
      const signs = new Set(prefs.map((p) => p.get(key)).filter((s) => s === '<' || s === '>'));
      if (signs.size > 1) discordant++;
    }
    if (discordant > 0) out.push({ itemId, annotators, disagreement: discordant / keys.size });
  }
  return out.sort((x, y) => y.disagreement - x.disagreement || x.itemId - y.itemId);
}

export function groupSubmitted(marks: readonly Mark[]): Map<number, Mark[]> {
  const byItem = new Map<number, Mark[]>();
  for (const m of marks) {
    if (m.status !== 'submitted') continue;
    const list = byItem.get(m.itemId) ?? [];
    list.push(m);
    byItem.set(m.itemId, list);
  }
  return byItem;
}

/**
 * For every unordered pair of ranked responses, keyed "lowId:highId": '<' when the lower id is
 * preferred, '>' when the higher id is, '=' when tied.
 */
export function pairPreferences(ranking: readonly (readonly number[])[]): Map<string, '<' | '>' | '='> {
  const tier = new Map<number, number>();
  ranking.forEach((ids, t) => ids.forEach((id) => tier.set(id, t)));
  const ids = [...tier.keys()].sort((a, b) => a - b);
  const out = new Map<string, '<' | '>' | '='>();
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const ti = tier.get(ids[i]!)!;
      const tj = tier.get(ids[j]!)!;
      out.set(`${ids[i]}:${ids[j]}`, ti < tj ? '<' : ti > tj ? '>' : '=');
    }
  }
  return out;
}

/** A vote in terms of the responses, independent of which side they were shown on. */
export function canonicalOutcome(vote: { a: number; b: number; outcome: VoteOutcome }): 'lower' | 'higher' | 'tie' | 'both_bad' {
  if (vote.outcome === 'tie' || vote.outcome === 'both_bad') return vote.outcome;
  const winner = vote.outcome === 'a' ? vote.a : vote.b;
  return winner === Math.min(vote.a, vote.b) ? 'lower' : 'higher';
}

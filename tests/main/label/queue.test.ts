import { describe, expect, it } from 'vitest';
import { conflicts, nextFor, queueFor } from '../../../src-main/label/queue.js';
import type { Mark } from '../../../src-main/store/labeling.js';
import { taskAgreement } from '../../../src-main/label/stats.js';

const items = [1, 2, 3, 4].map((id) => ({ id, position: id }));
const sub = (itemId: number, annotatorId: number, ranking: number[][] = [[1], [2]]): Mark => ({
  itemId,
  annotatorId,
  status: 'submitted',
  ranking,
});

describe('task distribution', () => {
  it('keeps an item in everyone’s pending queue until it has min_annotators submissions', () => {
    const marks = [sub(1, 10)];
    expect(queueFor(20, items, marks, 2).pending).toEqual([1, 2, 3, 4]);
    const done = [sub(1, 10), sub(1, 30)];
    // Item 1 is done: annotator 20 no longer sees it, the two who submitted keep it as submitted.
    expect(queueFor(20, items, done, 2).pending).toEqual([2, 3, 4]);
    expect(queueFor(10, items, done, 2)).toEqual({ pending: [2, 3, 4], draft: [], submitted: [1], skipped: [] });
  });

  it('sorts each annotator’s items into pending, draft, submitted and skipped', () => {
    const marks: Mark[] = [
      sub(1, 10),
      { itemId: 2, annotatorId: 10, status: 'draft', ranking: [[1]] },
      { itemId: 3, annotatorId: 10, status: 'skipped' },
    ];
    expect(queueFor(10, items, marks, 1)).toEqual({ pending: [4], draft: [2], submitted: [1], skipped: [3] });
  });

  it('offers an unfinished draft before pending items, and nothing when all is done', () => {
    const marks: Mark[] = [{ itemId: 3, annotatorId: 10, status: 'draft', ranking: [] }];
    expect(nextFor(10, items, marks, 1)).toBe(3);
    expect(nextFor(20, items, marks, 1)).toBe(1);
    const all = items.map((i) => sub(i.id, 10));
    expect(nextFor(20, items, all, 1)).toBeNull();
    const skippedTwo: Mark[] = [...items.slice(0, 3).map((i) => sub(i.id, 10)), { itemId: 4, annotatorId: 10, status: 'skipped' }];
    expect(nextFor(10, items, skippedTwo, 1)).toBeNull();
    expect(nextFor(10, items, skippedTwo, 1, true)).toBe(4);
  });
});

describe('conflicts', () => {
  it('lists items where two annotators order a pair of responses oppositely', () => {
    const marks = [
      sub(1, 10, [[5], [6], [7]]),
      sub(1, 20, [[6], [5], [7]]), // 5↔6 swapped: 1 of 3 pairs discordant
      sub(2, 10, [[5], [6]]),
      sub(2, 20, [[5, 6]]), // a tie against a strict order is not a conflict
      sub(3, 10, [[5], [6]]), // a single judgment cannot conflict
    ];
    const c = conflicts(marks);
    expect(c).toHaveLength(1);
    expect(c[0]!.itemId).toBe(1);
    expect(c[0]!.annotators).toEqual([10, 20]);
    expect(c[0]!.disagreement).toBeCloseTo(1 / 3);
  });

  it('compares pairwise votes by response, not by screen side', () => {
    const vote = (annotatorId: number, a: number, b: number, outcome: 'a' | 'b' | 'tie'): Mark => ({
      itemId: 1,
      annotatorId,
      status: 'submitted',
      vote: { a, b, outcome },
    });
    expect(conflicts([vote(10, 5, 6, 'a'), vote(20, 6, 5, 'b')])).toEqual([]);
    expect(conflicts([vote(10, 5, 6, 'a'), vote(20, 5, 6, 'tie')])).toHaveLength(1);
  });
});

describe('task agreement', () => {
  it('is perfect when two annotators rank identically, and lower when they reverse', () => {
    const orders = [[[1], [2], [3]], [[3], [1], [2]], [[2], [3], [1]]];
    const same = [1, 2, 3].flatMap((item) => [sub(item, 10, orders[item - 1]), sub(item, 20, orders[item - 1])]);
    const a = taskAgreement('ranking', same);
    expect(a.alpha).toBeCloseTo(1);
    expect(a.reading).toBe('reliable');
    expect(a.pairs).toEqual([{ a: 10, b: 20, kappa: 1, n: 9, reading: 'reliable' }]);

    const reversed = [1, 2, 3].flatMap((item) => [sub(item, 10, [[1], [2], [3]]), sub(item, 20, [[3], [2], [1]])]);
    const r = taskAgreement('ranking', reversed);
    expect(r.alpha!).toBeLessThan(0);
    expect(r.reading).toBe('unreliable');
  });

  it('ignores drafts and skips', () => {
    const marks: Mark[] = [
      sub(1, 10, [[1], [2]]),
      { itemId: 1, annotatorId: 20, status: 'draft', ranking: [[2], [1]] },
    ];
    expect(taskAgreement('ranking', marks).items).toBe(0);
  });
});

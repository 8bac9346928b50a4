import { describe, expect, it } from 'vitest';
import { dropAt, initial, isComplete, placeNext, rankOf, redo, removeLast, tieWithLast, undo } from '../../../src-renderer/views/label/ranking.js';

describe('ranking editor', () => {
  it('keys give the next rank; Shift ties with the last rank; Backspace takes one back', () => {
    let s = initial();
    s = placeNext(s, 3);
    s = placeNext(s, 1);
    s = tieWithLast(s, 4);
    s = placeNext(s, 2);
    expect(s.tiers).toEqual([[3], [1, 4], [2]]);
    expect(isComplete(s.tiers, 4)).toBe(true);
    expect([...rankOf(s.tiers)]).toEqual([[3, 1], [1, 2], [4, 2], [2, 3]]);
    s = removeLast(s);
    expect(s.tiers).toEqual([[3], [1, 4]]);
    s = removeLast(s);
    expect(s.tiers).toEqual([[3], [1]]);
  });

  it('pressing the key of a ranked response moves it to the next rank', () => {
    const s = placeNext(placeNext(placeNext(initial(), 1), 2), 1);
    expect(s.tiers).toEqual([[2], [1]]);
  });

  it('undo and redo walk the history; a new change drops the redo branch', () => {
    let s = placeNext(placeNext(initial(), 1), 2);
    s = undo(s);
    expect(s.tiers).toEqual([[1]]);
    s = redo(s);
    expect(s.tiers).toEqual([[1], [2]]);
    s = undo(undo(s));
    expect(s.tiers).toEqual([]);
    s = placeNext(s, 4);
    expect(redo(s).tiers).toEqual([[4]]);
  });

  it('dropping onto a tier ties, dropping between tiers inserts', () => {
    let s = initial([[1], [2], [3]]);
    s = dropAt(s, 3, 0, true);
    expect(s.tiers).toEqual([[1, 3], [2]]);
    s = dropAt(s, 4, 1, false);
    expect(s.tiers).toEqual([[1, 3], [4], [2]]);
    s = dropAt(s, 1, 3, false);
    expect(s.tiers).toEqual([[3], [4], [2], [1]]);
  });
});

// Display helpers the Data view's pager and status bar depend on.
import { describe, expect, it } from 'vitest';
import { clampOffset, formatDuration, formatProgress, pageCount, percent, rangeLabel } from '../../src-renderer/lib/format.js';
import { oneLine } from '../../src-renderer/lib/table.js';

describe('pager labels', () => {
  it('describes the visible slice of a large table', () => {
    expect(rangeLabel(0, 50, 100_000)).toBe('1–50 of 100,000');
    expect(rangeLabel(99_950, 50, 100_000)).toBe('99,951–100,000 of 100,000');
    expect(rangeLabel(0, 0, 0)).toBe('No rows');
  });

  it('counts pages and keeps an offset on a real page', () => {
    expect(pageCount(0, 50)).toBe(1);
    expect(pageCount(120, 50)).toBe(3);
    expect(clampOffset(119, 50, 120)).toBe(100);
    expect(clampOffset(500, 50, 120)).toBe(100);
    expect(clampOffset(-10, 50, 120)).toBe(0);
    expect(clampOffset(73, 25, 0)).toBe(0);
  });
});

describe('progress and names', () => {
  it('gives no percentage when the total is unknown', () => {
    expect(percent(5, 0)).toBeNull();
    expect(percent(50, 200)).toBe(25);
    expect(percent(300, 200)).toBe(100);
  });

  it('shows byte progress in MB and counted progress with its unit', () => {
    expect(formatProgress(1_048_576, 20_555_576, 'bytes')).toBe('1.0 / 19.6 MB');
    expect(formatProgress(1200, 5000, 'steps')).toBe('1,200 / 5,000 steps');
  });

  it('formats an ETA for people', () => {
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(125)).toBe('2 min 5 s');
    expect(formatDuration(3 * 3600 + 60 * 7)).toBe('3 h 7 min');
  });

  it('flattens long cell text to one line', () => {
    expect(oneLine('a\n\n  b\tc')).toBe('a b c');
    expect(oneLine('x'.repeat(10), 4)).toBe('xxxx…');
    expect(oneLine(null)).toBe('');
  });
});

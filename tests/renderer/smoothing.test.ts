import { describe, expect, it } from 'vitest';
import { debiasedEma } from '../../src-renderer/lib/smoothing.js';

describe('TensorBoard smoothing', () => {
  it('is the raw series at weight 0 and starts at the first value (debiased), not at zero', () => {
    expect(debiasedEma([3, 1, 2], 0)).toEqual([3, 1, 2]);
    const s = debiasedEma([10, 10, 10, 0], 0.6);
    expect(s[0]).toBeCloseTo(10);
    expect(s[2]).toBeCloseTo(10);
    // one drop to 0 after three 10s: (0.6³·… debiased) stays well above the raw 0
    expect(s[3]!).toBeGreaterThan(5);
    expect(s[3]!).toBeLessThan(10);
  });
  it('matches the hand-computed debiased EMA', () => {
    const w = 0.5;
    const [a, b] = debiasedEma([2, 4], w);
    expect(a).toBeCloseTo(2);
    // last = 0.5·(0.5·2) + 0.5·4 = 2.5; debias 1 − 0.25 = 0.75 → 3.333…
    expect(b).toBeCloseTo(2.5 / 0.75);
  });
});

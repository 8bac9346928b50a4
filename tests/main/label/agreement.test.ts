import { describe, expect, it } from 'vitest';
import { cohensKappa, krippendorffAlpha, reading } from '../../../src-main/label/agreement.js';

// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four observers,
// twelve units, missing data ("." below). Published: α_nominal = 0.743, α_ordinal = 0.815,
// α_interval = 0.849.
const R = null;
const observers = [
  [1, 2, 3, 3, 2, 1, 4, 1, 2, R, R, R],
  [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, R, 3],
  [R, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, R],
  [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, R],
];
const units = Array.from({ length: 12 }, (_, u) =>
  observers.map((o) => o[u]).filter((v): v is number => v !== null),
);

describe("Krippendorff's α on the paper's worked example", () => {
  it('nominal α is 0.743', () => {
    const r = krippendorffAlpha(units, 'nominal');
    expect(r.alpha!).toBeCloseTo(0.743, 3);
    // Unit 12 has a single value and is not pairable: 40 pairable values in 11 units.
    expect(r.pairable).toBe(40);
    expect(r.units).toBe(11);
  });
  it('ordinal α is 0.815', () => {
    expect(krippendorffAlpha(units, 'ordinal').alpha!).toBeCloseTo(0.815, 3);
  });
  it('interval α is 0.849', () => {
    expect(krippendorffAlpha(units, 'interval').alpha!).toBeCloseTo(0.849, 3);
  });
  it('nominal α works on string categories the same way', () => {
    const named = units.map((u) => u.map((v) => `c${v}`));
    expect(krippendorffAlpha(named, 'nominal').alpha!).toBeCloseTo(0.743, 3);
  });
  it('is undefined without variation or without pairable values', () => {
    expect(krippendorffAlpha([[1, 1], [1, 1]], 'nominal').alpha).toBeNull();
    expect(krippendorffAlpha([[1], [2]], 'ordinal').alpha).toBeNull();
  });
  it('is 1 for perfect agreement', () => {
    expect(krippendorffAlpha([[1, 1], [2, 2], [3, 3]], 'ordinal').alpha).toBeCloseTo(1, 10);
  });
});

describe("Cohen's κ", () => {
  it('matches the textbook 2×2 example (20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no → κ = 0.4)', () => {
    const a = [...Array(25).fill('yes'), ...Array(25).fill('no')];
    const b = [...Array(20).fill('yes'), ...Array(5).fill('no'), ...Array(10).fill('yes'), ...Array(15).fill('no')];
    const r = cohensKappa(a, b);
    expect(r.observed).toBeCloseTo(0.7, 10);
    expect(r.expected).toBeCloseTo(0.5, 10);
    expect(r.kappa!).toBeCloseTo(0.4, 10);
  });
  it("matches Cohen's (1960) three-category example: p_o = 0.70, p_e = 0.41, κ = 0.492", () => {
    // Cohen (1960): marginal proportions .60/.30/.10 and .50/.30/.20, p_o = .70 → p_e = .41,
    // κ = .492. κ depends only on the diagonal and the marginals; the off-diagonal cells below
    // are one filling consistent with them (200 units).
    const cells: [string, string, number][] = [
      ['1', '1', 88], ['1', '2', 14], ['1', '3', 18],
      ['2', '1', 10], ['2', '2', 40], ['2', '3', 10],
      ['3', '1', 2], ['3', '2', 6], ['3', '3', 12],
    ];
    const a: string[] = [];
    const b: string[] = [];
    for (const [x, y, n] of cells) {
      for (let i = 0; i < n; i++) {
        a.push(x);
        b.push(y);
      }
    }
    const r = cohensKappa(a, b);
    expect(r.observed).toBeCloseTo(0.7, 10);
    expect(r.expected).toBeCloseTo(0.41, 10);
    expect(r.kappa!).toBeCloseTo(0.492, 3);
  });
});

describe('reading', () => {
  it('uses the 0.8 / 0.667 thresholds', () => {
    expect(reading(0.81)).toBe('reliable');
    expect(reading(0.8)).toBe('reliable');
    expect(reading(0.7)).toBe('tentative');
    expect(reading(0.5)).toBe('unreliable');
    expect(reading(null)).toBe('undefined');
  });
});

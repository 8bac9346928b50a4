import { describe, expect, it } from 'vitest';
import { bradleyTerry, fitBradleyTerry, winRate, type Battle } from '../../../src-main/compare/stats.js';
import { Rng } from '../../../src-main/engine/rng.js';
import type { PairOutcome } from '../../../src-main/shared/vocabulary.js';

function outcomes(rng: Rng, n: number, pB: number, pTie = 0): PairOutcome[] {
  return Array.from({ length: n }, () => {
    const r = rng.next();
    return r < pTie ? 'tie' : r < pTie + pB ? 'b' : 'a';
  });
}

describe('win rate with a bootstrap interval', () => {
  it('counts a tie as half a win', () => {
    const w = winRate(['b', 'tie', 'a', 'tie'], new Rng(1));
    expect(w.win_rate).toBe(0.5);
    expect(w).toMatchObject({ n: 4, wins: 1, losses: 1, ties: 2 });
  });

  it('95% intervals contain the true 60/40 rate in at least 90% of 200 simulated experiments', () => {
    const rng = new Rng(7);
    let covered = 0;
    let width = 0;
    for (let e = 0; e < 200; e++) {
      const w = winRate(outcomes(rng, 200, 0.6), rng, { resamples: 600 });
      if (w.ci_low <= 0.6 && 0.6 <= w.ci_high) covered++;
      width += (w.ci_high - w.ci_low) / 200;
    }
    expect(covered / 200).toBeGreaterThanOrEqual(0.9);
    // The normal approximation gives 2·1.96·sqrt(.24/200) ≈ 0.136.
    expect(width).toBeGreaterThan(0.11);
    expect(width).toBeLessThan(0.16);
  });

  it('also covers the truth when ties are common', () => {
    const rng = new Rng(8);
    let covered = 0;
    for (let e = 0; e < 100; e++) {
      const w = winRate(outcomes(rng, 250, 0.45, 0.3), rng, { resamples: 500 });
      if (w.ci_low <= 0.6 && 0.6 <= w.ci_high) covered++;
    }
    expect(covered).toBeGreaterThanOrEqual(90);
  });

  it('is reproducible for a seed', () => {
    const data = outcomes(new Rng(3), 100, 0.6);
    expect(winRate(data, new Rng(11))).toEqual(winRate(data, new Rng(11)));
  });
});

describe('Bradley–Terry ratings', () => {
  const truth: Record<string, number> = { sft: 1, dpo: 2, ppo: 4, best: 8 };
  function battles(rng: Rng, n: number): Battle[] {
    const names = Object.keys(truth);
    return Array.from({ length: n }, () => {
      const a = names[rng.int(names.length)]!;
      let b = a;
      while (b === a) b = names[rng.int(names.length)]!;
      const pB = truth[b]! / (truth[a]! + truth[b]!);
      return { a, b, outcome: rng.next() < pB ? 'b' : 'a' } as Battle;
    });
  }

  it('recovers known strengths: order and approximate ratios', () => {
    const fit = fitBradleyTerry(battles(new Rng(5), 6000), Object.keys(truth), { prior: 0 });
    const s = (m: string) => fit.get(m)!;
    expect(s('sft')).toBeLessThan(s('dpo'));
    expect(s('dpo')).toBeLessThan(s('ppo'));
    expect(s('ppo')).toBeLessThan(s('best'));
    expect(s('dpo') / s('sft')).toBeGreaterThan(1.7);
    expect(s('dpo') / s('sft')).toBeLessThan(2.3);
    expect(s('best') / s('sft')).toBeGreaterThan(6.5);
    expect(s('best') / s('sft')).toBeLessThan(9.5);
  });

  it('gives ratings on the Arena scale with bootstrap intervals around them, best first', () => {
    const rng = new Rng(9);
    const ratings = bradleyTerry(battles(rng, 3000), rng, { resamples: 150 });
    expect(ratings.map((r) => r.model)).toEqual(['best', 'ppo', 'dpo', 'sft']);
    for (const r of ratings) {
      expect(r.ci_low).toBeLessThanOrEqual(r.rating);
      expect(r.ci_high).toBeGreaterThanOrEqual(r.rating);
      expect(r.ci_high - r.ci_low).toBeLessThan(120);
    }
    // 400·log10(8) ≈ 361 points between the strongest and the weakest.
    expect(ratings[0]!.rating - ratings[3]!.rating).toBeGreaterThan(300);
    expect(ratings[0]!.rating - ratings[3]!.rating).toBeLessThan(420);
  });

  it('treats ties as half a win and keeps a never-winning model finite', () => {
    const even = fitBradleyTerry(Array.from({ length: 50 }, () => ({ a: 'x', b: 'y', outcome: 'tie' as const })), ['x', 'y']);
    expect(even.get('x')).toBeCloseTo(1, 6);
    const lopsided = fitBradleyTerry(Array.from({ length: 20 }, () => ({ a: 'x', b: 'y', outcome: 'b' as const })), ['x', 'y']);
    expect(Number.isFinite(Math.log(lopsided.get('x')!))).toBe(true);
    expect(lopsided.get('y')!).toBeGreaterThan(lopsided.get('x')! * 10);
  });
});

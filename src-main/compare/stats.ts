// Statistics of a comparison: the win rate of one model over another with a bootstrap interval, and
// Bradley–Terry ratings for three or more models with bootstrap intervals — the method Chatbot Arena
// publishes its leaderboard with. Hand-written: no maintained JS library does Bradley–Terry, and a
// percentile bootstrap is a few lines.

import type { Rng } from '../engine/rng.js';
import type { PairOutcome } from '../shared/vocabulary.js';

export interface WinRate {
  n: number;
  wins: number;
  losses: number;
  ties: number;
  /** Share of judgments that b wins, a tie counting ½. */
  win_rate: number;
  ci_low: number;
  ci_high: number;
}

function score(outcome: PairOutcome): number {
  return outcome === 'b' ? 1 : outcome === 'tie' ? 0.5 : 0;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Win rate of b over a (ties ½) with a percentile-bootstrap interval: resample the judgments with
 * replacement `resamples` times and take the (1−level)/2 and (1+level)/2 quantiles.
 */
export function winRate(
  outcomes: PairOutcome[],
  rng: Rng,
  opts: { resamples?: number; level?: number } = {},
): WinRate {
  const n = outcomes.length;
  const wins = outcomes.filter((o) => o === 'b').length;
  const ties = outcomes.filter((o) => o === 'tie').length;
  const base = { n, wins, ties, losses: n - wins - ties };
  if (n === 0) return { ...base, win_rate: NaN, ci_low: NaN, ci_high: NaN };
  const scores = outcomes.map(score);
  const rate = scores.reduce((s, x) => s + x, 0) / n;
  const resamples = opts.resamples ?? 2000;
  const level = opts.level ?? 0.95;
  const boot = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += scores[Math.floor(rng.next() * n)]!;
    boot[r] = sum / n;
  }
  const sorted = Array.from(boot).sort((x, y) => x - y);
  return { ...base, win_rate: rate, ci_low: quantile(sorted, (1 - level) / 2), ci_high: quantile(sorted, (1 + level) / 2) };
}

// ---------- Bradley–Terry ----------

export interface Battle {
  a: string;
  b: string;
  outcome: PairOutcome;
}

export interface Rating {
  model: string;
  /** Bradley–Terry strength, geometric mean 1: P(i beats j) = s_i / (s_i + s_j). */
  strength: number;
  /** Chatbot Arena's scale: 1000 + 400·log10(strength). */
  rating: number;
  ci_low: number;
  ci_high: number;
  battles: number;
}

/**
 * Maximum-likelihood strengths by the MM algorithm (Hunter 2004): s_i ← W_i / Σ_j n_ij / (s_i + s_j),
 * a tie counting half a win for each side. `prior` adds that many virtual ties between every pair,
 * which keeps a model that never won at a finite rating (the MLE would be 0).
 */
export function fitBradleyTerry(
  battles: Battle[],
  models: string[],
  opts: { prior?: number; iterations?: number; tolerance?: number } = {},
): Map<string, number> {
  const m = models.length;
  const index = new Map(models.map((name, i) => [name, i]));
  const prior = opts.prior ?? 0.5;
  const wins = new Float64Array(m);
  const games = Array.from({ length: m }, () => new Float64Array(m));
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      if (i === j) continue;
      games[i]![j] = prior;
      wins[i]! += prior / 2;
    }
  }
  for (const { a, b, outcome } of battles) {
    const i = index.get(a);
    const j = index.get(b);
    if (i === undefined || j === undefined) throw new Error(`battle between unknown models ${a} / ${b}`);
    games[i]![j]! += 1;
    games[j]![i]! += 1;
    const sb = score(outcome);
    wins[j]! += sb;
    wins[i]! += 1 - sb;
  }
  let s = new Float64Array(m).fill(1);
  for (let it = 0; it < (opts.iterations ?? 1000); it++) {
    const next = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let denom = 0;
      for (let j = 0; j < m; j++) if (i !== j) denom += games[i]![j]! / (s[i]! + s[j]!);
      next[i] = denom > 0 ? wins[i]! / denom : s[i]!;
    }
    // Strengths are defined up to a factor: fix the geometric mean at 1.
    const logMean = next.reduce((acc, x) => acc + Math.log(x), 0) / m;
    for (let i = 0; i < m; i++) next[i] = next[i]! / Math.exp(logMean);
    const change = next.reduce((acc, x, i) => Math.max(acc, Math.abs(Math.log(x / s[i]!))), 0);
    s = next;
    if (change < (opts.tolerance ?? 1e-10)) break;
  }
  return new Map(models.map((name, i) => [name, s[i]!]));
}

const toRating = (strength: number) => 1000 + 400 * Math.log10(strength);

/** Ratings with percentile-bootstrap intervals over resampled battles, best first. */
export function bradleyTerry(
  battles: Battle[],
  rng: Rng,
  opts: { models?: string[]; resamples?: number; level?: number; prior?: number } = {},
): Rating[] {
  const models = opts.models ?? [...new Set(battles.flatMap((x) => [x.a, x.b]))].sort();
  const fit = fitBradleyTerry(battles, models, { prior: opts.prior });
  const resamples = opts.resamples ?? 500;
  const level = opts.level ?? 0.95;
  const samples = new Map(models.map((name) => [name, [] as number[]]));
  for (let r = 0; r < resamples && battles.length > 0; r++) {
    const resampled = battles.map(() => battles[Math.floor(rng.next() * battles.length)]!);
    const boot = fitBradleyTerry(resampled, models, { prior: opts.prior, tolerance: 1e-7 });
    for (const [name, st] of boot) samples.get(name)!.push(toRating(st));
  }
  return models
    .map((model) => {
      const strength = fit.get(model)!;
      const sorted = samples.get(model)!.sort((x, y) => x - y);
      return {
        model,
        strength,
        rating: toRating(strength),
        ci_low: quantile(sorted, (1 - level) / 2),
        ci_high: quantile(sorted, (1 + level) / 2),
        battles: battles.filter((x) => x.a === model || x.b === model).length,
      };
    })
    .sort((x, y) => y.rating - x.rating);
}

// Inter-annotator agreement: Krippendorff's α and Cohen's κ.
//
// Hand-written: the npm `krippendorff` package (0.1.0, a few hundred downloads, no release in
// years, no types, nominal/interval only as far as its README shows) is too small and unkept to
// trust for the number users make decisions on; α is ~40 lines over the coincidence matrix of
// Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", and tests check it against
// that paper's worked example.

export type AlphaMetric = 'nominal' | 'ordinal' | 'interval';
export type Value = number | string;

export interface AlphaResult {
  /** null when undefined: fewer than two pairable values, or no variation at all (D_e = 0). */
  alpha: number | null;
  /** Pairable values: values in units coded by at least two coders. */
  pairable: number;
  /** Units with at least two values. */
  units: number;
}

/**
 * Krippendorff's α. `units[u]` holds the values the coders gave unit u (missing values left out,
 * so units may have different lengths). Units with fewer than two values are not pairable.
 * Ordinal and interval metrics need numeric values.
 */
export function krippendorffAlpha(units: ReadonlyArray<ReadonlyArray<Value>>, metric: AlphaMetric): AlphaResult {
  const pairableUnits = units.filter((u) => u.length >= 2);
  // Distinct values, sorted (numerically for ordinal/interval) so ordinal distances can sum ranks between them.
  const distinct = [...new Set(pairableUnits.flat())];
  if (metric !== 'nominal' && distinct.some((v) => typeof v !== 'number')) {
    throw new Error(`${metric} α needs numeric values`);
  }
  distinct.sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
  const index = new Map(distinct.map((v, i) => [v, i]));
  const V = distinct.length;

  // Coincidence matrix o[c][k]: each ordered pair of values from different coders within a unit
  // contributes 1/(m_u − 1).
  const o = Array.from({ length: V }, () => new Float64Array(V));
  for (const unit of pairableUnits) {
    const w = 1 / (unit.length - 1);
    for (let i = 0; i < unit.length; i++) {
      for (let j = 0; j < unit.length; j++) {
        if (i !== j) o[index.get(unit[i]!)!]![index.get(unit[j]!)!]! += w;
      }
    }
  }
  const nc = o.map((row) => row.reduce((s, x) => s + x, 0));
  const n = nc.reduce((s, x) => s + x, 0);
  const result = { pairable: Math.round(n), units: pairableUnits.length };
  if (n < 2) return { alpha: null, ...result };

  const delta2 = distanceMatrix(distinct, nc, metric);
  let observed = 0;
  let expected = 0;
  for (let c = 0; c < V; c++) {
    for (let k = 0; k < V; k++) {
      observed += o[c]![k]! * delta2[c]![k]!;
      expected += nc[c]! * nc[k]! * delta2[c]![k]!;
    }
  }
  if (expected === 0) return { alpha: null, ...result };
  return { alpha: 1 - ((n - 1) * observed) / expected, ...result };
}

/** Squared distances δ²(c,k) between the sorted distinct values. */
function distanceMatrix(values: Value[], nc: number[], metric: AlphaMetric): number[][] {
  const V = values.length;
  return Array.from({ length: V }, (_, c) =>
    Array.from({ length: V }, (_, k) => {
      if (metric === 'nominal') return c === k ? 0 : 1;
      if (metric === 'interval') return ((values[c] as number) - (values[k] as number)) ** 2;
      // Ordinal: the number of values ranked between c and k, counting c and k by half.
      const [lo, hi] = c < k ? [c, k] : [k, c];
      let sum = 0;
      for (let g = lo; g <= hi; g++) sum += nc[g]!;
      return (sum - (nc[c]! + nc[k]!) / 2) ** 2;
    }),
  );
}

export interface KappaResult {
  kappa: number | null;
  /** Number of jointly judged units. */
  n: number;
  observed: number;
  expected: number;
}

/** Cohen's κ for two coders who judged the same units: `a[i]` and `b[i]` are their labels of unit i. */
export function cohensKappa(a: ReadonlyArray<Value>, b: ReadonlyArray<Value>): KappaResult {
  if (a.length !== b.length) throw new Error('Cohen’s κ needs the two coders’ labels of the same units');
  const n = a.length;
  if (n === 0) return { kappa: null, n, observed: 0, expected: 0 };
  const countA = new Map<Value, number>();
  const countB = new Map<Value, number>();
  let agree = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) agree++;
    countA.set(a[i]!, (countA.get(a[i]!) ?? 0) + 1);
    countB.set(b[i]!, (countB.get(b[i]!) ?? 0) + 1);
  }
  const observed = agree / n;
  let expected = 0;
  for (const [label, ca] of countA) expected += (ca / n) * ((countB.get(label) ?? 0) / n);
  const kappa = expected === 1 ? null : (observed - expected) / (1 - expected);
  return { kappa, n, observed, expected };
}

export type Reading = 'reliable' | 'tentative' | 'unreliable' | 'undefined';

/**
 * Krippendorff's own thresholds (Content Analysis, 2004): α ≥ 0.800 reliable, ≥ 0.667 acceptable
 * only for tentative conclusions, below that unreliable. The same reading is shown for κ.
 */
export function reading(coefficient: number | null): Reading {
  if (coefficient === null || Number.isNaN(coefficient)) return 'undefined';
  if (coefficient >= 0.8) return 'reliable';
  if (coefficient >= 0.667) return 'tentative';
  return 'unreliable';
}

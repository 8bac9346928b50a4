// Agreement of a labeling task, from its submitted judgments.
//
// Rankings: Krippendorff's α with the ordinal metric, where a unit is one (item, response) and an
// annotator's value is the 1-based position of the tier holding that response (tied responses
// share a position). Cohen's κ per annotator pair over the response pairs of the items both
// ranked, each labelled lower-id-preferred / higher-id-preferred / tied.
// Pairwise: nominal α and κ over the vote outcomes (lower id wins / higher id wins / tie / both
// bad), one unit per item.
import { cohensKappa, krippendorffAlpha, reading, type Reading } from './agreement.js';
import { canonicalOutcome, groupSubmitted, pairPreferences } from './queue.js';
import type { Mark } from '../store/labeling.js';
import type { LabelMode } from '../shared/vocabulary.js';

export interface PairKappa {
  a: number;
  b: number;
  kappa: number | null;
  /** Jointly judged units (response pairs for rankings, items for pairwise). */
  n: number;
  reading: Reading;
}

export interface TaskAgreement {
  metric: 'ordinal' | 'nominal';
  alpha: number | null;
  reading: Reading;
  /** Items judged by at least two annotators. */
  items: number;
  pairable: number;
  pairs: PairKappa[];
}

export function taskAgreement(mode: LabelMode, marks: readonly Mark[]): TaskAgreement {
  const byItem = [...groupSubmitted(marks).values()].filter((ms) => ms.length >= 2);
  const units: (number | string)[][] = [];
  if (mode === 'ranking') {
    for (const ms of byItem) {
      const positions = ms.map((m) => tierPositions(m.ranking ?? []));
      const responses = new Set(positions.flatMap((p) => [...p.keys()]));
      for (const r of responses) units.push(positions.flatMap((p) => (p.has(r) ? [p.get(r)!] : [])));
    }
  } else {
    for (const ms of byItem) units.push(ms.filter((m) => m.vote).map((m) => canonicalOutcome(m.vote!)));
  }
  const metric = mode === 'ranking' ? 'ordinal' : 'nominal';
  const alpha = krippendorffAlpha(units, metric);
  return {
    metric,
    alpha: alpha.alpha,
    reading: reading(alpha.alpha),
    items: byItem.length,
    pairable: alpha.pairable,
    pairs: pairKappas(mode, marks),
  };
}

function tierPositions(ranking: readonly (readonly number[])[]): Map<number, number> {
  const pos = new Map<number, number>();
  ranking.forEach((ids, t) => ids.forEach((id) => pos.set(id, t + 1)));
  return pos;
}

/** Each annotator's labels per unit key, so two annotators can be lined up on shared units. */
function labelsOf(mode: LabelMode, marks: readonly Mark[]): Map<number, Map<string, string>> {
  const out = new Map<number, Map<string, string>>();
  for (const m of marks) {
    if (m.status !== 'submitted') continue;
    const labels = out.get(m.annotatorId) ?? new Map<string, string>();
    if (mode === 'pairwise' && m.vote) labels.set(String(m.itemId), canonicalOutcome(m.vote));
    if (mode === 'ranking' && m.ranking) {
      for (const [pair, pref] of pairPreferences(m.ranking)) labels.set(`${m.itemId}/${pair}`, pref);
    }
    out.set(m.annotatorId, labels);
  }
  return out;
}

function pairKappas(mode: LabelMode, marks: readonly Mark[]): PairKappa[] {
  const labels = labelsOf(mode, marks);
  const annotators = [...labels.keys()].sort((x, y) => x - y);
  const out: PairKappa[] = [];
  for (let i = 0; i < annotators.length; i++) {
    for (let j = i + 1; j < annotators.length; j++) {
      const la = labels.get(annotators[i]!)!;
      const lb = labels.get(annotators[j]!)!;
      const shared = [...la.keys()].filter((k) => lb.has(k));
      if (shared.length === 0) continue;
      const k = cohensKappa(
        shared.map((key) => la.get(key)!),
        shared.map((key) => lb.get(key)!),
      );
      out.push({ a: annotators[i]!, b: annotators[j]!, kappa: k.kappa, n: k.n, reading: reading(k.kappa) });
    }
  }
  return out;
}

// Agreement of a labeling task, from its submitted judgments: Krippendorff's α over the items two
// or more annotators judged, and Cohen's κ per annotator pair. What a unit and a value are is the
// mode's to say (label/modes/: ordinal positions for rankings, nominal outcomes for pairwise).
import { cohensKappa, krippendorffAlpha, reading, type Reading } from './agreement.js';
import { labelModeOf, type LabelModeModule } from './modes/index.js';
import { groupSubmitted } from './queue.js';
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
  const m = labelModeOf(mode);
  const byItem = [...groupSubmitted(marks).values()].filter((ms) => ms.length >= 2);
  const units = byItem.flatMap((ms) => m.agreementUnits(ms));
  const alpha = krippendorffAlpha(units, m.metric);
  return {
    metric: m.metric,
    alpha: alpha.alpha,
    reading: reading(alpha.alpha),
    items: byItem.length,
    pairable: alpha.pairable,
    pairs: pairKappas(m, marks),
  };
}

/** Each annotator's labels per unit key, so two annotators can be lined up on shared units. */
function labelsOf(mode: LabelModeModule, marks: readonly Mark[]): Map<number, Map<string, string>> {
  const out = new Map<number, Map<string, string>>();
  for (const m of marks) {
    if (m.status !== 'submitted') continue;
    const labels = out.get(m.annotatorId) ?? new Map<string, string>();
    for (const [key, label] of mode.kappaLabels(m)) labels.set(key, label);
    out.set(m.annotatorId, labels);
  }
  return out;
}

function pairKappas(mode: LabelModeModule, marks: readonly Mark[]): PairKappa[] {
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

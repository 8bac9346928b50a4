// What a labeling mode decides, behind one small interface: how many responses an item shows, and
// how its judgments are compared between annotators (label/stats.ts). One module per mode
// (ranking.ts, pairwise.ts); `labelModeOf` (index.ts) picks it, so no caller tests the mode's name.
import type { Mark } from '../../store/labeling.js';
import type { LabelMode } from '../../shared/vocabulary.js';

export interface LabelModeModule {
  readonly mode: LabelMode;
  /** Responses per item when the task asks for `k`. */
  responsesPerItem(k: number): number;
  /** Krippendorff's α metric over this mode's values. */
  readonly metric: 'ordinal' | 'nominal';
  /** The α units of one item judged by two or more annotators: one list of values per unit. */
  agreementUnits(marks: readonly Mark[]): (number | string)[][];
  /** One annotator's labels on an item by unit key, lined up between annotators for Cohen's κ. */
  kappaLabels(mark: Mark): [key: string, label: string][];
}

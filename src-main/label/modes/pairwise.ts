// Pairwise: an item shows two responses, A and B, and the annotator votes (A, B, tie, both bad).
// Agreement is nominal over the vote outcomes, read by response id (lower id wins / higher id
// wins / tie / both bad) so that two annotators shown the pair in either order line up; one unit
// per item.
import { canonicalOutcome } from '../queue.js';
import type { LabelModeModule } from './mode.js';
import { PAIRWISE_RESPONSES } from '../../shared/vocabulary.js';

export const pairwiseMode: LabelModeModule = {
  mode: 'pairwise',
  responsesPerItem: () => PAIRWISE_RESPONSES,
  metric: 'nominal',
  agreementUnits: (marks) => [marks.filter((m) => m.vote).map((m) => canonicalOutcome(m.vote!))],
  kappaLabels: (m) => (m.vote ? [[String(m.itemId), canonicalOutcome(m.vote)]] : []),
};

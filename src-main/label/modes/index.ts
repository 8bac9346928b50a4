// The labeling modes by name (mode.ts says what one decides).
import type { LabelMode } from '../../shared/vocabulary.js';
import type { LabelModeModule } from './mode.js';
import { pairwiseMode } from './pairwise.js';
import { rankingMode } from './ranking.js';

export type { LabelModeModule } from './mode.js';

const MODES: Record<LabelMode, LabelModeModule> = { ranking: rankingMode, pairwise: pairwiseMode };

export function labelModeOf(mode: LabelMode): LabelModeModule {
  return MODES[mode];
}

// Ranking: an item shows the task's K responses, ranked best first with ties. Agreement is ordinal:
// a unit is one (item, response), an annotator's value the 1-based position of the tier holding it
// (tied responses share a position); κ is over the response pairs of the items both ranked, each
// labelled lower-id-preferred / higher-id-preferred / tied.
import { pairPreferences } from '../queue.js';
import type { LabelModeModule } from './mode.js';

function tierPositions(ranking: readonly (readonly number[])[]): Map<number, number> {
  const pos = new Map<number, number>();
  ranking.forEach((ids, t) => ids.forEach((id) => pos.set(id, t + 1)));
  return pos;
}

export const rankingMode: LabelModeModule = {
  mode: 'ranking',
  responsesPerItem: (k) => k,
  metric: 'ordinal',
  agreementUnits(marks) {
    const positions = marks.map((m) => tierPositions(m.ranking ?? []));
    const responses = new Set(positions.flatMap((p) => [...p.keys()]));
    return [...responses].map((r) => positions.flatMap((p) => (p.has(r) ? [p.get(r)!] : [])));
  },
  kappaLabels(m) {
    return m.ranking ? [...pairPreferences(m.ranking)].map(([pair, pref]): [string, string] => [`${m.itemId}/${pair}`, pref]) : [];
  },
};

// The ranking being edited: tiers of response ids, best first (ids in one tier are tied), with
// undo/redo. Pure and immutable so the keyboard and drag paths share one set of rules and the
// rules are unit-tested without a browser.

export type Tiers = number[][];

export interface RankingState {
  tiers: Tiers;
  past: Tiers[];
  future: Tiers[];
}

export function initial(tiers: Tiers = []): RankingState {
  return { tiers: clean(tiers), past: [], future: [] };
}

function clean(tiers: Tiers): Tiers {
  return tiers.filter((t) => t.length > 0).map((t) => [...t]);
}

function without(tiers: Tiers, id: number): Tiers {
  return clean(tiers.map((t) => t.filter((x) => x !== id)));
}

/** Every change goes through here: it records history and drops the redo branch. */
function change(s: RankingState, next: Tiers): RankingState {
  const tiers = clean(next);
  if (JSON.stringify(tiers) === JSON.stringify(s.tiers)) return s;
  return { tiers, past: [...s.past, s.tiers], future: [] };
}

/** Key N: `id` takes the next rank (below everything ranked so far); a ranked id moves there. */
export function placeNext(s: RankingState, id: number): RankingState {
  return change(s, [...without(s.tiers, id), [id]]);
}

/** Shift+N: `id` ties with the last rank given (or takes the first rank when none is). */
export function tieWithLast(s: RankingState, id: number): RankingState {
  const rest = without(s.tiers, id);
  if (rest.length === 0) return change(s, [[id]]);
  return change(s, [...rest.slice(0, -1), [...rest[rest.length - 1]!, id]]);
}

/** Backspace: takes back the last response placed. */
export function removeLast(s: RankingState): RankingState {
  if (s.tiers.length === 0) return s;
  const last = s.tiers[s.tiers.length - 1]!;
  return change(s, [...s.tiers.slice(0, -1), last.slice(0, -1)]);
}

/** Drag and drop: onto a tier joins it (a tie); between tiers makes a new tier at `tier`. */
export function dropAt(s: RankingState, id: number, tier: number, join: boolean): RankingState {
  // Indices refer to the tiers as shown, before `id` leaves its old place.
  const marked = s.tiers.map((t) => t.filter((x) => x !== id));
  if (join && marked[tier]) marked[tier] = [...marked[tier]!, id];
  else marked.splice(Math.max(0, Math.min(tier, marked.length)), 0, [id]);
  return change(s, marked);
}

export function undo(s: RankingState): RankingState {
  if (s.past.length === 0) return s;
  return { tiers: s.past[s.past.length - 1]!, past: s.past.slice(0, -1), future: [s.tiers, ...s.future] };
}

export function redo(s: RankingState): RankingState {
  if (s.future.length === 0) return s;
  return { tiers: s.future[0]!, past: [...s.past, s.tiers], future: s.future.slice(1) };
}

/** 1-based rank of each placed id (tied ids share one), for the badges on the response cards. */
export function rankOf(tiers: Tiers): Map<number, number> {
  const out = new Map<number, number>();
  tiers.forEach((t, i) => t.forEach((id) => out.set(id, i + 1)));
  return out;
}

export function isComplete(tiers: Tiers, k: number): boolean {
  return tiers.flat().length === k;
}

// The project's leaderboard, as Chatbot Arena shows one: every blind vote of every comparison is
// a battle between two checkpoints; Bradley–Terry ratings with 95% bootstrap intervals (stats.ts)
// rank them, and a checkpoint's rank is 1 + the number of checkpoints whose interval lies wholly
// above its own (Arena's "rank (UB)"), so checkpoints the votes cannot tell apart share a rank.
import { Rng } from '../engine/rng.js';
import type { Project } from '../store/project.js';
import { bradleyTerry, type Battle } from './stats.js';
import { humanOutcome } from './judges.js';

/** Fewer votes than this per checkpoint and its interval says little: the view says so. */
export const FEW_BATTLES = 20;

export interface LeaderboardRow {
  rank: number;
  checkpoint_id: number;
  name: string;
  stage: string;
  rating: number;
  ci_low: number;
  ci_high: number;
  battles: number;
  /** Share of its battles won, ties ½. */
  win_rate: number;
}

export interface Leaderboard {
  /** Empty until three or more checkpoints have blind votes. */
  rows: LeaderboardRow[];
  votes: number;
  checkpoints: number;
}

export function leaderboard(project: Project): Leaderboard {
  const raw = project.comparisonSets.allBattles();
  const battles: Battle[] = raw.map((v) => ({ a: String(v.checkpoint_a), b: String(v.checkpoint_b), outcome: humanOutcome(v.outcome) }));
  const ids = [...new Set(raw.flatMap((v) => [v.checkpoint_a, v.checkpoint_b]))];
  if (ids.length < 3) return { rows: [], votes: raw.length, checkpoints: ids.length };
  // Seeded by the number of votes: the intervals stay put between reloads and move when a vote comes in.
  const ratings = bradleyTerry(battles, new Rng(raw.length).fork('leaderboard'), { resamples: 300 });
  const rows = ratings.map((r) => {
    const id = Number(r.model);
    const info = project.checkpoints.get(id);
    const mine = battles.filter((x) => x.a === r.model || x.b === r.model);
    const points = mine.reduce((s, x) => s + (x.outcome === 'tie' ? 0.5 : (x.outcome === 'a') === (x.a === r.model) ? 1 : 0), 0);
    return {
      rank: 0,
      checkpoint_id: id,
      name: info?.name ?? `deleted checkpoint #${id}`,
      stage: info?.stage ?? '?',
      rating: r.rating,
      ci_low: r.ci_low,
      ci_high: r.ci_high,
      battles: r.battles,
      win_rate: mine.length ? points / mine.length : 0,
    };
  });
  for (const row of rows) row.rank = 1 + rows.filter((o) => o.ci_low > row.ci_high).length;
  return { rows, votes: raw.length, checkpoints: ids.length };
}

// What the Compare view shows of a stored comparison: its rows per prompt (one cell per
// checkpoint), the statistics by reward model and by blind human votes side by side (a gap between
// the two is how reward hacking shows), and its exports (CSV/JSON rows, TRL preference pairs).
import type {
  CompareCheckpoint,
  ComparePromptRow,
  CompareRating,
  CompareSettings,
  CompareStats,
  CompareStatsSide,
  CompareWinRate,
} from '../shared/contract.js';
import { Rng } from '../engine/rng.js';
import type { ComparisonRowData, StoredVote } from '../store/comparison-sets.js';
import type { Project } from '../store/project.js';
import { bradleyTerry, winRate, type Battle } from './stats.js';
import type { PairOutcome } from '../shared/vocabulary.js';

const WIN_RATE_RESAMPLES = 2000;
const BT_RESAMPLES = 200;

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function checkpointInfo(project: Project, id: number): CompareCheckpoint {
  const c = project.checkpoints.get(id);
  // A deleted checkpoint keeps its rows and votes; it is shown by its id.
  return c ? { id, name: c.name, stage: c.stage, step: c.step, created_at: c.created_at } : { id, name: `deleted #${id}`, stage: 'base', step: 0, created_at: 0 };
}

export function promptRows(project: Project, settings: CompareSettings, rows: ComparisonRowData[]): ComparePromptRow[] {
  const byPrompt = new Map<number, Map<number, ComparisonRowData>>();
  for (const r of rows) {
    const m = byPrompt.get(r.prompt_id) ?? new Map<number, ComparisonRowData>();
    m.set(r.checkpoint_id, r);
    byPrompt.set(r.prompt_id, m);
  }
  return settings.prompt_ids.flatMap((promptId) => {
    const cells = byPrompt.get(promptId);
    if (!cells) return [];
    const ordered = settings.checkpoints.map((c) => {
      const r = cells.get(c);
      return r ? { checkpoint_id: c, response_id: r.response_id, text: r.text, score: r.score, kl: r.kl, tokens: r.tokens, seed: r.seed } : null;
    });
    const present = ordered.filter((c) => c !== null);
    const scores = present.map((c) => c.score).filter((s) => s !== null);
    return [
      {
        prompt_id: promptId,
        prompt: project.prompts.get(promptId)?.text ?? '',
        cells: ordered,
        differ: new Set(present.map((c) => c.text)).size > 1,
        gap: scores.length >= 2 ? Math.max(...scores) - Math.min(...scores) : null,
      },
    ];
  });
}

function outcomeOfScores(scoreA: number, scoreB: number): PairOutcome {
  const d = scoreB - scoreA;
  return Math.abs(d) < 1e-9 ? 'tie' : d > 0 ? 'b' : 'a';
}

/** Every other checkpoint against the reference, and Bradley–Terry when there are three or more. */
function side(checkpoints: number[], battles: Battle[], rng: Rng): CompareStatsSide {
  const ref = String(checkpoints[0]);
  const pairs: CompareWinRate[] = checkpoints.slice(1).map((b) => {
    const key = String(b);
    const outcomes = battles.flatMap((x): PairOutcome[] => {
      if (x.a === ref && x.b === key) return [x.outcome];
      if (x.a === key && x.b === ref) return [x.outcome === 'tie' ? 'tie' : x.outcome === 'a' ? 'b' : 'a'];
      return [];
    });
    const w = winRate(outcomes, rng.fork(`pair-${b}`), { resamples: WIN_RATE_RESAMPLES });
    return { a: checkpoints[0]!, b, n: w.n, wins: w.wins, losses: w.losses, ties: w.ties, win_rate: finite(w.win_rate), ci_low: finite(w.ci_low), ci_high: finite(w.ci_high) };
  });
  let ratings: CompareRating[] | null = null;
  if (checkpoints.length >= 3) {
    ratings = bradleyTerry(battles, rng.fork('bt'), { models: checkpoints.map(String), resamples: BT_RESAMPLES }).map((r) => ({
      checkpoint_id: Number(r.model),
      rating: r.rating,
      ci_low: finite(r.ci_low),
      ci_high: finite(r.ci_high),
      battles: r.battles,
    }));
  }
  return { pairs, ratings };
}

/** Reward-model battles: every pair of checkpoints on every prompt both have scored. */
function rmBattles(settings: CompareSettings, rows: ComparisonRowData[]): Battle[] | null {
  if (!rows.some((r) => r.score !== null)) return null;
  const scores = new Map(rows.map((r) => [`${r.prompt_id}:${r.checkpoint_id}`, r.score]));
  const battles: Battle[] = [];
  for (const promptId of settings.prompt_ids) {
    settings.checkpoints.forEach((a, i) => {
      for (const b of settings.checkpoints.slice(i + 1)) {
        const sa = scores.get(`${promptId}:${a}`);
        const sb = scores.get(`${promptId}:${b}`);
        if (sa === undefined || sb === undefined || sa === null || sb === null) continue;
        battles.push({ a: String(a), b: String(b), outcome: outcomeOfScores(sa, sb) });
      }
    });
  }
  return battles;
}

/** Human battles: "both bad" counts as a tie, as Chatbot Arena counts it. */
function voteBattles(votes: StoredVote[]): Battle[] {
  return votes.map((v) => ({
    a: String(v.checkpoint_a),
    b: String(v.checkpoint_b),
    outcome: v.outcome === 'both_bad' ? 'tie' : v.outcome,
  }));
}

export function compareStats(setId: number, settings: CompareSettings, rows: ComparisonRowData[], votes: StoredVote[]): CompareStats {
  // Seeded by the comparison, so the intervals do not jitter from one reload to the next.
  const rng = new Rng(setId);
  const rm = rmBattles(settings, rows);
  return {
    rm: rm ? side(settings.checkpoints, rm, rng.fork('rm')) : null,
    human: { ...side(settings.checkpoints, voteBattles(votes), rng.fork('human')), votes: votes.length },
  };
}

function csvCell(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function rowsCsv(rows: ComparePromptRow[], names: Map<number, string>): { text: string; count: number } {
  const lines = [['prompt_id', 'prompt', 'checkpoint_id', 'checkpoint', 'response', 'score', 'kl', 'tokens', 'seed'].join(',')];
  let count = 0;
  for (const row of rows) {
    for (const c of row.cells) {
      if (!c) continue;
      lines.push([row.prompt_id, row.prompt, c.checkpoint_id, names.get(c.checkpoint_id) ?? '', c.text, c.score, c.kl, c.tokens, c.seed].map(csvCell).join(','));
      count++;
    }
  }
  return { text: lines.join('\r\n') + '\r\n', count };
}

/** Blind votes as TRL preference pairs, one JSON object per line; ties and "both bad" give none. */
export function votesTrl(votes: StoredVote[]): { text: string; count: number } {
  const lines = votes.flatMap((v) => {
    if (v.outcome !== 'a' && v.outcome !== 'b') return [];
    const [chosen, rejected] = v.outcome === 'a' ? [v.text_a, v.text_b] : [v.text_b, v.text_a];
    return [JSON.stringify({ prompt: v.prompt, chosen, rejected })];
  });
  return { text: lines.length ? lines.join('\n') + '\n' : '', count: lines.length };
}

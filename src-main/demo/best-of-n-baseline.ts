// Best-of-N from the SFT model as the baseline beside PPO: sample N replies per prompt, keep the one
// the reward model scores highest, and judge it by the gold rubric against the SFT reply to the same
// prompt. Best-of-16 already gets much of what RLHF gains on the demo task, so PPO's result is read
// next to it. One draw of the largest N per prompt serves every N: best-of-M picks among its first M.
import { decodeResponse, type CompareRow } from '../compare/compare.js';
import { winRate } from '../compare/stats.js';
import { bestOfN } from '../engine/train/best-of-n.js';
import { loadModel } from '../engine/io/checkpoint-io.js';
import { loadRewardModel } from '../engine/io/reward-io.js';
import { Rng } from '../engine/rng.js';
import { textEncoder } from '../engine/train/sequences.js';
import type { Project } from '../store/project.js';
import { goldCompare, goldScore } from './rubric.js';

export interface BestOfNSummary {
  /** N: replies sampled per prompt. */
  n: number;
  /** Prompts judged. */
  prompts: number;
  /** Gold win rate of best-of-N over the SFT reply, with its 95% bootstrap interval. */
  win_rate: number;
  ci_low: number;
  ci_high: number;
  wins: number;
  ties: number;
  losses: number;
  /** Mean gold score of the kept replies. */
  mean_gold: number;
  /** Mean reward-model score of the kept replies (what best-of-N maximises). */
  mean_rm: number;
  mean_len: number;
}

export interface BestOfNOptions {
  sft: number;
  rm: number;
  /** The SFT side of the gold comparison: each prompt with the SFT reply it was judged on. */
  rows: Pick<CompareRow, 'prompt' | 'a'>[];
  ns: number[];
  seed: number;
  temperature: number;
  max_new_tokens: number;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);

export async function bestOfNBaseline(
  project: Project,
  o: BestOfNOptions,
  hooks: { progress?(done: number, total: number): void; signal?: AbortSignal } = {},
): Promise<BestOfNSummary[]> {
  const maxN = Math.max(...o.ns);
  const sft = loadModel(project, o.sft, o.seed);
  const rm = loadRewardModel(project, o.rm, o.seed);
  try {
    const tok = sft.tokenizer;
    const enc = textEncoder(tok);
    const picked = o.ns.map(() => [] as { text: string; rm: number }[]);
    const step = 8;
    for (let i = 0; i < o.rows.length; i += step) {
      if (hooks.signal?.aborted) throw new Error('cancelled');
      const part = o.rows.slice(i, i + step);
      const out = bestOfN(
        sft.model,
        rm.model,
        part.map((r) => enc.prompt(r.prompt)),
        { n: maxN, max_new_tokens: o.max_new_tokens, temperature: o.temperature, top_k: 0, top_p: 1, seed: o.seed * 1_000_003 + i * maxN, batch_size: 32 },
        tok,
      );
      part.forEach((_, k) => {
        const scores = out.candidateScores[k]!;
        o.ns.forEach((n, j) => {
          let best = 0;
          for (let c = 1; c < n; c++) if (scores[c]! > scores[best]!) best = c;
          picked[j]!.push({ text: decodeResponse(tok, out.candidates[k]![best]!), rm: scores[best]! });
        });
      });
      hooks.progress?.(Math.min(i + step, o.rows.length), o.rows.length);
    }
    return o.ns.map((n, j) => {
      const replies = picked[j]!;
      const outcomes = o.rows.map((r, k) => goldCompare(r.prompt, r.a, replies[k]!.text));
      const stats = winRate(outcomes, new Rng(o.seed).fork(`best-of-${n}`));
      return {
        n,
        prompts: o.rows.length,
        win_rate: stats.win_rate,
        ci_low: stats.ci_low,
        ci_high: stats.ci_high,
        wins: stats.wins,
        ties: stats.ties,
        losses: stats.losses,
        mean_gold: mean(o.rows.map((r, k) => goldScore(r.prompt, replies[k]!.text))),
        mean_rm: mean(replies.map((x) => x.rm)),
        mean_len: mean(replies.map((x) => x.text.split(/\s+/).filter(Boolean).length)),
      };
    });
  } finally {
    sft.model.dispose();
    rm.dispose();
  }
}

// A comparison of checkpoint b against checkpoint a on a prompt split (CLI `compare`, the demo's
// report): both generate with the same seeds and settings, a judge decides each prompt — the reward
// model, the demo's gold rubric, or stored blind human votes — and the statistics say by how much
// b wins, with a bootstrap interval. Also the mean KL of b to a per response token.
import { z } from 'zod';
import { Rng } from '../engine/rng.js';
import type { Project } from '../store/project.js';
import { splitSchema, type PairOutcome } from '../shared/vocabulary.js';
import { humanVerdicts, judgeNames, outcomeOfScores, rewardModelJudge, textJudge, type JudgeName } from './judges.js';
import { runComparison } from './pipeline.js';
import { winRate, type WinRate } from './stats.js';

export { decodeResponse, klSums } from './pipeline.js';

export const compareOptionsSchema = z
  .object({
    a: z.number().int().positive(),
    b: z.number().int().positive(),
    split: splitSchema.default('eval'),
    judge: z.enum(judgeNames).default('rm'),
    /** Reward-model checkpoint for `judge: rm`; default the latest one. */
    rm: z.number().int().positive().optional(),
    /** At most this many prompts (a seeded sample when the split has more); default all. */
    n: z.number().int().positive().optional(),
    seed: z.number().int().min(0).default(0),
    temperature: z.number().min(0).default(0.7),
    max_new_tokens: z.number().int().min(1).default(48),
    batch_size: z.number().int().min(1).max(256).default(32),
    /** Keep the generated responses in the project (source: checkpoint), for browsing and blind votes. */
    store_responses: z.boolean().default(true),
    resamples: z.number().int().min(100).max(100_000).default(2000),
  })
  .strict();
export type CompareOptions = z.input<typeof compareOptionsSchema>;

export interface CompareRow {
  prompt_id: number;
  prompt: string;
  a: string;
  b: string;
  score_a: number | null;
  score_b: number | null;
  outcome: PairOutcome;
  /** KL of b to a over this response, per token (null when b's response is empty). */
  kl_b: number | null;
}

export interface CompareReport extends WinRate {
  judge: JudgeName;
  a: number;
  b: number;
  split: 'train' | 'eval';
  rm_checkpoint: number | null;
  seed: number;
  /** Mean over response tokens of log π_b(y_t) − log π_a(y_t), on b's responses. */
  mean_kl_b: number | null;
  mean_score_a: number | null;
  mean_score_b: number | null;
  /** Mean response length in words. */
  mean_len_a: number;
  mean_len_b: number;
  rows: CompareRow[];
}

export interface CompareHooks {
  progress?(done: number, total: number, message: string): void;
  signal?: AbortSignal;
  /**
   * Prompts to compare on instead of the project's `split` (the demo's validation split, which is
   * kept out of the project's prompts so that nothing trains or reports on it); their responses
   * are never stored.
   */
  prompts?: { id: number; text: string }[];
  /** The `gold` judge, passed in by the caller: this folder knows no rubric of its own. */
  gold?: GoldScore;
}

/** A judge without a model: scores a reply to a prompt (the demo's gold rubric, demo/rubric.ts). */
export type GoldScore = (prompt: string, response: string) => number;

function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null;
}

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;

/** The latest reward-model checkpoint of the project, or null. */
export function latestRewardCheckpoint(project: Project): number | null {
  const rms = project.checkpoints.list().filter((c) => c.stage === 'rm');
  return rms.length ? rms[rms.length - 1]!.id : null;
}

/**
 * The judge for `judge: 'rm'` is the reward model (`rm`, default the latest); for `judge: 'gold'`,
 * the caller brings it in `hooks.gold` (the demo's rubric: compare knows no rubric); `judge:
 * 'human'` counts stored blind votes and generates nothing.
 */
export async function compareCheckpoints(project: Project, input: CompareOptions, hooks: CompareHooks = {}): Promise<CompareReport> {
  const o = compareOptionsSchema.parse(input);
  if (o.judge === 'human') return compareByHumanVotes(project, o);
  const rmId = o.judge === 'rm' ? (o.rm ?? latestRewardCheckpoint(project)) : null;
  if (o.judge === 'rm' && rmId === null) throw new Error('no reward model in this project: train one, or pass --judge gold|human');
  if (o.judge === 'gold' && !hooks.gold) throw new Error('the gold judge is a rubric its caller brings (the demo project has one): pass it as hooks.gold');

  if (hooks.prompts && o.store_responses) throw new Error('responses to prompts outside the project cannot be stored: pass store_responses: false');
  let prompts: { id: number; text: string }[] = hooks.prompts ?? [...project.prompts.iterate()].filter((p) => p.split === o.split);
  if (prompts.length === 0) throw new Error(`the project has no ${o.split} prompts`);
  if (o.n !== undefined && o.n < prompts.length) {
    prompts = new Rng(o.seed).fork('compare-prompts').shuffle(prompts).slice(0, o.n).sort((x, y) => x.id - y.id);
  }
  const judge = rmId !== null ? rewardModelJudge(project, rmId) : textJudge('gold', hooks.gold!);
  // Each checkpoint's answers by prompt index: a's come first, then b's.
  const answers = new Map<number, { text: string; score: number; kl: number | null; tokens: number }[]>([
    [o.a, []],
    [o.b, []],
  ]);
  try {
    await runComparison(
      project,
      {
        // A checkpoint against itself is answered twice with the same seeds: identical responses.
        checkpoints: o.a === o.b ? [o.a] : [o.a, o.b],
        prompts,
        sampling: { temperature: o.temperature, top_p: 1, max_new_tokens: o.max_new_tokens, seed: o.seed, best_of_n: 1, batch_prompts: o.batch_size },
        judges: [judge],
        store: o.store_responses,
      },
      {
        onBatch: (b) => {
          b.texts.forEach((text, k) => {
            answers.get(b.checkpoint)![b.start + k] = { text, score: b.scores[0]![k]!, kl: b.kl[k] ?? null, tokens: b.tokens[k]!.length };
          });
        },
        progress: (done, total) => hooks.progress?.(done, total, 'responses'),
        signal: hooks.signal,
      },
    );
  } finally {
    judge.dispose();
  }
  const A = answers.get(o.a)!;
  const B = o.a === o.b ? A : answers.get(o.b)!;
  let klSum = 0;
  let klTokens = 0;
  const rows: CompareRow[] = prompts.map((p, i) => {
    const a = A[i]!;
    const b = B[i]!;
    // b's KL to a: zero when b is a itself.
    const kl = o.a === o.b ? (b.tokens ? 0 : null) : b.kl;
    if (kl !== null) {
      klSum += kl;
      klTokens += b.tokens;
    }
    return {
      prompt_id: p.id,
      prompt: p.text,
      a: a.text,
      b: b.text,
      score_a: a.score,
      score_b: b.score,
      outcome: outcomeOfScores(a.score, b.score),
      kl_b: kl !== null && b.tokens > 0 ? kl / b.tokens : null,
    };
  });
  const stats = winRate(
    rows.map((r) => r.outcome),
    new Rng(o.seed).fork('bootstrap'),
    { resamples: o.resamples },
  );
  return {
    ...stats,
    judge: o.judge,
    a: o.a,
    b: o.b,
    split: o.split,
    rm_checkpoint: rmId,
    seed: o.seed,
    mean_kl_b: klTokens ? klSum / klTokens : null,
    mean_score_a: mean(rows.map((r) => r.score_a!)),
    mean_score_b: mean(rows.map((r) => r.score_b!)),
    mean_len_a: mean(rows.map((r) => words(r.a))) ?? 0,
    mean_len_b: mean(rows.map((r) => words(r.b))) ?? 0,
    rows,
  };
}

/** By blind human votes stored between the two checkpoints (judges.ts): no generation, no KL. */
function compareByHumanVotes(project: Project, o: z.output<typeof compareOptionsSchema>): CompareReport {
  const verdicts = humanVerdicts(project, o.split, o.a, o.b);
  if (verdicts.length === 0) {
    throw new Error(`no blind votes between checkpoints ${o.a} and ${o.b} on ${o.split} prompts yet: vote in Compare first`);
  }
  const rows: CompareRow[] = verdicts.map((v) => ({ ...v, score_a: null, score_b: null, kl_b: null }));
  const stats = winRate(
    rows.map((r) => r.outcome),
    new Rng(o.seed).fork('bootstrap'),
    { resamples: o.resamples },
  );
  return {
    ...stats,
    judge: 'human',
    a: o.a,
    b: o.b,
    split: o.split,
    rm_checkpoint: null,
    seed: o.seed,
    mean_kl_b: null,
    mean_score_a: null,
    mean_score_b: null,
    mean_len_a: mean(rows.map((r) => words(r.a))) ?? 0,
    mean_len_b: mean(rows.map((r) => words(r.b))) ?? 0,
    rows,
  };
}

// Who decides which of two responses to a prompt is better. A comparison (pipeline.ts) is handed
// its judge; it knows none by name. Two kinds:
// - a scoring judge gives every generated response a number, higher better: the reward model
//   (a checkpoint), or a rubric over the texts (the demo's gold rubric, brought by its caller);
// - the human judge generates nothing: it counts the blind votes stored in the project.
import { loadRewardModel, type LoadedRewardModel } from '../engine/io/reward-io.js';
import type { Project } from '../store/project.js';
import type { PairOutcome, VoteOutcome } from '../shared/vocabulary.js';

/** The judges a comparison report names (`compare --judge`): the reward model, the gold rubric, blind human votes. */
export const judgeNames = ['rm', 'gold', 'human'] as const;
export type JudgeName = (typeof judgeNames)[number];

/** One batch of generated responses to score, as token ids and as text. */
export interface ResponsesToScore {
  prompts: { id: number; text: string }[];
  promptTokens: number[][];
  responseTokens: number[][];
  texts: string[];
  padId: number;
}

export interface ScoringJudge {
  kind: 'score';
  name: Exclude<JudgeName, 'human'>;
  /** The reward-model checkpoint judging, or null for a rubric. */
  checkpoint: number | null;
  /** One score per response, higher better. */
  score(batch: ResponsesToScore): number[];
  dispose(): void;
}

/** The reward model of a checkpoint as a judge; `loaded` is kept for best-of-N sampling by it. */
export interface RewardModelJudge extends ScoringJudge {
  name: 'rm';
  checkpoint: number;
  loaded: LoadedRewardModel;
}

export function rewardModelJudge(project: Project, checkpoint: number): RewardModelJudge {
  const loaded = loadRewardModel(project, checkpoint);
  return {
    kind: 'score',
    name: 'rm',
    checkpoint,
    loaded,
    score: (b) => loaded.model.score(b.promptTokens, b.responseTokens, b.padId),
    dispose: () => loaded.dispose(),
  };
}

/** A judge that scores the texts alone (prompt, response) → number, e.g. a rubric. */
export function textJudge(name: 'gold', scoreText: (prompt: string, response: string) => number): ScoringJudge {
  return {
    kind: 'score',
    name,
    checkpoint: null,
    score: (b) => b.prompts.map((p, k) => scoreText(p.text, b.texts[k]!)),
    dispose: () => {},
  };
}

/** The outcome of b against a from their two scores: equal within rounding is a tie. */
export function outcomeOfScores(scoreA: number, scoreB: number): PairOutcome {
  const d = scoreB - scoreA;
  return Math.abs(d) < 1e-9 ? 'tie' : d > 0 ? 'b' : 'a';
}

/** A human vote as a verdict: "both bad" counts as a tie, as Chatbot Arena counts it. */
export function humanOutcome(vote: VoteOutcome): PairOutcome {
  return vote === 'both_bad' ? 'tie' : vote;
}

/** One stored blind vote between checkpoints a and b, seen from b's side. */
export interface HumanVerdict {
  prompt_id: number;
  prompt: string;
  /** The texts of checkpoint a and b, whichever side each was shown on. */
  a: string;
  b: string;
  outcome: PairOutcome;
}

interface VoteRow {
  prompt_id: number;
  prompt: string;
  outcome: VoteOutcome;
  text_a: string;
  text_b: string;
  ckpt_a: number | null;
}

/**
 * The human judge: blind votes stored in the project between responses of checkpoints a and b on
 * the split's prompts (either order on screen).
 */
export function humanVerdicts(project: Project, split: 'train' | 'eval', a: number, b: number): HumanVerdict[] {
  const votes = project.db
    .prepare<[string, number, number, number, number], VoteRow>(
      `SELECT m.prompt_id, p.text AS prompt, m.outcome, ra.text AS text_a, rb.text AS text_b, ra.checkpoint_id AS ckpt_a
       FROM comparisons m JOIN prompts p ON p.id = m.prompt_id
       JOIN responses ra ON ra.id = m.response_a JOIN responses rb ON rb.id = m.response_b
       WHERE p.split = ? AND ((ra.checkpoint_id = ? AND rb.checkpoint_id = ?) OR (ra.checkpoint_id = ? AND rb.checkpoint_id = ?))
       ORDER BY m.id`,
    )
    .all(split, a, b, b, a);
  return votes.map((v) => {
    const flipped = v.ckpt_a === b; // the screen's "A" was checkpoint b
    const seen = humanOutcome(v.outcome);
    const outcome: PairOutcome = seen === 'tie' || !flipped ? seen : seen === 'a' ? 'b' : 'a';
    return { prompt_id: v.prompt_id, prompt: v.prompt, a: flipped ? v.text_b : v.text_a, b: flipped ? v.text_a : v.text_b, outcome };
  });
}

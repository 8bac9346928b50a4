// Preference votes read from a project for reward-model and DPO training: submitted rankings
// (each a set of ordered pairs, ties give none) and A/B comparisons with a winner ("tie" and
// "both bad" give none), with the prompt and response texts they refer to. Held-out prompts are
// the project's `eval` split, or a seeded share of the voted prompts when none is marked.
import { pairFromComparison, pairsFromRanking, type Vote } from './rlhf-math.js';
import { Rng } from '../rng.js';
import type { Split, VoteOutcome } from '../../shared/vocabulary.js';

export interface PreferenceData {
  votes: Vote[];
  prompts: Map<number, { text: string; split: Split }>;
  responses: Map<number, string>;
}

export interface PreferenceOptions {
  /** Also learn from Compare's blind votes (off by default: they judge the models being evaluated). */
  includeCompareVotes: boolean;
  /** Margin per ranking tier beyond the first: a pair k tiers apart gets (k − 1) × this. */
  marginPerTierGap: number;
}

/** The project's votes as training reads them; the store's PreferencesRepo (store/preferences.ts) is one. */
export interface PreferenceVotes {
  /** Submitted rankings in order, each as response ids best first (ids in one inner list are tied). */
  submittedRankings(): Iterable<{ prompt_id: number; annotator_id: number; ranking: number[][] }>;
  /** A/B votes in order: Label's, and with `includeCompare` also Compare's blind votes. */
  comparisonVotes(includeCompare: boolean): Iterable<{ prompt_id: number; annotator_id: number; response_a: number; response_b: number; outcome: VoteOutcome }>;
  promptOf(id: number): { text: string; split: 'train' | 'eval' };
  responseTextOf(id: number): string;
}

export function loadPreferenceData(source: PreferenceVotes, opts: PreferenceOptions): PreferenceData {
  const votes: Vote[] = [];
  for (const r of source.submittedRankings()) {
    for (const p of pairsFromRanking(r.ranking)) {
      const vote: Vote = { prompt_id: r.prompt_id, chosen: p.chosen, rejected: p.rejected, annotator_id: r.annotator_id };
      if (opts.marginPerTierGap > 0) vote.margin = opts.marginPerTierGap * (p.gap - 1);
      votes.push(vote);
    }
  }
  for (const c of source.comparisonVotes(opts.includeCompareVotes)) {
    const pair = pairFromComparison(c.response_a, c.response_b, c.outcome);
    if (pair) votes.push({ prompt_id: c.prompt_id, chosen: pair[0], rejected: pair[1], annotator_id: c.annotator_id });
  }

  const prompts = new Map<number, { text: string; split: Split }>();
  const responses = new Map<number, string>();
  for (const v of votes) {
    if (!prompts.has(v.prompt_id)) prompts.set(v.prompt_id, source.promptOf(v.prompt_id));
    for (const id of [v.chosen, v.rejected]) if (!responses.has(id)) responses.set(id, source.responseTextOf(id));
  }
  return { votes, prompts, responses };
}

/**
 * Train/eval split by prompt, so no held-out prompt's responses are seen in training: the
 * prompts' own split when any voted prompt is marked `eval`, else `evalFraction` of them at random.
 */
export function splitByPrompt(
  data: PreferenceData,
  evalFraction: number,
  seed: number,
): { train: Vote[]; eval: Vote[]; evalPrompts: Set<number> } {
  const voted = [...new Set(data.votes.map((v) => v.prompt_id))];
  let evalPrompts = new Set(voted.filter((id) => data.prompts.get(id)!.split === 'eval'));
  if (evalPrompts.size === 0 && evalFraction > 0 && voted.length > 1) {
    const shuffled = new Rng(seed).shuffle(voted.slice().sort((a, b) => a - b));
    const n = Math.min(voted.length - 1, Math.max(1, Math.round(voted.length * evalFraction)));
    evalPrompts = new Set(shuffled.slice(0, n));
  }
  return {
    train: data.votes.filter((v) => !evalPrompts.has(v.prompt_id)),
    eval: data.votes.filter((v) => evalPrompts.has(v.prompt_id)),
    evalPrompts,
  };
}

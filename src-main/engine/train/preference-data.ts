// Preference votes read from a project for reward-model and DPO training: submitted rankings
// (each a set of ordered pairs, ties give none) and A/B comparisons with a winner ("tie" and
// "both bad" give none), with the prompt and response texts they refer to. Held-out prompts are
// the project's `eval` split, or a seeded share of the voted prompts when none is marked.
import type { DB } from '../../store/db.js';
import { pairFromComparison, pairsFromRanking, type Vote } from './rlhf-math.js';
import { Rng } from '../rng.js';
import type { VoteOutcome } from '../../shared/vocabulary.js';

export interface PreferenceData {
  votes: Vote[];
  prompts: Map<number, { text: string; split: 'train' | 'eval' }>;
  responses: Map<number, string>;
}

export interface PreferenceOptions {
  /** Also learn from Compare's blind votes (off by default: they judge the models being evaluated). */
  includeCompareVotes: boolean;
  /** Margin per ranking tier beyond the first: a pair k tiers apart gets (k − 1) × this. */
  marginPerTierGap: number;
}

export function loadPreferenceData(db: DB, opts: PreferenceOptions): PreferenceData {
  const votes: Vote[] = [];
  const rankings = db
    .prepare<[], { prompt_id: number; annotator_id: number; ranking: string }>(
      "SELECT prompt_id, annotator_id, ranking FROM rankings WHERE status = 'submitted' ORDER BY id",
    )
    .all();
  for (const r of rankings) {
    for (const p of pairsFromRanking(JSON.parse(r.ranking) as number[][])) {
      const vote: Vote = { prompt_id: r.prompt_id, chosen: p.chosen, rejected: p.rejected, annotator_id: r.annotator_id };
      if (opts.marginPerTierGap > 0) vote.margin = opts.marginPerTierGap * (p.gap - 1);
      votes.push(vote);
    }
  }
  const comparisons = db
    .prepare<[string], { prompt_id: number; annotator_id: number; response_a: number; response_b: number; outcome: VoteOutcome }>(
      `SELECT prompt_id, annotator_id, response_a, response_b, outcome FROM comparisons
       WHERE context = 'label' OR ? = 'all' ORDER BY id`,
    )
    .all(opts.includeCompareVotes ? 'all' : 'label');
  for (const c of comparisons) {
    const pair = pairFromComparison(c.response_a, c.response_b, c.outcome);
    if (pair) votes.push({ prompt_id: c.prompt_id, chosen: pair[0], rejected: pair[1], annotator_id: c.annotator_id });
  }

  const prompts = new Map<number, { text: string; split: 'train' | 'eval' }>();
  const responses = new Map<number, string>();
  const promptStmt = db.prepare<[number], { text: string; split: 'train' | 'eval' }>('SELECT text, split FROM prompts WHERE id = ?');
  const responseStmt = db.prepare<[number], { text: string }>('SELECT text FROM responses WHERE id = ?');
  for (const v of votes) {
    if (!prompts.has(v.prompt_id)) prompts.set(v.prompt_id, promptStmt.get(v.prompt_id)!);
    for (const id of [v.chosen, v.rejected]) if (!responses.has(id)) responses.set(id, responseStmt.get(id)!.text);
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

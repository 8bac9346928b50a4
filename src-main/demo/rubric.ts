// The demo's labeling rubric (resources/demo/GUIDELINES.md) as a scoring function, the simulated
// annotators who apply it with human-like noise, and the noiseless gold judge. The RLHF policy never
// sees any of this: it only sees the reward model learned from the simulated annotators' rankings.
import {
  EMPATHY_PATTERN, INVENTED_PATTERN, OFF_TOPIC_PATTERN, OFFER_PATTERN, RUDE_PATTERN, TOPICS, topicOf, type Topic,
} from './domain.js';
import type { Rng } from '../engine/rng.js';
import type { PairOutcome, VoteOutcome } from '../shared/vocabulary.js';

/** Points per criterion; GUIDELINES.md states the same numbers in words. */
export const RUBRIC_WEIGHTS = {
  /** A step that fixes the customer's actual problem: what matters most. */
  actionFits: 1.5,
  /** A step for some other problem (and none for this one). */
  actionWrong: -0.5,
  empathy: 0.6,
  offer: 0.5,
  rude: -2,
  offTopic: -1,
  invented: -1.5,
  /** Each sentence said twice. */
  repeated: -0.5,
  /** Each word of a phrase (3+ words) said again within one sentence ("happy to help, happy to help"). */
  perWordRepeatedPhrase: -0.1,
  /** Each sentence that says nothing the guidelines recognise (garbled or filler), at most 4. */
  unclear: -0.25,
  /** Fewer than 3 words. */
  tooShort: -0.5,
  /** Each word beyond 40. */
  perWordTooLong: -0.1,
} as const;

export interface RubricScore {
  total: number;
  topic: Topic | null;
  action: 'fits' | 'wrong' | 'none';
  empathy: boolean;
  offer: boolean;
  rude: boolean;
  offTopic: boolean;
  invented: boolean;
  repeated: number;
  /** Words that repeat a phrase of 3+ words said earlier in the same sentence. */
  repeatedPhraseWords: number;
  unclear: number;
  words: number;
}

function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Length of the phrases whose repetition within a sentence counts. */
const PHRASE_WORDS = 3;

/**
 * Words of a sentence that lie in a 3-word phrase already said earlier in it, so a reply cannot
 * pass the sentence check by running its repetitions together with commas. Hand-written: a set of
 * the word trigrams seen so far is all it needs.
 */
function repeatedPhraseWords(sentence: string): number {
  const words = sentence.toLowerCase().replace(/[^a-z' ]/g, ' ').split(/\s+/).filter(Boolean);
  const seen = new Set<string>();
  const repeated = new Set<number>();
  for (let i = 0; i + PHRASE_WORDS <= words.length; i++) {
    const gram = words.slice(i, i + PHRASE_WORDS).join(' ');
    // Only phrases that ended before this one started: "no no no" is not a phrase said twice.
    if (seen.has(gram)) for (let k = i; k < i + PHRASE_WORDS; k++) repeated.add(k);
    if (i >= PHRASE_WORDS - 1) seen.add(words.slice(i - PHRASE_WORDS + 1, i + 1).join(' '));
  }
  return repeated.size;
}

/** Order numbers and amounts the reply states that the customer never mentioned. */
function inventsNumbers(prompt: string, response: string): boolean {
  const numbers = response.match(/[#$]\d+(\.\d+)?/g) ?? [];
  return numbers.some((n) => !prompt.includes(n));
}

export function scoreResponse(prompt: string, response: string): RubricScore {
  const W = RUBRIC_WEIGHTS;
  const topic = topicOf(prompt);
  const fits = topic !== null && TOPICS.some((t) => t.topic === topic && t.actionPattern.test(response));
  const other = TOPICS.some((t) => t.topic !== topic && t.actionPattern.test(response));
  const action = fits ? 'fits' : other ? 'wrong' : 'none';
  const empathy = EMPATHY_PATTERN.test(response);
  const offer = OFFER_PATTERN.test(response);
  const rude = RUDE_PATTERN.test(response);
  const offTopic = OFF_TOPIC_PATTERN.test(response);
  const invented = INVENTED_PATTERN.test(response) || inventsNumbers(prompt, response);

  const parts = sentences(response);
  const normalised = parts.map((s) => s.toLowerCase().replace(/[^a-z ]/g, ''));
  const repeated = normalised.length - new Set(normalised).size;
  const phraseWords = parts.reduce((n, s) => n + repeatedPhraseWords(s), 0);
  const recognised = [
    EMPATHY_PATTERN, OFFER_PATTERN, RUDE_PATTERN, OFF_TOPIC_PATTERN, INVENTED_PATTERN, ...TOPICS.map((t) => t.actionPattern),
  ];
  const unclear = Math.min(4, parts.filter((s) => !recognised.some((p) => p.test(s))).length);
  const words = response.split(/\s+/).filter(Boolean).length;

  let total = 0;
  if (action === 'fits') total += W.actionFits;
  if (action === 'wrong') total += W.actionWrong;
  if (empathy) total += W.empathy;
  if (offer) total += W.offer;
  if (rude) total += W.rude;
  if (offTopic) total += W.offTopic;
  if (invented) total += W.invented;
  total += repeated * W.repeated + phraseWords * W.perWordRepeatedPhrase + unclear * W.unclear;
  if (words < 3) total += W.tooShort;
  if (words > 40) total += (words - 40) * W.perWordTooLong;
  return { total, topic, action, empathy, offer, rude, offTopic, invented, repeated, repeatedPhraseWords: phraseWords, unclear, words };
}

// ---------- the gold judge ----------

/** The noiseless rubric: what `compare --judge gold` and the demo report use. */
export function goldScore(prompt: string, response: string): number {
  return scoreResponse(prompt, response).total;
}

/** Which of two replies the rubric prefers; equal scores are a tie. */
export function goldCompare(prompt: string, a: string, b: string): PairOutcome {
  const d = goldScore(prompt, b) - goldScore(prompt, a);
  return Math.abs(d) < 1e-9 ? 'tie' : d > 0 ? 'b' : 'a';
}

// ---------- simulated annotators ----------

export interface AnnotatorProfile {
  name: string;
  colour: string;
  /** Std-dev of the Gaussian noise added to each reply's rubric score before ranking. */
  noise: number;
  /** Perceived scores closer than this are ranked as a tie. */
  tieMargin: number;
  /** How much more (or less) this person weighs kindness (empathy and the offer of help). */
  kindness: number;
}

/** The demo project's annotators; they are stored with `simulated = 1` and shown as simulated. */
export const DEMO_ANNOTATORS: AnnotatorProfile[] = [
  { name: 'Ana (simulated)', colour: '#e0679a', noise: 0.2, tieMargin: 0.4, kindness: 1.2 },
  { name: 'Ben (simulated)', colour: '#4f9d69', noise: 0.3, tieMargin: 0.45, kindness: 1.0 },
  { name: 'Chen (simulated)', colour: '#d49a2a', noise: 0.25, tieMargin: 0.4, kindness: 0.9 },
];

export class SimulatedAnnotator {
  constructor(
    readonly profile: AnnotatorProfile,
    private readonly rng: Rng,
  ) {}

  /** The score this person perceives: the rubric with their own emphasis, plus noise. */
  perceive(prompt: string, response: string): number {
    const s = scoreResponse(prompt, response);
    const kind = (s.empathy ? RUBRIC_WEIGHTS.empathy : 0) + (s.offer ? RUBRIC_WEIGHTS.offer : 0);
    return s.total + (this.profile.kindness - 1) * kind + this.profile.noise * this.rng.normal();
  }

  /**
   * Ranks K replies best first, as groups of indices: `[[2], [0, 3], [1]]` means reply 2 is best
   * and replies 0 and 3 are tied. Neighbours closer than the tie margin share a group.
   */
  rank(prompt: string, responses: string[]): number[][] {
    const scored = responses.map((r, i) => ({ i, s: this.perceive(prompt, r) })).sort((x, y) => y.s - x.s);
    const groups: number[][] = [];
    let last = Infinity;
    for (const { i, s } of scored) {
      if (groups.length && last - s < this.profile.tieMargin) groups[groups.length - 1]!.push(i);
      else groups.push([i]);
      last = s;
    }
    return groups;
  }

  /** A blind A/B vote with Chatbot Arena's four outcomes. */
  vote(prompt: string, a: string, b: string): VoteOutcome {
    const sa = this.perceive(prompt, a);
    const sb = this.perceive(prompt, b);
    if (sa < 0 && sb < 0) return 'both_bad';
    if (Math.abs(sa - sb) < this.profile.tieMargin) return 'tie';
    return sb > sa ? 'b' : 'a';
  }
}

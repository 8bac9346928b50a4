// Seeded generator of the demo corpus: customer messages (the prompt splits), replies across the
// whole quality range (the pretraining text), and SFT demonstrations in which curt replies are the
// norm — so the SFT model is curt and RLHF has visible room to improve it.
import {
  CITIES, CLOSINGS, EMPATHY, GREETINGS, INVENTED, NAMES, OFF_TOPIC, OFFER_HELP, PLANS, PRODUCTS, RUDE,
  TOPICS, WEEKDAYS, topicSpec, type Topic,
} from './domain.js';
import type { Rng } from '../engine/rng.js';


export type ReplyKind =
  | 'full' // empathy + fitting step + offer of further help: the guidelines' ideal
  | 'empathy_action'
  | 'action_offer'
  | 'action' // the step, said politely, nothing else
  | 'curt' // the step, as curtly as possible
  | 'empathy_only' // kind words and an offer, but no step
  | 'wrong_action' // a step that fits some other problem
  | 'rude'
  | 'off_topic'
  | 'invented';

export const REPLY_KINDS: ReplyKind[] = [
  'full', 'empathy_action', 'action_offer', 'action', 'curt', 'empathy_only', 'wrong_action', 'rude', 'off_topic', 'invented',
];

export interface DemoPrompt {
  text: string;
  topic: Topic;
}
export interface DemoPair {
  prompt: string;
  completion: string;
  kind: ReplyKind;
}

/** What SFT demonstrators wrote: mostly correct but curt (as in many real support logs). */
export const SFT_KIND_WEIGHTS: Record<ReplyKind, number> = {
  curt: 0.5,
  action: 0.2,
  empathy_action: 0.08,
  action_offer: 0.08,
  full: 0.06,
  empathy_only: 0.02,
  wrong_action: 0.02,
  rude: 0.02,
  off_topic: 0.01,
  invented: 0.01,
};
/** The pretraining text covers every kind of reply, so every behaviour exists in the base model. */
export const PRETRAIN_KIND_WEIGHTS: Record<ReplyKind, number> = {
  curt: 0.14,
  action: 0.12,
  empathy_action: 0.1,
  action_offer: 0.1,
  full: 0.14,
  empathy_only: 0.08,
  wrong_action: 0.08,
  rude: 0.08,
  off_topic: 0.08,
  invented: 0.08,
};

export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng.next() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

function pickWeighted<K extends string>(rng: Rng, weights: Record<K, number>): K {
  const entries = Object.entries(weights) as [K, number][];
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let r = rng.next() * total;
  for (const [k, w] of entries) {
    r -= w;
    if (r < 0) return k;
  }
  return entries[entries.length - 1]![0];
}

/** Fills {slot}s; each slot is drawn once per text so a message stays consistent. */
function fill(rng: Rng, template: string, slots: Record<string, string> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    slots[name] ??= drawSlot(rng, name);
    return slots[name]!;
  });
}

function drawSlot(rng: Rng, name: string): string {
  switch (name) {
    case 'product':
      return pick(rng, PRODUCTS);
    case 'order':
      return `#${10000 + Math.floor(rng.next() * 90000)}`;
    case 'days':
      return String(2 + Math.floor(rng.next() * 13));
    case 'amount':
      return `${5 + Math.floor(rng.next() * 195)}.${pick(rng, ['00', '49', '99', '95'])}`;
    case 'city':
      return pick(rng, CITIES);
    case 'plan':
      return pick(rng, PLANS);
    case 'weekday':
      return pick(rng, WEEKDAYS);
    default:
      throw new Error(`unknown slot {${name}}`);
  }
}

/** One customer message: greeting, the problem, maybe a closing and a name. */
export function customerMessage(rng: Rng, topic: Topic): DemoPrompt {
  const spec = topicSpec(topic);
  const greeting = pick(rng, GREETINGS);
  let body = fill(rng, pick(rng, spec.messages));
  // "Hi, my order…" but "Hi, I forgot…": a greeting with a comma runs into the sentence.
  if (greeting && !/^I\b/.test(body)) body = body[0]!.toLowerCase() + body.slice(1);
  const parts = [greeting, body, pick(rng, CLOSINGS)];
  const r = rng.next();
  if (r < 0.2) parts.push(`- ${pick(rng, NAMES)}`);
  else if (r < 0.3) parts.unshift(`${pick(rng, NAMES)} here.`);
  return { text: parts.filter(Boolean).join(' '), topic };
}

/** One reply of the given kind to a message about `topic`. */
export function reply(rng: Rng, topic: Topic, kind: ReplyKind): string {
  const spec = topicSpec(topic);
  const action = () => pick(rng, spec.actions);
  const empathy = () => pick(rng, EMPATHY);
  const offer = () => pick(rng, OFFER_HELP);
  switch (kind) {
    case 'full':
      return [empathy(), action(), offer()].join(' ');
    case 'empathy_action':
      return [empathy(), action()].join(' ');
    case 'action_offer':
      return [action(), offer()].join(' ');
    case 'action':
      return action();
    case 'curt':
      return pick(rng, spec.curt);
    case 'empathy_only':
      return [empathy(), offer()].join(' ');
    case 'wrong_action': {
      const other = pick(rng, TOPICS.filter((t) => t.topic !== topic));
      return [empathy(), pick(rng, other.actions)].join(' ');
    }
    case 'rude':
      return rng.next() < 0.5 ? pick(rng, RUDE) : [pick(rng, RUDE), pick(rng, spec.curt)].join(' ');
    case 'off_topic':
      return fill(rng, pick(rng, OFF_TOPIC));
    case 'invented':
      return rng.next() < 0.5 ? fill(rng, pick(rng, INVENTED)) : [empathy(), fill(rng, pick(rng, INVENTED))].join(' ');
  }
}

export interface DemoCorpus {
  train: DemoPrompt[];
  eval: DemoPrompt[];
  /**
   * Prompts for choosing the demo's settings (β, lr, steps): unique across every other split and
   * the pretraining text, and never stored in the project, so nothing trains on them and the
   * reported eval split is never looked at while choosing.
   */
  validation: DemoPrompt[];
  /** Demonstrations on the training prompts (curt replies common). */
  sft: DemoPair[];
  /** Text for pretraining the base model: prompts with replies of every kind. */
  pretrain: DemoPair[];
}

export interface CorpusOptions {
  trainPrompts?: number;
  evalPrompts?: number;
  sftExamples?: number;
  pretrainTexts?: number;
  validationPrompts?: number;
}

/**
 * The whole corpus. Prompts are unique across both splits; the eval split uses the same
 * topics but different combinations of names, products and phrasings, so passing it needs
 * generalisation. The pretraining text is drawn from fresh messages, never the eval prompts.
 */
export function buildCorpus(rng: Rng, opts: CorpusOptions = {}): DemoCorpus {
  const nTrain = opts.trainPrompts ?? 1200;
  const nEval = opts.evalPrompts ?? 300;
  const seen = new Set<string>();
  const draw = (n: number): DemoPrompt[] => {
    const out: DemoPrompt[] = [];
    for (let tries = 0; out.length < n && tries < n * 50; tries++) {
      const p = customerMessage(rng, TOPICS[out.length % TOPICS.length]!.topic);
      if (seen.has(p.text)) continue;
      seen.add(p.text);
      out.push(p);
    }
    return out;
  };
  const evalPrompts = draw(nEval);
  const train = draw(nTrain);
  const sft: DemoPair[] = [];
  for (let i = 0; i < (opts.sftExamples ?? nTrain); i++) {
    const p = train[i % train.length]!;
    const kind = pickWeighted(rng, SFT_KIND_WEIGHTS);
    sft.push({ prompt: p.text, completion: reply(rng, p.topic, kind), kind });
  }
  const evalTexts = new Set(evalPrompts.map((e) => e.text));
  const pretrain: DemoPair[] = [];
  for (let i = 0; i < (opts.pretrainTexts ?? 8000); i++) {
    let p = customerMessage(rng, pick(rng, TOPICS).topic);
    while (evalTexts.has(p.text)) p = customerMessage(rng, pick(rng, TOPICS).topic);
    const kind = pickWeighted(rng, PRETRAIN_KIND_WEIGHTS);
    pretrain.push({ prompt: p.text, completion: reply(rng, p.topic, kind), kind });
  }
  // Drawn last, so the other splits (and the demo base project built from them) stay as they were.
  for (const p of pretrain) seen.add(p.prompt);
  const validation = draw(opts.validationPrompts ?? 300);
  return { train, eval: evalPrompts, validation, sft, pretrain };
}

// Raw records → what the store holds, one function per import kind. Preferences arrive as TRL
// explicit ({prompt, chosen, rejected}, strings or message lists) or implicit ({chosen, rejected}
// sharing a prompt prefix, including Anthropic HH-RLHF transcripts split at the last
// "\n\nAssistant:"). Throws DataError naming the file, line and field.
import type { z } from 'zod';
import type { SftRecord } from '../shared/records.js';
import { DataError } from './errors.js';
import type { RawRecord } from './readers.js';
import {
  describeIssues,
  explicitPreferenceRecord,
  implicitPreferenceRecord,
  promptRecord,
  rankingRecord,
  sftCompletionRecord,
  sftMessagesRecord,
  sftTextRecord,
  type Message,
  type TextOrMessages,
} from './schemas.js';
import type { Split } from '../shared/vocabulary.js';


export interface PromptImport {
  prompt: string;
  split?: Split;
}
export interface SftImport {
  record: SftRecord;
  split?: Split;
}
export interface PreferenceImport {
  prompt: string;
  /** The prompt as a message list when the record was conversational (exported back that way). */
  promptMessages?: Message[];
  chosen: string;
  rejected: string;
  split?: Split;
}
export interface RankingImport {
  prompt: string;
  split?: Split;
  responses: string[];
  /** Indices into `responses`, best group first; one group holds tied responses. */
  groups: number[][];
  annotator?: string;
  flags?: string[];
  comment?: string;
  seconds?: number;
}

export const HH_ASSISTANT = '\n\nAssistant:';

function fail(file: string, rec: RawRecord, detail: string): never {
  throw new DataError(file, rec.line, detail);
}

function objectOf(file: string, rec: RawRecord): Record<string, unknown> {
  const v = rec.value;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    fail(file, rec, `expected a JSON object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  }
  return rec.format === 'csv' ? fromCsv(v as Record<string, string>) : (v as Record<string, unknown>);
}

/**
 * CSV cells are strings: a cell holding a JSON list (messages, responses, ranking, flags) is
 * read as that list, a number-like `seconds` as a number, and empty cells as absent.
 */
function fromCsv(row: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, cell] of Object.entries(row)) {
    if (cell === '') continue;
    let v: unknown = cell;
    const t = cell.trim();
    if (t.startsWith('[')) {
      try {
        v = JSON.parse(t) as unknown;
      } catch {
        v = cell;
      }
    } else if (k === 'seconds' && t !== '' && Number.isFinite(Number(t))) v = Number(t);
    out[k] = v;
  }
  return out;
}

function check<S extends z.ZodType>(schema: S, file: string, rec: RawRecord, obj: unknown): z.output<S> {
  const r = schema.safeParse(obj);
  if (!r.success) fail(file, rec, describeIssues(r.error, obj));
  return r.data;
}

export function toPrompt(file: string, rec: RawRecord): PromptImport {
  const obj = objectOf(file, rec);
  // `text` is accepted as another name for the prompt.
  const r = check(promptRecord, file, rec, 'prompt' in obj || !('text' in obj) ? obj : { ...obj, prompt: obj.text });
  return { prompt: r.prompt, split: r.split };
}

export function toSft(file: string, rec: RawRecord): SftImport {
  const obj = objectOf(file, rec);
  if ('messages' in obj) {
    const r = check(sftMessagesRecord, file, rec, obj);
    return { record: { kind: 'messages', messages: r.messages }, split: r.split };
  }
  if ('text' in obj && !('prompt' in obj)) {
    const r = check(sftTextRecord, file, rec, obj);
    return { record: { kind: 'text', text: r.text }, split: r.split };
  }
  if (!('prompt' in obj) && !('completion' in obj)) {
    fail(file, rec, 'expected "prompt" and "completion", or "messages", or "text"');
  }
  const r = check(sftCompletionRecord, file, rec, obj);
  return { record: { kind: 'completion', prompt: r.prompt, completion: r.completion }, split: r.split };
}

/** A conversation as one prompt text: a lone user message is its content, else an HH-style transcript. */
export function promptText(messages: Message[]): string {
  if (messages.length === 1 && messages[0]!.role === 'user') return messages[0]!.content;
  const speaker = (role: string) => (role === 'user' ? 'Human' : role === 'assistant' ? 'Assistant' : role[0]!.toUpperCase() + role.slice(1));
  return messages.map((m) => `\n\n${speaker(m.role)}: ${m.content}`).join('') + HH_ASSISTANT;
}

function responseText(file: string, rec: RawRecord, field: string, v: TextOrMessages): string {
  if (typeof v === 'string') return v;
  if (v.length !== 1) fail(file, rec, `"${field}" must hold exactly one message (the response), got ${v.length}`);
  return v[0]!.content;
}

function sameMessage(a: Message, b: Message): boolean {
  return a.role === b.role && a.content === b.content;
}

export function toPreference(file: string, rec: RawRecord): PreferenceImport {
  const obj = objectOf(file, rec);
  let out: PreferenceImport;
  let split: Split | undefined;
  if ('prompt' in obj) {
    const r = check(explicitPreferenceRecord, file, rec, obj);
    split = r.split;
    const chosen = responseText(file, rec, 'chosen', r.chosen);
    const rejected = responseText(file, rec, 'rejected', r.rejected);
    if (typeof r.prompt === 'string') {
      if (r.prompt === '') fail(file, rec, '"prompt" must not be empty');
      out = { prompt: r.prompt, chosen, rejected };
    } else out = { prompt: promptText(r.prompt), promptMessages: r.prompt, chosen, rejected };
  } else {
    const r = check(implicitPreferenceRecord, file, rec, obj);
    split = r.split;
    out = implicit(file, rec, r.chosen, r.rejected);
  }
  if (out.chosen === out.rejected) fail(file, rec, '"rejected" is the same response as "chosen"');
  return { ...out, split };
}

function implicit(file: string, rec: RawRecord, chosen: TextOrMessages, rejected: TextOrMessages): PreferenceImport {
  if (typeof chosen === 'string' && typeof rejected === 'string') {
    const cut = chosen.lastIndexOf(HH_ASSISTANT);
    if (cut !== -1) {
      // Anthropic HH-RLHF: the prompt is the transcript up to the last "\n\nAssistant:".
      const prompt = chosen.slice(0, cut + HH_ASSISTANT.length);
      if (rejected.lastIndexOf(HH_ASSISTANT) !== cut || !rejected.startsWith(prompt)) {
        fail(file, rec, '"rejected" does not continue the same conversation as "chosen" (up to the last "\\n\\nAssistant:")');
      }
      return { prompt, chosen: chosen.slice(prompt.length), rejected: rejected.slice(prompt.length) };
    }
    // The longest shared prefix, giving a space that starts both responses to the responses (as TRL does).
    let i = 0;
    while (i < chosen.length && i < rejected.length && chosen[i] === rejected[i]) i++;
    if (i > 0 && chosen[i - 1] === ' ' && i < Math.max(chosen.length, rejected.length)) i--;
    if (i === 0) fail(file, rec, '"chosen" and "rejected" share no prompt (no "prompt" field and no common beginning)');
    return { prompt: chosen.slice(0, i), chosen: chosen.slice(i), rejected: rejected.slice(i) };
  }
  if (Array.isArray(chosen) && Array.isArray(rejected)) {
    let i = 0;
    while (i < chosen.length && i < rejected.length && sameMessage(chosen[i]!, rejected[i]!)) i++;
    if (i === 0) fail(file, rec, '"chosen" and "rejected" share no prompt messages');
    if (chosen.length !== i + 1) fail(file, rec, `"chosen" must end with exactly one response message after the shared prompt`);
    if (rejected.length !== i + 1) fail(file, rec, `"rejected" must end with exactly one response message after the shared prompt`);
    const promptMessages = chosen.slice(0, i);
    return { prompt: promptText(promptMessages), promptMessages, chosen: chosen[i]!.content, rejected: rejected[i]!.content };
  }
  fail(file, rec, '"chosen" and "rejected" must both be strings or both be message lists');
}

export function toRanking(file: string, rec: RawRecord): RankingImport {
  const obj = objectOf(file, rec);
  const r = check(rankingRecord, file, rec, obj);
  const ranks = [...new Set(r.ranking)].sort((a, b) => a - b);
  const groups = ranks.map((rank) => r.ranking.flatMap((x, i) => (x === rank ? [i] : [])));
  return { prompt: r.prompt, responses: r.responses, groups, annotator: r.annotator, flags: r.flags, comment: r.comment, seconds: r.seconds, split: r.split };
}

// zod schemas for every record format of docs/algorithms.md "Dataset formats", and the one-line
// message a failed record gets: `"chosen" is missing`, `"ranking[2]" must be an integer ≥ 1`.
import { z } from 'zod';
import { splits } from '../shared/vocabulary.js';

// A JSON "\ud800" escape without its pair is not Unicode text: SQLite would store mangled bytes.
const wellFormed = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed();
const text = z
  .string({ error: 'must be a string' })
  .refine(wellFormed, { error: 'holds an unpaired surrogate escape (\\ud800-\\udfff): not valid Unicode' });
const nonEmpty = text.min(1, { error: 'must not be empty' });

export const messageSchema = z.object(
  { role: nonEmpty, content: text },
  { error: 'must be a {"role", "content"} object' },
);
const messages = z
  .array(messageSchema, { error: 'must be a list of {"role", "content"} messages' })
  .min(1, { error: 'must hold at least one message' });
const textOrMessages = z.union([text, messages], { error: 'must be a string or a list of {"role", "content"} messages' });
const split = z.enum(splits, { error: 'must be "train" or "eval"' });

export type Message = z.infer<typeof messageSchema>;
export type TextOrMessages = z.infer<typeof textOrMessages>;

// Unknown fields are ignored (stripped): real datasets carry ids, scores and sources.
export const promptRecord = z.object({ prompt: nonEmpty, split: split.optional() });

export const sftCompletionRecord = z.object({ prompt: text, completion: text, split: split.optional() });
export const sftMessagesRecord = z.object({ messages, split: split.optional() });
export const sftTextRecord = z.object({ text: nonEmpty, split: split.optional() });

// `split` puts the pair's prompt in train or eval, as for prompt imports: held-out pairs stay out of reward-model training.
export const explicitPreferenceRecord = z.object({ prompt: textOrMessages, chosen: textOrMessages, rejected: textOrMessages, split: split.optional() });
export const implicitPreferenceRecord = z.object({ chosen: textOrMessages, rejected: textOrMessages, split: split.optional() });

export const MAX_RANKED = 64;
export const rankingRecord = z
  .object({
    prompt: nonEmpty,
    responses: z
      .array(text, { error: 'must be a list of strings' })
      .min(2, { error: 'must hold at least 2 responses' })
      .max(MAX_RANKED, { error: `must hold at most ${MAX_RANKED} responses` }),
    ranking: z.array(z.number({ error: 'must be a number' }).int({ error: 'must be an integer ≥ 1' }).min(1, { error: 'must be an integer ≥ 1' }), {
      error: 'must be a list of ranks (1 = best)',
    }),
    annotator: nonEmpty.max(100, { error: 'must be at most 100 characters' }).optional(),
    flags: z.array(text, { error: 'must be a list of strings' }).optional(),
    comment: text.optional(),
    seconds: z.number({ error: 'must be a number' }).min(0, { error: 'must be ≥ 0' }).optional(),
    split: split.optional(),
  })
  .superRefine((r, ctx) => {
    if (r.ranking.length !== r.responses.length) {
      ctx.addIssue({ code: 'custom', path: ['ranking'], message: `must give one rank per response (${r.responses.length}), got ${r.ranking.length}` });
    }
    const seen = new Map<string, number>();
    r.responses.forEach((t, i) => {
      const j = seen.get(t);
      if (j !== undefined) ctx.addIssue({ code: 'custom', path: ['responses', i], message: `repeats "responses[${j}]"` });
      seen.set(t, i);
    });
  });

/** `prompt[0].content` from a zod path. */
function fieldName(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let v = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

type Issue = z.core.$ZodIssue;

/** The most telling issue of a union: the branch that got past the top-level type check. */
function deepest(issue: Issue): { issue: Issue; prefix: PropertyKey[] } {
  if (issue.code === 'invalid_union') {
    for (const branch of issue.errors) {
      const inner = branch[0];
      if (inner && inner.path.length > 0) {
        const d = deepest(inner);
        return { issue: d.issue, prefix: [...issue.path, ...d.prefix] };
      }
    }
  }
  return { issue, prefix: issue.path };
}

/** One message for the first problem of a record. */
export function describeIssues(error: z.ZodError, input: unknown): string {
  const { issue, prefix } = deepest(error.issues[0]!);
  const path = issue === error.issues[0] ? issue.path : prefix;
  if (path.length === 0) return issue.message;
  const name = `"${fieldName(path)}"`;
  if (valueAt(input, path) === undefined) return `${name} is missing`;
  return `${name} ${issue.message}`;
}

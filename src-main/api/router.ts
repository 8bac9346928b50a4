// Validates and dispatches one API call; shared by the IPC and HTTP bindings so both
// transports behave identically. Handlers throw; the router turns that into a Result.
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { waitingForWriteLock } from '../store/write-priority.js';
import { UserError } from '../shared/errors.js';
import { methods, type ApiError, type MethodName, type Output, type ParsedInput, type Result } from '../shared/contract.js';

export type Handler<M extends MethodName, Ctx> = (input: ParsedInput<M>, ctx: Ctx) => Promise<Output<M>> | Output<M>;
export type Handlers<Ctx> = { [M in MethodName]: Handler<M, Ctx> };

export function isMethod(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, name);
}

/** 4000 → "4,000": limits read as people write them. */
const num = (x: unknown) => (typeof x === 'number' || typeof x === 'bigint' ? Number(x).toLocaleString('en-US') : String(x));

/** "prompts.texts.2" → "prompts › texts › item 3"; "max_tokens" → "max tokens". */
function fieldName(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'the input';
  return path.map((p) => (typeof p === 'number' ? `item ${p + 1}` : String(p).replaceAll('_', ' '))).join(' › ');
}

/** One validation problem in words: what is wrong and what is allowed. */
function describeIssue(i: z.core.$ZodIssue): string {
  const issue = i as z.core.$ZodIssue & { origin?: string; maximum?: unknown; minimum?: unknown; inclusive?: boolean; expected?: string; values?: unknown[]; keys?: string[] };
  switch (issue.code) {
    case 'too_big':
      if (issue.origin === 'string') return `too long: at most ${num(issue.maximum)} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `too many: at most ${num(issue.maximum)} items`;
      return issue.inclusive === false ? `too large: must be below ${num(issue.maximum)}` : `too large: at most ${num(issue.maximum)}`;
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? 'must not be empty' : `too short: at least ${num(issue.minimum)} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `needs at least ${num(issue.minimum)} item${Number(issue.minimum) === 1 ? '' : 's'}`;
      return issue.inclusive === false ? `too small: must be above ${num(issue.minimum)}` : `too small: at least ${num(issue.minimum)}`;
    case 'invalid_type': {
      const what = issue.expected === 'int' ? 'a whole number' : issue.expected === 'object' ? 'an object' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`;
      if (/received undefined/.test(issue.message)) return `missing: give ${what}`;
      if (/received null/.test(issue.message)) return `empty: give ${what}`;
      return `must be ${what}`;
    }
    case 'invalid_value':
      return `must be one of ${(issue.values ?? []).map(String).join(', ')}`;
    case 'unrecognized_keys':
      return `unknown field${(issue.keys ?? []).length === 1 ? '' : 's'} ${(issue.keys ?? []).join(', ')}`;
    default:
      return issue.message;
  }
}

/** Validation problems as a person reads them: "temperature: too small: at least 0; prompts › texts › item 3: too long: at most 4,000 characters". */
export function formatZodError(err: z.ZodError): string {
  return err.issues.map((i) => `${fieldName(i.path)}: ${describeIssue(i)}`).join('; ');
}

export async function dispatch<Ctx>(
  handlers: Partial<Handlers<Ctx>>,
  name: string,
  rawInput: unknown,
  ctx: Ctx,
): Promise<Result<unknown>> {
  if (!isMethod(name)) return fail({ code: 'unknown_method', message: `Unknown API method "${name}".` });
  const malformed = illFormedString(rawInput);
  if (malformed !== null) {
    return fail({ code: 'invalid_input', message: `${name}: ${malformed || 'input'}: contains an unpaired UTF-16 surrogate (not valid Unicode text)` });
  }
  const parsed = methods[name].input.safeParse(rawInput ?? {});
  if (!parsed.success) {
    // Scripts see which call it was; the app shows the part after "<method>: " (lib/api.ts).
    return fail({ code: 'invalid_input', message: `${name}: ${formatZodError(parsed.error)}` });
  }
  const handler = handlers[name] as Handler<MethodName, Ctx> | undefined;
  if (!handler) return fail({ code: 'not_available', message: `"${name}" is not available in this build.` });
  const started = Date.now();
  let waiting: (() => void) | null = null;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        return { ok: true, value: await handler(parsed.data as never, ctx) };
      } catch (e) {
        // Another connection (an import's batch, a training step) holds the write lock. The app's
        // own connection does not wait for it synchronously (busy_timeout 0, see Services), which
        // would freeze the event loop: the call is retried a few milliseconds later instead. A
        // handler's writes run in transactions that take the lock first (BEGIN IMMEDIATE, see
        // store/db.ts), so a busy transaction has written nothing.
        if (isBusy(e) && Date.now() - started < BUSY_RETRY_MS) {
          // Tells an import in this process to let us through before its next batch.
          waiting ??= waitingForWriteLock();
          await sleep(Math.min(1 + attempt, 5));
          continue;
        }
        return failure(e);
      }
    }
  } finally {
    waiting?.();
  }
}

/** How long a call keeps retrying while the project's write lock is taken. */
const BUSY_RETRY_MS = 15_000;

function isBusy(e: unknown): boolean {
  return String((e as { code?: unknown }).code ?? '').startsWith('SQLITE_BUSY');
}

function failure(e: unknown): Result<never> {
  if (isBusy(e)) return fail({ code: 'busy', message: 'The project stayed busy (another process is writing to it); try again.' });
  if (e instanceof UserError) return fail({ code: e.code, message: e.message, details: e.details });
  // A project opened read-only (its file or folder is) refuses every change with SQLite's code.
  if (String((e as { code?: unknown }).code ?? '').startsWith('SQLITE_READONLY')) {
    return fail({ code: 'read_only', message: 'This project is open read-only (its file or folder cannot be written); copy it somewhere writable to edit it.' });
  }
  const message = e instanceof Error ? e.message : String(e);
  return fail({ code: 'internal', message });
}

/** In a `u` regex a paired surrogate is one code point, so \p{Cs} matches only the unpaired ones. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * The path of the first string (value or key) in `input` holding an unpaired UTF-16 surrogate, or
 * null. Such a string cannot be stored as UTF-8 (SQLite would keep U+FFFD instead), so it is
 * refused as the file import refuses invalid UTF-8. Iterative: JSON may nest deeper than the stack.
 */
export function illFormedString(input: unknown): string | null {
  const stack: [unknown, string][] = [[input, '']];
  while (stack.length) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) return path;
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => stack.push([v, `${path}[${i}]`]));
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        const at = path ? `${path}.${k}` : k;
        if (LONE_SURROGATE.test(k)) return at;
        stack.push([v, at]);
      }
    }
  }
  return null;
}

function fail(error: ApiError): Result<never> {
  return { ok: false, error };
}

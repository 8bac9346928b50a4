// Records from JSONL, JSON array and CSV files, each with the line it starts on, streamed with
// bounded memory (one record at a time).
import { parse as parseCsv, CsvError } from 'csv-parse';
import { Readable } from 'node:stream';
import { DataError } from './errors.js';
import { readText, type Source, type TextPiece } from './text-source.js';

export type FileFormat = 'jsonl' | 'json' | 'csv';

export interface RawRecord {
  line: number;
  value: unknown;
  /** Bytes of the file read so far (progress). */
  bytes: number;
  format: FileFormat;
}

/** The largest single record accepted (a JSONL line, a JSON array element). */
export const MAX_RECORD_CHARS = 64 * 1024 * 1024;

export function formatFromName(name: string): FileFormat | null {
  const lower = name.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.csv')) return 'csv';
  return null;
}

export async function* readRecords(source: Source): AsyncGenerator<RawRecord> {
  const pieces = readText(source);
  const first = await pieces.next();
  if (first.done) throw new DataError(source.name, null, 'the file is empty');
  const all = prepend(first.value, pieces);
  const byName = formatFromName(source.name);
  const head = first.value.text.trimStart()[0];
  // A .json file may hold JSON Lines, so its first character decides; so it does for unknown names.
  const format: FileFormat =
    byName === 'csv' || byName === 'jsonl' ? byName : head === '[' ? 'json' : head === '{' || byName ? 'jsonl' : 'csv';
  // A .json file holding one pretty-printed object reads as JSON Lines and fails on line 1: say why.
  const hint = byName === 'json' ? ' — a .json file must hold a JSON array of records, or one record per line' : '';
  if (format === 'jsonl') yield* jsonLines(source.name, all, hint);
  else if (format === 'json') yield* jsonArray(source.name, all);
  else yield* csvRecords(source.name, all);
}

async function* prepend(first: TextPiece, rest: AsyncGenerator<TextPiece>): AsyncGenerator<TextPiece> {
  yield first;
  yield* rest;
}

function parseJson(file: string, line: number, text: string, hint = ''): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new DataError(file, line, `invalid JSON (${e instanceof Error ? e.message : String(e)})${hint}`);
  }
}

async function* jsonLines(file: string, pieces: AsyncGenerator<TextPiece>, hint = ''): AsyncGenerator<RawRecord> {
  let carry = '';
  let carryLine = 1;
  for await (const piece of pieces) {
    let text = carry + piece.text;
    let line = carry ? carryLine : piece.line;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const value = jsonLine(file, line, text.slice(start, nl), hint);
      if (value !== undefined) yield { line, value, bytes: piece.bytes, format: 'jsonl' };
      start = nl + 1;
      line++;
    }
    text = text.slice(start);
    if (text.length > MAX_RECORD_CHARS) throw new DataError(file, line, `the line is longer than ${MAX_RECORD_CHARS >> 20} MB`);
    carry = text;
    carryLine = line;
  }
  const value = jsonLine(file, carryLine, carry, hint);
  if (value !== undefined) yield { line: carryLine, value, bytes: 0, format: 'jsonl' };
}

/** One JSONL line's value; undefined for a blank line. */
function jsonLine(file: string, line: number, raw: string, hint: string): unknown {
  const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (text.trim() === '') return undefined;
  return parseJson(file, line, text, hint);
}

// A JSON array is split into its elements by a small scanner (strings, escapes and nesting
// depth), then each element goes to JSON.parse: no installed library streams JSON with line numbers.
async function* jsonArray(file: string, pieces: AsyncGenerator<TextPiece>): AsyncGenerator<RawRecord> {
  type State = 'before' | 'open' | 'comma' | 'container' | 'scalar' | 'after' | 'done';
  let state = 'before' as State;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let parts: string[] = [];
  let partsLength = 0;
  let elementLine = 0;
  let line = 1;
  let bytes = 0;

  const element = (): RawRecord => {
    const text = parts.join('');
    parts = [];
    partsLength = 0;
    return { line: elementLine, value: parseJson(file, elementLine, text), bytes, format: 'json' };
  };

  for await (const piece of pieces) {
    const text = piece.text;
    bytes = piece.bytes;
    line = piece.line;
    let start = 0; // where the current element's text begins in this piece
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (state === 'container' || state === 'scalar') {
        if (inString) {
          if (escaped) escaped = false;
          else if (c === BACKSLASH) escaped = true;
          else if (c === QUOTE) inString = false;
        } else if (c === QUOTE) inString = true;
        else if (state === 'container') {
          if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
          else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
            depth--;
            if (depth === 0) {
              parts.push(text.slice(start, i + 1));
              yield element();
              state = 'after';
            }
          }
        } else if (c === COMMA || c === CLOSE_BRACKET || isSpace(c)) {
          parts.push(text.slice(start, i));
          yield element();
          state = 'after';
          i--; // the comma, bracket or space is read again in state 'after'
          continue;
        }
        if (c === NEWLINE) line++;
        continue;
      }
      if (c === NEWLINE) line++;
      if (isSpace(c)) continue;
      if (state === 'before') {
        if (c !== OPEN_BRACKET) throw new DataError(file, line, 'expected a JSON array ("[") or one JSON object per line');
        state = 'open';
      } else if (state === 'open' || state === 'comma') {
        if (c === CLOSE_BRACKET) {
          if (state === 'comma') throw new DataError(file, line, 'invalid JSON (a comma before "]")');
          state = 'done';
          continue;
        }
        elementLine = line;
        start = i;
        if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          state = 'container';
          depth = 1;
        } else {
          state = 'scalar';
          inString = c === QUOTE;
        }
      } else if (state === 'after') {
        if (c === COMMA) state = 'comma';
        else if (c === CLOSE_BRACKET) state = 'done';
        else throw new DataError(file, line, 'invalid JSON (expected "," or "]" after an array element)');
      } else {
        throw new DataError(file, line, 'unexpected text after the end of the JSON array');
      }
    }
    if (state === 'container' || state === 'scalar') {
      parts.push(text.slice(start));
      partsLength += text.length - start;
      if (partsLength > MAX_RECORD_CHARS) {
        throw new DataError(file, elementLine, `an array element is longer than ${MAX_RECORD_CHARS >> 20} MB`);
      }
    }
  }
  if (state === 'scalar') {
    yield element();
    state = 'after';
  }
  if (state === 'before') throw new DataError(file, null, 'the file holds no JSON');
  if (state !== 'done') throw new DataError(file, line, 'the JSON array is not closed (truncated file?)');
}

const [NEWLINE, QUOTE, COMMA, BACKSLASH] = [10, 34, 44, 92];
const [OPEN_BRACKET, CLOSE_BRACKET, OPEN_BRACE, CLOSE_BRACE] = [91, 93, 123, 125];

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

async function* csvRecords(file: string, pieces: AsyncGenerator<TextPiece>): AsyncGenerator<RawRecord> {
  let bytes = 0;
  // Line endings become "\n" before parsing: csv-parse counts lines inconsistently for "\r\n".
  const input = Readable.from(
    (async function* () {
      let heldCr = '';
      for await (const p of pieces) {
        bytes = p.bytes;
        let text = heldCr + p.text;
        heldCr = text.endsWith('\r') ? '\r' : '';
        if (heldCr) text = text.slice(0, -1);
        yield text.replace(/\r\n/g, '\n');
      }
      if (heldCr) yield heldCr;
    })(),
  );
  const parser = input.pipe(
    parseCsv({ columns: true, skip_empty_lines: true, info: true, raw: true, max_record_size: MAX_RECORD_CHARS }),
  );
  // Surface the reader's errors (invalid UTF-8) through the parser's iterator.
  input.on('error', (e) => parser.destroy(e));
  try {
    for await (const rec of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number }; raw: string }>) {
      // info.lines is the line the record ends on; a quoted field may span lines, and raw also
      // holds the blank lines skipped before the record.
      const spans = (rec.raw.replace(/^\n+/, '').replace(/\n$/, '').match(/\n/g) ?? []).length;
      yield { line: rec.info.lines - spans, value: rec.record, bytes, format: 'csv' };
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    if (e instanceof CsvError) {
      const at = (e as CsvError & { lines?: number }).lines;
      throw new DataError(file, typeof at === 'number' ? at : null, `invalid CSV (${e.message.replace(/ on line \d+/, '')})`);
    }
    throw e;
  }
}

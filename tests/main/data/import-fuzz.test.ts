// Fuzzing imports (issue 10): random bytes, truncated lines, 10 MB single lines, deeply nested
// JSON, invalid UTF-8, unpaired surrogate escapes, wrong types, CSV with mismatched columns. Every case must fail with a
// DataError naming the file (and the line, where one is at fault), leave the project unchanged,
// and leave the process running.
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../../src-main/data/errors.js';
import { importData } from '../../../src-main/data/import.js';
import { Rng } from '../../../src-main/engine/rng.js';
import { tempProject } from '../store/temp-project.js';
import type { ImportKind } from '../../../src-main/shared/vocabulary.js';

interface Case {
  name: string;
  bytes: Buffer;
  kind: ImportKind;
  /** The line the error must name, when the case knows it. */
  line?: number;
  /** A substring the message must contain. */
  contains?: string;
}

const rng = new Rng(20261126);
const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
const KINDS: ImportKind[] = ['prompts', 'sft', 'preferences', 'rankings'];

function validRecord(kind: ImportKind, i: number): Record<string, unknown> {
  switch (kind) {
    case 'prompts':
      return { prompt: `fuzz prompt ${i}` };
    case 'sft':
      return { prompt: `p${i}`, completion: `c${i}` };
    case 'preferences':
      return { prompt: `fuzz q${i}`, chosen: `yes ${i}`, rejected: `no ${i}` };
    case 'rankings':
      return { prompt: `fuzz r${i}`, responses: [`a${i}`, `b${i}`, `c${i}`], ranking: [1, 2, 2] };
  }
}

const validLines = (kind: ImportKind, n: number) => Array.from({ length: n }, (_, i) => JSON.stringify(validRecord(kind, i)));

const generators: Record<string, (k: number) => Case> = {
  randomBytes: (k) => {
    const bytes = Buffer.alloc(1 + rng.int(2000));
    for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
    return { name: `random${k}.${pick(['jsonl', 'json', 'csv', 'txt'])}`, bytes, kind: pick(KINDS) };
  },
  truncatedLine: (k) => {
    const kind = pick(KINDS);
    const lines = validLines(kind, 2 + rng.int(20));
    const at = rng.int(lines.length);
    const line = lines[at]!;
    lines[at] = line.slice(0, 1 + rng.int(line.length - 2)); // cut inside the object
    return { name: `trunc${k}.jsonl`, bytes: Buffer.from(lines.join('\n')), kind, line: at + 1, contains: 'invalid JSON' };
  },
  truncatedArray: (k) => {
    const kind = pick(KINDS);
    const text = `[\n${validLines(kind, 3 + rng.int(10)).join(',\n')}\n]`;
    return { name: `arr${k}.json`, bytes: Buffer.from(text.slice(0, 2 + rng.int(text.length - 3))), kind };
  },
  invalidUtf8: (k) => {
    const kind = pick(KINDS);
    const lines = validLines(kind, 2 + rng.int(30));
    const at = rng.int(lines.length);
    const bad = pick([[0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf8, 0x88, 0x80, 0x80, 0x80]]);
    const parts = lines.map((l, i) => (i === at ? Buffer.concat([Buffer.from(l.slice(0, -2)), Buffer.from(bad), Buffer.from(l.slice(-2))]) : Buffer.from(l)));
    const bytes = Buffer.concat(parts.flatMap((p, i) => (i ? [Buffer.from('\n'), p] : [p])));
    return { name: `utf8-${k}.jsonl`, bytes, kind, line: at + 1, contains: 'invalid UTF-8' };
  },
  wrongType: (k) => {
    const kind = pick(KINDS);
    const lines = validLines(kind, 1 + rng.int(20));
    const at = rng.int(lines.length);
    const rec = JSON.parse(lines[at]!) as Record<string, unknown>;
    const field = pick(Object.keys(rec));
    rec[field] = pick([42, null, true, { nested: 'object' }, Array.isArray(rec[field]) ? 'not a list' : [1, 2]]);
    lines[at] = JSON.stringify(rec);
    return { name: `types${k}.jsonl`, bytes: Buffer.from(lines.join('\n')), kind, line: at + 1, contains: `"${field}` };
  },
  notAnObject: (k) => {
    const kind = pick(KINDS);
    const lines = validLines(kind, 1 + rng.int(10));
    const at = rng.int(lines.length);
    lines[at] = pick(['42', '"text"', 'null', 'true', '[]']);
    if (at === 0 && lines[0] === '[]') lines[0] = '7'; // "[" first would make it a JSON array file
    return { name: `scalar${k}.jsonl`, bytes: Buffer.from(lines.join('\n')), kind, line: at + 1, contains: 'expected a JSON object' };
  },
  deepNesting: (k) => {
    const depth = 1000 + rng.int(100000);
    const nested = '['.repeat(depth) + ']'.repeat(depth);
    const kind = pick(KINDS);
    const field = kind === 'prompts' ? 'prompt' : kind === 'sft' ? 'messages' : 'prompt';
    const lines = validLines(kind, 3);
    lines[1] = `{"${field}": ${nested}}`;
    return { name: `deep${k}.jsonl`, bytes: Buffer.from(lines.join('\n')), kind, line: 2 };
  },
  csvColumns: (k) => {
    const rows = Array.from({ length: 3 + rng.int(20) }, (_, i) => `"fuzz q${i}","yes ${i}","no ${i}"`);
    const at = rng.int(rows.length);
    rows[at] = pick([`"only one"`, `"a","b"`, `"a","b","c","d"`]);
    return { name: `cols${k}.csv`, bytes: Buffer.from(['prompt,chosen,rejected', ...rows].join(pick(['\n', '\r\n']))), kind: 'preferences', line: at + 2, contains: 'Invalid Record Length' };
  },
  unpairedSurrogate: (k) => {
    const kind = pick(KINDS);
    const lines = validLines(kind, 1 + rng.int(20));
    const at = rng.int(lines.length);
    lines[at] = lines[at]!.replace(/fuzz /, pick(['\\ud800 ', '\\udfff ', 'x\\udbff ']));
    const field = kind === 'sft' ? null : 'prompt';
    if (kind === 'sft') lines[at] = JSON.stringify({ prompt: 'p', completion: 'c' }).replace('"c"', '"c\\udc00"');
    return { name: `surrogate${k}.jsonl`, bytes: Buffer.from(lines.join('\n')), kind, line: at + 1, contains: `"${field ?? 'completion'}" holds an unpaired surrogate` };
  },
  csvMissingColumn: (k) => {
    const rows = Array.from({ length: 2 + rng.int(10) }, (_, i) => `q${i},yes ${i}`);
    return { name: `nocol${k}.csv`, bytes: Buffer.from(['prompt,chosen', ...rows].join('\n')), kind: 'preferences', line: 2, contains: '"rejected" is missing' };
  },
};

function hugeLine(k: number): Case {
  // A 10 MB single line: a valid-looking record whose required field is absent or whose JSON is cut.
  const big = 'x'.repeat(10 * 1024 * 1024);
  const text = k % 2 ? `{"prompt": "${big}", "chosen": "a"}` : `{"prompt": "q", "chosen": "${big}", "rejected": "b`;
  return { name: `huge${k}.jsonl`, bytes: Buffer.from(`{"prompt":"ok","chosen":"a","rejected":"b"}\n${text}\n`), kind: 'preferences', line: 2 };
}

const ran: Record<string, number> = {};
const sample: Record<string, string> = {};
afterAll(() => {
  const total = Object.values(ran).reduce((a, b) => a + b, 0);
  console.log(`import fuzz: ${total} cases (${Object.entries(ran).map(([k, n]) => `${k} ${n}`).join(', ')})`);
  for (const [gen, message] of Object.entries(sample)) console.log(`  e.g. ${gen}: ${message.slice(0, 160)}`);
});

describe('import fuzz', () => {
  it('rejects every bad file with a clear error naming it, and changes nothing', async () => {
    const project = tempProject();
    // Some data first, so "unchanged" is a real check.
    await importData(project, { name: 'seed.jsonl', bytes: Buffer.from(validLines('preferences', 5).join('\n')) }, 'preferences');
    const snapshot = () =>
      JSON.stringify([project.stats.counts(), project.db.prepare('SELECT max(id) AS m FROM responses').get(), project.db.prepare('SELECT count(*) AS n FROM sft_examples').get()]);
    const before = snapshot();

    const cases: [string, Case][] = [];
    const names = Object.keys(generators);
    for (let k = 0; k < 400; k++) {
      const g = names[k % names.length]!;
      cases.push([g, generators[g]!(k)]);
    }
    for (let k = 0; k < 2; k++) cases.push(['hugeLine', hugeLine(k)]);

    for (const [gen, c] of cases) {
      let error: unknown = null;
      try {
        await importData(project, { name: c.name, bytes: c.bytes }, c.kind);
      } catch (e) {
        error = e;
      }
      const label = `${gen} ${c.name}`;
      expect(error, label).toBeInstanceOf(DataError);
      const message = (error as DataError).message;
      expect(message.startsWith(`${c.name}:`), `${label}: ${message}`).toBe(true);
      expect(message.length, label).toBeLessThan(400);
      if (c.line !== undefined) expect((error as DataError).line, `${label}: ${message}`).toBe(c.line);
      if (c.contains) expect(message, label).toContain(c.contains);
      expect(project.db.inTransaction, label).toBe(false);
      ran[gen] = (ran[gen] ?? 0) + 1;
      sample[gen] ??= message;
    }
    expect(snapshot()).toBe(before);
    expect(project.db.pragma('integrity_check', { simple: true })).toBe('ok');
    project.close();
  });
});

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords } from '../../../src-main/data/readers.js';
import type { Source } from '../../../src-main/data/text-source.js';
import { tempDir } from '../store/temp-project.js';

async function read(source: Source): Promise<[number, unknown][]> {
  const out: [number, unknown][] = [];
  for await (const r of readRecords(source)) out.push([r.line, r.value]);
  return out;
}
const text = (name: string, t: string): Source => ({ name, bytes: Buffer.from(t) });

describe('readers', () => {
  it('split a JSON array into elements with the line each starts on, strings with brackets included', async () => {
    const arr = '[\n {"a": "x,]}\\"["},\n\n {"b": [1, {"c": 2}]} ,\n 5, "s"\n]\n';
    expect(await read(text('a.json', arr))).toEqual([
      [2, { a: 'x,]}"[' }],
      [4, { b: [1, { c: 2 }] }],
      [5, 5],
      [5, 's'],
    ]);
  });

  it('stream a one-line JSON array larger than a read chunk, multi-byte characters across chunk edges', async () => {
    const records = Array.from({ length: 5000 }, (_, i) => ({ prompt: `p${i} ${'é✓'.repeat(100)}` }));
    const out = await read(text('big.json', JSON.stringify(records)));
    expect(out).toHaveLength(5000);
    expect(out[4999]).toEqual([1, records[4999]]);
  });

  it('say what a .json file should hold when it is one pretty-printed object', async () => {
    await expect(read(text('one.json', '{\n  "prompt": "x"\n}\n'))).rejects.toThrow(
      /^one\.json:1: invalid JSON \(.*\) — a \.json file must hold a JSON array of records, or one record per line$/,
    );
  });

  it('refuse unreadable paths and text after the array, naming the file', async () => {
    const dir = join(tempDir(), 'a-directory.jsonl');
    mkdirSync(dir);
    await expect(read({ name: dir, path: dir })).rejects.toThrow(`${dir}: cannot read the file (EISDIR)`);
    await expect(read(text('t.json', '[{"a":1}]\n{"b":2}'))).rejects.toThrow('t.json:2: unexpected text after the end of the JSON array');
    await expect(read(text('t.json', '[{"a":1} {"b":2}]'))).rejects.toThrow('t.json:1: invalid JSON (expected "," or "]" after an array element)');
  });

  it('give CSV records the line they start on, across quoted newlines and blank lines', async () => {
    const csv = 'prompt,chosen\r\n"two\r\nlines",x\r\n\r\nnext,y\r\n';
    expect(await read(text('c.csv', csv))).toEqual([
      [2, { prompt: 'two\nlines', chosen: 'x' }],
      [5, { prompt: 'next', chosen: 'y' }],
    ]);
  });
});

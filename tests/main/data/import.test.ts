import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportRecords, exportText, exportToFile } from '../../../src-main/data/export.js';
import { importData, type ImportKind } from '../../../src-main/data/import.js';
import { JobCancelled } from '../../../src-main/shared/errors.js';
import type { Project } from '../../../src-main/store/project.js';
import { tempDir, tempProject } from '../store/temp-project.js';

const jsonl = (...records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

function importString(project: Project, name: string, text: string | Buffer, kind: ImportKind, split?: 'train' | 'eval') {
  return importData(project, { name, bytes: typeof text === 'string' ? Buffer.from(text) : text }, kind, { split });
}

async function failure(project: Project, name: string, text: string | Buffer, kind: ImportKind): Promise<string> {
  const before = JSON.stringify(project.stats.counts());
  try {
    await importString(project, name, text, kind);
  } catch (e) {
    expect(JSON.stringify(project.stats.counts())).toBe(before);
    return (e as Error).message;
  }
  throw new Error('the import should have failed');
}

describe('import', () => {
  it('reads TRL explicit preferences and counts imported records', async () => {
    const p = tempProject();
    const text = jsonl({ prompt: 'What is 2+2?', chosen: '4', rejected: '5' }, { prompt: 'Capital of France?', chosen: 'Paris', rejected: 'Lyon', id: 'extra fields are ignored' });
    expect(await importString(p, 'prefs.jsonl', text, 'preferences')).toEqual({ imported: 2, skipped: 0 });
    expect(p.stats.counts()).toMatchObject({ prompts: 2, responses: 4, rankings: 2, pairs: 2, annotators: 1 });
    expect(p.annotators.list().map((a) => a.name)).toEqual(['import']);
    expect(p.preferences.pairsPage({ offset: 0, limit: 5 }).rows[1]).toMatchObject({ prompt: 'Capital of France?', chosen: 'Paris', rejected: 'Lyon', annotator: 'import' });
    p.close();
  });

  it('rejects the whole file on one bad record, naming file, line and field', async () => {
    const p = tempProject();
    const text = jsonl({ prompt: 'a', chosen: 'b', rejected: 'c' }, { prompt: 'd', chosen: 'e', rejected: 'f' }, { prompt: 'g', rejected: 'h' });
    expect(await failure(p, 'data.jsonl', text, 'preferences')).toBe('data.jsonl:3: "chosen" is missing');
    expect(p.stats.counts().prompts).toBe(0);
    expect(await failure(p, 'data.jsonl', jsonl({ prompt: 'a', chosen: 1, rejected: 'x' }), 'preferences')).toBe(
      'data.jsonl:1: "chosen" must be a string or a list of {"role", "content"} messages',
    );
    expect(await failure(p, 'data.jsonl', jsonl({ prompt: [{ role: 'user' }], chosen: 'a', rejected: 'b' }), 'preferences')).toBe(
      'data.jsonl:1: "prompt[0].content" is missing',
    );
    expect(await failure(p, 'd.jsonl', '{"prompt": "a", "chosen": "b", "rejected": "c"}\n{"prompt": "a",\n', 'preferences')).toMatch(
      /^d\.jsonl:2: invalid JSON \(/,
    );
    expect(await failure(p, 'd.jsonl', '[1, 2]\n', 'prompts')).toBe('d.jsonl:1: expected a JSON object, got an array');
    expect(await failure(p, 'r.jsonl', jsonl({ prompt: 'p', responses: ['a', 'b', 'c'], ranking: [1, 2] }), 'rankings')).toBe(
      'r.jsonl:1: "ranking" must give one rank per response (3), got 2',
    );
    expect(await failure(p, 'r.jsonl', jsonl({ prompt: 'p', responses: ['a', 'b'], ranking: [1, 0] }), 'rankings')).toBe(
      'r.jsonl:1: "ranking[1]" must be an integer ≥ 1',
    );
    expect(await failure(p, 's.jsonl', jsonl({ text: 'fine' }, { prompt: 'p' }), 'sft')).toBe('s.jsonl:2: "completion" is missing');
    expect(await failure(p, 's.jsonl', jsonl({ foo: 1 }), 'sft')).toBe('s.jsonl:1: expected "prompt" and "completion", or "messages", or "text"');
    expect(await failure(p, 'u.jsonl', '{"prompt": "ok"}\n{"prompt": "lone \\ud800 half"}\n', 'prompts')).toBe(
      'u.jsonl:2: "prompt" holds an unpaired surrogate escape (\\ud800-\\udfff): not valid Unicode',
    );
    expect(await failure(p, 'x.jsonl', jsonl({ prompt: 'p', chosen: 'same', rejected: 'same' }), 'preferences')).toBe(
      'x.jsonl:1: "rejected" is the same response as "chosen"',
    );
    p.close();
  });

  it('handles empty files, BOM, CRLF, blank lines and invalid UTF-8', async () => {
    const p = tempProject();
    expect(await failure(p, 'empty.jsonl', '', 'prompts')).toBe('empty.jsonl: the file is empty');
    expect(await failure(p, 'blank.jsonl', '\n\n  \n', 'prompts')).toBe('blank.jsonl: the file holds no records');
    expect(await failure(p, 'none.json', '[]', 'prompts')).toBe('none.json: the file holds no records');
    const bad = Buffer.concat([Buffer.from('{"prompt": "ok"}\n{"prompt": "caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]);
    expect(await failure(p, 'latin1.jsonl', bad, 'prompts')).toBe('latin1.jsonl:2: invalid UTF-8 (save the file as UTF-8)');
    const utf16 = Buffer.from('\ufeff{"prompt": "x"}\n', 'utf16le');
    expect(await failure(p, 'u16.jsonl', utf16, 'prompts')).toBe('u16.jsonl:1: the file is UTF-16; save it as UTF-8');
    const withBom = '\ufeff{"prompt": "first"}\r\n\r\n{"prompt": "second"}\r\n{"prompt": "thïrd ✓"}';
    expect(await importString(p, 'bom.jsonl', withBom, 'prompts')).toEqual({ imported: 3, skipped: 0 });
    expect([...p.prompts.iterate()].map((x) => x.text)).toEqual(['first', 'second', 'thïrd ✓']);
    p.close();
  });

  it('skips duplicates, in the file and already in the project', async () => {
    const p = tempProject();
    const rec = { prompt: 'q', chosen: 'a', rejected: 'b' };
    expect(await importString(p, 'a.jsonl', jsonl(rec, rec, { ...rec, rejected: 'c' }), 'preferences')).toEqual({ imported: 2, skipped: 1 });
    expect(await importString(p, 'a.jsonl', jsonl(rec), 'preferences')).toEqual({ imported: 0, skipped: 1 });
    expect(await importString(p, 'p.jsonl', jsonl({ prompt: 'q' }, { prompt: 'new' }), 'prompts')).toEqual({ imported: 1, skipped: 1 });
    expect(await importString(p, 's.jsonl', jsonl({ text: 't' }, { text: 't' }), 'sft')).toEqual({ imported: 1, skipped: 1 });
    expect(p.stats.counts()).toMatchObject({ prompts: 2, rankings: 2, pairs: 2, sft_examples: 1 });
    p.close();
  });

  it('reads JSON arrays (pretty or one line) and CSV with line numbers', async () => {
    const p = tempProject();
    const arr = '[\n  {"prompt": "one", "chosen": "a", "rejected": "b"},\n  {"prompt": "two",\n   "chosen": "c"}\n]';
    expect(await failure(p, 'arr.json', arr, 'preferences')).toBe('arr.json:3: "rejected" is missing');
    expect(await importString(p, 'arr.json', '[{"prompt":"one","chosen":"a","rejected":"b"},{"prompt":"two","chosen":"c","rejected":"d"}]', 'preferences')).toEqual({
      imported: 2,
      skipped: 0,
    });
    const csv = 'prompt,chosen,rejected\r\n"multi\r\nline prompt","yes, ""quoted""",no\r\nthree,x,y\r\nfour,z\r\n';
    expect(await failure(p, 'p.csv', csv, 'preferences')).toMatch(/^p\.csv:5: invalid CSV \(Invalid Record Length: columns length is 3, got 2/);
    expect(await importString(p, 'p.csv', csv.split('\r\nfour')[0]!, 'preferences')).toEqual({ imported: 2, skipped: 0 });
    expect(p.preferences.pairsPage({ search: 'multi', offset: 0, limit: 5 }).rows[0]).toMatchObject({ prompt: 'multi\nline prompt', chosen: 'yes, "quoted"' });
    const rankCsv = 'prompt,responses,ranking,annotator\nq,"[""a"",""b"",""c""]","[2,1,2]",carol\n';
    expect(await importString(p, 'r.csv', rankCsv, 'rankings')).toEqual({ imported: 1, skipped: 0 });
    expect(await failure(p, 'r2.csv', 'prompt,responses,ranking\nq,"[""a"",""b""]",1\n', 'rankings')).toBe('r2.csv:2: "ranking" must be a list of ranks (1 = best)');
    p.close();
  });

  it('splits implicit preferences and HH-RLHF transcripts at the shared prompt', async () => {
    const p = tempProject();
    const hh = {
      chosen: '\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Tell me a joke\n\nAssistant: Why did the chicken cross the road?',
      rejected: '\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Tell me a joke\n\nAssistant: No.',
    };
    const implicit = { chosen: 'The sky is blue because of Rayleigh scattering.', rejected: 'The sky is green.' };
    const messages = {
      chosen: [{ role: 'user', content: 'Name a colour' }, { role: 'assistant', content: 'Blue' }],
      rejected: [{ role: 'user', content: 'Name a colour' }, { role: 'assistant', content: 'Seven' }],
    };
    expect(await importString(p, 'hh.jsonl', jsonl(hh, implicit, messages), 'preferences')).toEqual({ imported: 3, skipped: 0 });
    const rows = p.preferences.pairsPage({ offset: 0, limit: 5 }).rows;
    expect(rows[0]).toMatchObject({
      prompt: '\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Tell me a joke\n\nAssistant:',
      chosen: ' Why did the chicken cross the road?',
      rejected: ' No.',
    });
    expect(rows[1]).toMatchObject({ prompt: 'The sky is', chosen: ' blue because of Rayleigh scattering.', rejected: ' green.' });
    expect(rows[2]).toMatchObject({ prompt: 'Name a colour', chosen: 'Blue', rejected: 'Seven' });
    // HH export gives back the transcripts exactly.
    expect([...exportRecords(p, 'preferences', 'hh')][0]).toEqual(hh);
    const mismatch = { chosen: '\n\nHuman: A\n\nAssistant: x', rejected: '\n\nHuman: B\n\nAssistant: y' };
    expect(await failure(p, 'hh.jsonl', jsonl(mismatch), 'preferences')).toMatch(/^hh\.jsonl:1: "rejected" does not continue the same conversation/);
    expect(await failure(p, 'i.jsonl', jsonl({ chosen: 'abc', rejected: 'xyz' }), 'preferences')).toMatch(/^i\.jsonl:1: "chosen" and "rejected" share no prompt/);
    p.close();
  });

  it('round-trips TRL export → import exactly (strings and conversational)', async () => {
    const p = tempProject();
    const records = [
      { prompt: 'What is 2+2?', chosen: '4', rejected: '5' },
      { prompt: 'Ünïcödé "quotes" and\nnewlines', chosen: ' leading space', rejected: '' },
      { prompt: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], chosen: [{ role: 'assistant', content: 'Hello' }], rejected: [{ role: 'assistant', content: 'Good day to you, my friend' }] },
      { prompt: [{ role: 'user', content: 'Only user' }], chosen: [{ role: 'assistant', content: 'a' }], rejected: [{ role: 'assistant', content: 'b' }] },
    ];
    const text = jsonl(...records);
    await importString(p, 'trl.jsonl', text, 'preferences');
    const exported = exportText(p, 'preferences', 'trl');
    expect(exported.count).toBe(4);
    expect(exported.text).toBe(text);
    // …and the export imports into a fresh project giving the same export again.
    const q = tempProject();
    const file = join(tempDir(), 'out.jsonl');
    exportToFile(p, file, 'preferences');
    expect(await importData(q, { name: file, path: file }, 'preferences')).toEqual({ imported: 4, skipped: 0 });
    expect(exportText(q, 'preferences').text).toBe(text);
    p.close();
    q.close();
  });

  it('imports rankings with ties and exports them back in the same format', async () => {
    const p = tempProject();
    const rec = { prompt: 'Pick one', responses: ['a', 'b', 'c', 'd'], ranking: [2, 1, 3, 1], annotator: 'dana', flags: ['unsafe'], comment: 'close call', seconds: 12.5 };
    expect(await importString(p, 'r.jsonl', jsonl(rec, { prompt: 'P2', responses: ['x', 'y'], ranking: [1, 2] }), 'rankings')).toEqual({ imported: 2, skipped: 0 });
    // 4 responses in groups {b,d} {a} {c}: C(4,2) − 1 tie = 5 pairs, plus 1.
    expect(p.stats.counts()).toMatchObject({ rankings: 2, pairs: 6, annotators: 2 });
    const out = [...exportRecords(p, 'rankings')];
    expect(out[0]).toEqual({ prompt: 'Pick one', responses: ['b', 'd', 'a', 'c'], ranking: [1, 1, 2, 3], annotator: 'dana', flags: ['unsafe'], comment: 'close call', seconds: 12.5 });
    expect(out[1]).toMatchObject({ prompt: 'P2', responses: ['x', 'y'], ranking: [1, 2], annotator: 'import' });
    const q = tempProject();
    expect(await importString(q, 'again.jsonl', jsonl(...out), 'rankings')).toEqual({ imported: 2, skipped: 0 });
    expect([...exportRecords(q, 'rankings')]).toEqual(out);
    p.close();
    q.close();
  });

  it('imports prompts and all three SFT shapes with their splits, and exports them', async () => {
    const p = tempProject();
    await importString(p, 'p.jsonl', jsonl({ prompt: 'a' }, { prompt: 'b', split: 'eval' }, { text: 'c' }), 'prompts', 'train');
    expect([...exportRecords(p, 'prompts')]).toEqual([
      { prompt: 'a', split: 'train' },
      { prompt: 'b', split: 'eval' },
      { prompt: 'c', split: 'train' },
    ]);
    const sft = [
      { prompt: 'Translate: chat', completion: 'cat', split: 'eval' },
      { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }], split: 'train' },
      { text: 'Once upon a time', split: 'train' },
    ];
    expect(await importString(p, 'sft.jsonl', jsonl(...sft), 'sft')).toEqual({ imported: 3, skipped: 0 });
    expect([...exportRecords(p, 'sft')]).toEqual(sft);
    p.close();
  });

  it('exports comparisons with outcome, annotator, flags, comment and seconds', () => {
    const p = tempProject();
    const ann = p.annotators.ensure('erin');
    const prompt = p.prompts.upsert('q').id;
    const a = p.responses.upsert({ promptId: prompt, text: 'A', source: 'human' }).id;
    const b = p.responses.upsert({ promptId: prompt, text: 'B', source: 'human' }).id;
    p.db
      .prepare(
        `INSERT INTO comparisons (uid, prompt_id, response_a, response_b, outcome, annotator_id, context, flags, comment, seconds_spent, created_at)
         VALUES ('c1', ?, ?, ?, 'tie', ?, 'compare', '["unsafe"]', 'both fine', 3.5, 42)`,
      )
      .run(prompt, a, b, ann);
    expect([...exportRecords(p, 'comparisons')]).toEqual([
      { prompt: 'q', response_a: 'A', response_b: 'B', outcome: 'tie', annotator: 'erin', context: 'compare', flags: ['unsafe'], comment: 'both fine', seconds: 3.5, created_at: 42 },
    ]);
    p.close();
  });

  it('stops and rolls back when cancelled', async () => {
    const p = tempProject();
    const file = join(tempDir(), 'many.jsonl');
    writeFileSync(file, Array.from({ length: 20000 }, (_, i) => JSON.stringify({ prompt: `p${i}` })).join('\n'));
    const abort = new AbortController();
    const progress: number[] = [];
    const run = importData(p, { name: file, path: file }, 'prompts', {
      signal: abort.signal,
      onProgress: (x) => progress.push(x.done),
    });
    setImmediate(() => abort.abort());
    await expect(run).rejects.toBeInstanceOf(JobCancelled);
    expect(p.stats.counts().prompts).toBe(0);
    expect(p.db.inTransaction).toBe(false);
    p.close();
  });
});

// Inputs that used to be stored wrong (issue 19): a preference or ranking file's `split` was
// ignored (held-out pairs trained the reward model; "test" and 1e999 were accepted), and strings
// with an unpaired UTF-16 surrogate came in through the API and were stored as U+FFFD.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiContext } from '../../../src-main/api/context.js';
import { handlers } from '../../../src-main/api/handlers/index.js';
import { dispatch } from '../../../src-main/api/router.js';
import { Services } from '../../../src-main/api/services.js';
import { importData } from '../../../src-main/data/import.js';
import { tempDir, tempProject } from '../store/temp-project.js';
import type { ImportKind } from '../../../src-main/shared/vocabulary.js';

const jsonl = (...records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
const importString = (text: string, kind: ImportKind, p = tempProject()) =>
  importData(p, { name: 'f.jsonl', bytes: Buffer.from(text) }, kind).then((r) => ({ r, p }));
const splits = (p: ReturnType<typeof tempProject>) =>
  Object.fromEntries([...p.prompts.iterate()].map((x) => [x.text, x.split]));

describe('split of preference and ranking imports', () => {
  it('puts each pair in the split its record names (explicit, implicit and rankings)', async () => {
    const { p } = await importString(
      jsonl(
        { prompt: 'held out?', chosen: 'yes', rejected: 'no', split: 'eval' },
        { prompt: 'trained on?', chosen: 'yes', rejected: 'no', split: 'train' },
        { prompt: 'no split', chosen: 'a', rejected: 'b' },
      ),
      'preferences',
    );
    expect(splits(p)).toEqual({ 'held out?': 'eval', 'trained on?': 'train', 'no split': 'train' });
    const { p: q } = await importString(jsonl({ prompt: 'ranked', responses: ['x', 'y'], ranking: [1, 2], split: 'eval' }), 'rankings');
    expect(splits(q)).toEqual({ ranked: 'eval' });
    const { p: h } = await importString(jsonl({ chosen: 'Human: hi\n\nAssistant: hello', rejected: 'Human: hi\n\nAssistant: go away', split: 'eval' }), 'preferences');
    expect(Object.values(splits(h))).toEqual(['eval']);
  });

  it('refuses a split other than train or eval, naming line and field, writing nothing', async () => {
    // 1e999 is written raw: JSON.stringify would turn Infinity into null.
    for (const bad of ['"test"', '1e999', 'null', '"EVAL"']) {
      const p = tempProject();
      const text = jsonl({ prompt: 'ok', chosen: 'a', rejected: 'b' }) + `{"prompt": "bad", "chosen": "a", "rejected": "b", "split": ${bad}}\n`;
      await expect(importData(p, { name: 'f.jsonl', bytes: Buffer.from(text) }, 'preferences')).rejects.toThrow(/^f\.jsonl:2: "split" must be "train" or "eval"/);
      expect(p.stats.counts().prompts).toBe(0);
    }
  });
});

describe('unpaired UTF-16 surrogates through the API', () => {
  let services: Services;
  beforeAll(() => {
    services = new Services({ dataDir: join(tempDir(), 'home') });
    services.openProject(join(tempDir(), 'p.rlhf'), { create: true });
  });
  afterAll(() => services.close());
  const ctx = (): ApiContext => ({ app: services, annotatorId: null });

  it('refuses them, naming the field, and stores nothing', async () => {
    for (const name of ['al\ud800ice', '\udc00', 'x\udbff']) {
      const r = await dispatch(handlers, 'annotators.create', { name }, ctx());
      expect(r).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
      expect(!r.ok && r.error.message).toMatch(/^annotators\.create: name: contains an unpaired UTF-16 surrogate/);
    }
    expect(services.project().annotators.list()).toEqual([]);
    // A paired surrogate (an emoji) is ordinary text.
    expect(await dispatch(handlers, 'annotators.create', { name: 'al 😀' }, ctx())).toMatchObject({ ok: true });
  });
});

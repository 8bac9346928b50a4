import { describe, expect, it } from 'vitest';
import { SPECIAL_TOKENS, TextTokenizer } from '../../../src-main/engine/models/tokenizer.js';

const corpus = [
  'The quick brown fox jumps over the lazy dog.',
  'How do I bake bread? Mix flour, water, salt and yeast, then wait.',
  'Explain RLHF in one sentence: a reward model trained on human rankings steers the policy.',
  'Numbers like 12345 and 3.14159 appear too.',
  '  indented\n\ttabs\r\nwindows newlines   trailing   ',
];
const tricky = [
  'héllo wörld — naïve café',
  '日本語のテキストと中文字符',
  'emoji 🤖👍🏽 family 👨‍👩‍👧 flags 🇫🇷',
  '\n\n\nmany\n\nnewlines\n',
  '   leading and trailing spaces   ',
  'tabs\tand\u00a0nbsp and zero\u200bwidth',
  '',
  'mixed: <b>html</b> & "quotes" \'single\' `code` {json: [1,2]}',
];

describe('trained byte-level BPE', () => {
  const texts = Array.from({ length: 40 }, (_, i) => corpus[i % corpus.length]! + ` sample ${i}`);
  const tok = TextTokenizer.train(texts, 512);

  it('round-trips unicode, whitespace, emoji, CJK and newlines exactly', () => {
    for (const t of [...corpus, ...tricky]) expect(tok.decode(tok.encode(t))).toBe(t);
  });

  it('learns merges so common words take fewer tokens than bytes', () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    expect(tok.encode(text).length).toBeLessThan(new TextEncoder().encode(text).length / 2);
    expect(tok.vocabSize).toBeLessThanOrEqual(512);
    expect(tok.vocabSize).toBeGreaterThan(256 + 5);
  });

  it('has EOS, pad and chat role tokens, each a single id', () => {
    expect(tok.encode(SPECIAL_TOKENS.eos)).toEqual([tok.eosId]);
    expect(tok.encode(SPECIAL_TOKENS.pad)).toEqual([tok.padId]);
    expect(tok.padId).not.toBe(tok.eosId);
    expect(tok.roleIds).not.toBeNull();
    expect(tok.encode('<|user|>hi<|assistant|>')).toEqual([tok.roleIds!.user, ...tok.encode('hi'), tok.roleIds!.assistant]);
    expect(tok.decode([tok.eosId, ...tok.encode('x')], { skipSpecial: true })).toBe('x');
  });

  it('is deterministic and survives toJSON/fromJSON', () => {
    const again = TextTokenizer.train(texts, 512);
    expect(again.toJSON()).toBe(tok.toJSON());
    const loaded = TextTokenizer.fromJSON(tok.toJSON());
    for (const t of tricky) expect(loaded.encode(t)).toEqual(tok.encode(t));
  });

  it('rejects a vocabulary size outside 512–8192', () => {
    expect(() => TextTokenizer.train(texts, 100)).toThrow(/512 to 8192/);
    expect(() => TextTokenizer.train(texts, 10000)).toThrow(/512 to 8192/);
  });
});

describe('GPT-2 vocab.json + merges.txt', () => {
  it('builds the equivalent tokenizer and round-trips', () => {
    const trained = TextTokenizer.train(corpus, 600);
    const model = JSON.parse(trained.toJSON()).model as { vocab: Record<string, number>; merges: string[] };
    const mergesTxt = '#version: 0.2\n' + model.merges.join('\n') + '\n';
    const tok = TextTokenizer.fromVocabMerges(JSON.stringify(model.vocab), mergesTxt);
    for (const t of [...corpus, ...tricky]) {
      expect(tok.encode(t)).toEqual(trained.encode(t));
      expect(tok.decode(tok.encode(t))).toBe(t);
    }
    expect(tok.eosId).toBe(trained.eosId);
  });
});

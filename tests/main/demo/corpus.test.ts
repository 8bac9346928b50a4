import { describe, expect, it } from 'vitest';
import { buildCorpus, REPLY_KINDS, reply, type ReplyKind } from '../../../src-main/demo/corpus.js';
import { TOPICS, topicOf } from '../../../src-main/demo/domain.js';
import { goldScore } from '../../../src-main/demo/rubric.js';
import { Rng } from '../../../src-main/engine/rng.js';

const corpus = buildCorpus(new Rng(1), { trainPrompts: 800, evalPrompts: 300, pretrainTexts: 2000 });
const words = (s: string) => s.split(/\s+/).length;

describe('demo corpus', () => {
  it('is the same for the same seed and different for another', () => {
    const a = buildCorpus(new Rng(4), { trainPrompts: 50, evalPrompts: 20, pretrainTexts: 50 });
    const b = buildCorpus(new Rng(4), { trainPrompts: 50, evalPrompts: 20, pretrainTexts: 50 });
    const c = buildCorpus(new Rng(5), { trainPrompts: 50, evalPrompts: 20, pretrainTexts: 50 });
    expect(a).toEqual(b);
    expect(a.train.map((p) => p.text)).not.toEqual(c.train.map((p) => p.text));
  });

  it('has at least 250 held-out prompts, none of them seen in training or pretraining', () => {
    expect(corpus.eval.length).toBeGreaterThanOrEqual(250);
    const evalTexts = new Set(corpus.eval.map((p) => p.text));
    expect(corpus.train.some((p) => evalTexts.has(p.text))).toBe(false);
    expect(corpus.pretrain.some((p) => evalTexts.has(p.prompt))).toBe(false);
    expect(new Set(corpus.train.map((p) => p.text)).size).toBe(corpus.train.length);
  });

  it('covers every topic with varied phrasings, and the rubric reads each prompt`s topic right', () => {
    for (const t of TOPICS) expect(corpus.eval.filter((p) => p.topic === t.topic).length).toBeGreaterThan(25);
    for (const p of [...corpus.train, ...corpus.eval]) expect(topicOf(p.text), p.text).toBe(p.topic);
    const distinctOpenings = new Set(corpus.train.map((p) => p.text.split(' ').slice(0, 4).join(' ')));
    expect(distinctOpenings.size).toBeGreaterThan(200);
  });

  it('keeps texts short enough for a tiny model', () => {
    for (const p of corpus.pretrain) {
      expect(words(p.prompt)).toBeLessThanOrEqual(30);
      expect(words(p.completion)).toBeLessThanOrEqual(36);
    }
  });

  it('makes curt replies the most common SFT demonstration, leaving room for RLHF', () => {
    const counts = new Map<ReplyKind, number>();
    for (const s of corpus.sft) counts.set(s.kind, (counts.get(s.kind) ?? 0) + 1);
    const top = [...counts.entries()].sort((x, y) => y[1] - x[1])[0]![0];
    expect(top).toBe('curt');
    const mean = (kind: ReplyKind | null) => {
      const xs = corpus.sft.filter((s) => kind === null || s.kind === kind).map((s) => goldScore(s.prompt, s.completion));
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    expect(mean('full')).toBeGreaterThan(mean(null) + 0.7);
  });

  it('spans the quality range: ideal > partial > curt > no step > wrong step > off-topic/invented > rude', () => {
    const rng = new Rng(2);
    const avg = (kind: ReplyKind) => {
      let s = 0;
      for (let i = 0; i < 200; i++) {
        const t = TOPICS[i % TOPICS.length]!;
        const prompt = t.messages[0]!.replace(/\{\w+\}/g, 'x');
        s += goldScore(prompt, reply(rng, t.topic, kind));
      }
      return s / 200;
    };
    const m = Object.fromEntries(REPLY_KINDS.map((k) => [k, avg(k)])) as Record<ReplyKind, number>;
    expect(m.full).toBeGreaterThan(m.empathy_action);
    expect(m.empathy_action).toBeGreaterThan(m.curt);
    expect(m.action_offer).toBeGreaterThan(m.curt);
    expect(m.curt).toBeGreaterThan(m.empathy_only);
    expect(m.empathy_only).toBeGreaterThan(m.wrong_action);
    expect(m.wrong_action).toBeGreaterThan(m.off_topic);
    expect(m.off_topic).toBeGreaterThan(m.rude);
    expect(m.invented).toBeLessThan(m.wrong_action);
    expect(m.rude).toBeLessThan(-1);
  });
});

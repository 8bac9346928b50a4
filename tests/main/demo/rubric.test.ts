import { describe, expect, it } from 'vitest';
import { DEMO_ANNOTATORS, goldCompare, scoreResponse, SimulatedAnnotator } from '../../../src-main/demo/rubric.js';
import { Rng } from '../../../src-main/engine/rng.js';
import { buildCorpus } from '../../../src-main/demo/corpus.js';

const PROMPT = 'Hi, my order #48213 still has not arrived. Thanks.';
const CURT = 'Check your tracking number.';
const KIND = "I'm sorry to hear that. Please check your tracking number, and if you need further help, I'm here.";
const RUDE = "That's not my problem.";
const OFF = 'Our summer sale starts next week.';

describe('the rubric', () => {
  it('prefers the empathetic, actionable reply to the curt one, and both to rude or off-topic ones', () => {
    const s = (r: string) => scoreResponse(PROMPT, r).total;
    expect(s(KIND)).toBeGreaterThan(s(CURT));
    expect(s(CURT)).toBeGreaterThan(s(OFF));
    expect(s(OFF)).toBeGreaterThan(s(RUDE));
    expect(scoreResponse(PROMPT, KIND)).toMatchObject({ topic: 'late_order', action: 'fits', empathy: true, offer: true });
  });

  it('checks that the step fits the customer`s problem', () => {
    const pw = 'I forgot my password.';
    expect(scoreResponse(pw, 'Reset your password.').action).toBe('fits');
    expect(scoreResponse(pw, CURT).action).toBe('wrong');
    expect(scoreResponse(pw, 'Reset your password.').total).toBeGreaterThan(scoreResponse(pw, CURT).total);
  });

  it('penalises invented facts, including numbers the customer never gave', () => {
    expect(scoreResponse(PROMPT, 'Your order was delivered yesterday.').invented).toBe(true);
    expect(scoreResponse(PROMPT, 'Order #48213: please check your tracking number.').invented).toBe(false);
    expect(scoreResponse(PROMPT, 'Order #99999: please check your tracking number.').invented).toBe(true);
  });

  it('penalises saying the same thing twice and garbled sentences', () => {
    const once = scoreResponse(PROMPT, "I'm sorry to hear that. Please check your tracking number.").total;
    const twice = scoreResponse(PROMPT, "I'm sorry to hear that. I'm sorry to hear that. Please check your tracking number.").total;
    const garbled = scoreResponse(PROMPT, "I'm sorry to hear that. Please check your tracking number. the the blue at.").total;
    expect(twice).toBeLessThan(once);
    expect(garbled).toBeLessThan(once);
  });

  it('penalises a phrase repeated within one sentence, which the per-sentence check misses', () => {
    const kind = "I'm sorry to hear that. Please check your tracking number, I'm here if you have other questions.";
    const looped = "I'm sorry to hear that. Please check your tracking number, I'm here if you have other questions, I'm here if you have other questions, I'm here if you have other questions.";
    const s = scoreResponse(PROMPT, looped);
    expect(s.repeated).toBe(0); // no sentence is said twice
    expect(s.repeatedPhraseWords).toBe(14);
    expect(s.total).toBeLessThan(scoreResponse(PROMPT, kind).total - 1);
    expect(goldCompare(PROMPT, kind, looped)).toBe('a');
    // Each repetition costs more: the judge cannot be out-talked by saying it again.
    expect(scoreResponse(PROMPT, `${looped.slice(0, -1)}, I'm here if you have other questions.`).total).toBeLessThan(s.total);
  });

  it('does not see repetition in the demo corpus’s own replies', () => {
    const corpus = buildCorpus(new Rng(2), { trainPrompts: 50, evalPrompts: 10, sftExamples: 200, pretrainTexts: 2000 });
    for (const r of [...corpus.sft, ...corpus.pretrain]) expect(scoreResponse(r.prompt, r.completion).repeatedPhraseWords, r.completion).toBe(0);
  });

  it('is the gold judge: deterministic, equal scores tie', () => {
    expect(goldCompare(PROMPT, CURT, KIND)).toBe('b');
    expect(goldCompare(PROMPT, KIND, CURT)).toBe('a');
    expect(goldCompare(PROMPT, CURT, 'Check the tracking link.')).toBe('tie');
  });
});

describe('simulated annotators', () => {
  it('rank the classic pair correctly most of the time, each of them', () => {
    for (const profile of DEMO_ANNOTATORS) {
      const a = new SimulatedAnnotator(profile, new Rng(profile.name));
      let right = 0;
      for (let i = 0; i < 300; i++) {
        const ranking = a.rank(PROMPT, [CURT, KIND]);
        if (ranking.length === 2 && ranking[0]![0] === 1) right++;
      }
      expect(right / 300, profile.name).toBeGreaterThan(0.85);
    }
  });

  it('put rude and off-topic replies last', () => {
    const a = new SimulatedAnnotator(DEMO_ANNOTATORS[1]!, new Rng(3));
    let last = 0;
    for (let i = 0; i < 200; i++) {
      const ranking = a.rank(PROMPT, [CURT, RUDE, KIND, OFF]);
      const bottom = ranking.slice(-2).flat();
      if (bottom.includes(1) && bottom.includes(3)) last++;
    }
    expect(last / 200).toBeGreaterThan(0.85);
  });

  it('disagree with each other sometimes, and sometimes see a tie', () => {
    const [ana, ben] = DEMO_ANNOTATORS.map((p) => new SimulatedAnnotator(p, new Rng(p.name)));
    const replies = [CURT, "I'm sorry to hear that. Check your tracking number.", 'Please check your tracking number.', KIND];
    let disagree = 0;
    let ties = 0;
    for (let i = 0; i < 200; i++) {
      const ra = ana!.rank(PROMPT, replies);
      const rb = ben!.rank(PROMPT, replies);
      if (JSON.stringify(ra) !== JSON.stringify(rb)) disagree++;
      if (ra.length < replies.length) ties++;
    }
    expect(disagree).toBeGreaterThan(20);
    expect(disagree).toBeLessThan(200);
    expect(ties).toBeGreaterThan(0);
  });

  it('vote in blind A/B with the four outcomes', () => {
    const a = new SimulatedAnnotator(DEMO_ANNOTATORS[0]!, new Rng(1));
    const votes = new Set(Array.from({ length: 100 }, () => a.vote(PROMPT, RUDE, OFF)));
    expect(votes.has('both_bad')).toBe(true);
    expect(a.vote(PROMPT, CURT, KIND)).toBe('b');
  });
});

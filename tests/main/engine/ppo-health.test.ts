// The four health warnings fire on the situations they describe, with step and example samples,
// and stay quiet on a healthy step.
import { describe, expect, it } from 'vitest';
import { HealthMonitor, type HealthSample } from '../../../src-main/engine/train/health.js';

const healthy: Record<string, number> = { 'objective/kl': 0.5, 'val/ratio': 1.01 };
const varied = (n: number): HealthSample[] =>
  Array.from({ length: n }, (_, i) => ({ prompt: `p${i}`, response: `answer ${i}`, tokens: [10 + (i % 5), 20 + i, 3, 4, 1], score: i / n }));

describe('PPO health checks', () => {
  it('says nothing about a healthy step', () => {
    expect(new HealthMonitor().check(1, healthy, varied(8))).toEqual([]);
  });
  it('warns on negative KL', () => {
    const [w] = new HealthMonitor().check(5, { ...healthy, 'objective/kl': -0.4 }, varied(8));
    expect(w).toMatchObject({ kind: 'negative_kl', step: 5, value: -0.4 });
    expect(w!.samples).toHaveLength(4);
    expect(w!.samples[0]).toEqual({ prompt: 'p0', response: 'answer 0', score: 0 });
  });
  it('warns when KL is already large at the first step, but not later', () => {
    expect(new HealthMonitor().check(1, { ...healthy, 'objective/kl': 3 }, varied(8)).map((w) => w.kind)).toEqual(['kl_blowup']);
    expect(new HealthMonitor().check(7, { ...healthy, 'objective/kl': 3 }, varied(8))).toEqual([]);
  });
  it('warns when val/ratio is far from 1', () => {
    expect(new HealthMonitor().check(3, { ...healthy, 'val/ratio': 2.3 }, varied(8)).map((w) => w.kind)).toEqual(['ratio']);
  });
  it('warns on collapse: length → 0, identical responses, one repeated token', () => {
    const short = varied(8).map((s) => ({ ...s, tokens: [1] }));
    expect(new HealthMonitor().check(2, healthy, short).map((w) => w.kind)).toContain('collapse_length');
    const same = varied(8).map((s) => ({ ...s, response: 'yes yes', tokens: [5, 6, 1] }));
    expect(new HealthMonitor().check(2, healthy, same).map((w) => w.kind)).toContain('collapse_identical');
    const repeat = varied(8).map((s, i) => ({ ...s, tokens: [9, 9, 9, 9, i + 20] }));
    expect(new HealthMonitor().check(2, healthy, repeat).map((w) => w.kind)).toEqual(['collapse_repeat']);
  });
  it('raises one kind again only after repeat_every steps', () => {
    const h = new HealthMonitor();
    const bad = { ...healthy, 'val/ratio': 3 };
    expect(h.check(2, bad, varied(4))).toHaveLength(1);
    expect(h.check(3, bad, varied(4))).toHaveLength(0);
    expect(h.check(27, bad, varied(4))).toHaveLength(1);
  });
});

// `rlhf-lab demo --rl ppo,rloo,grpo` on a miniature demo project with tiny settings: each method
// trains in its own process from the same SFT model, and the report puts their gold verdicts, KL,
// peak memory and seconds side by side with best-of-N.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMethodRows, methodRows, parseRlMethods } from '../../../src-main/demo/method-table.js';
import { readDemoBaselines, runDemo } from '../../../src-main/demo/pipeline.js';
import { writeReportPage } from '../../../src-main/demo/report-page.js';
import { runDemoSeeds } from '../../../src-main/demo/seeds.js';
import { Project } from '../../../src-main/store/project.js';
import { makeTinyDemo, TINY_DEMO_SETTINGS as tiny } from './tiny-demo.js';


let dir: string;
let source: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'demo-rl-'));
  source = join(dir, 'source.rlhf');
  await makeTinyDemo(source);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--rl: the RL methods of the demo', () => {
  it('parses a comma-separated list of methods, in order, and refuses unknown or repeated ones', () => {
    expect(parseRlMethods('ppo,rloo,grpo')).toEqual(['ppo', 'rloo', 'grpo']);
    expect(parseRlMethods('GRPO, rloo')).toEqual(['grpo', 'rloo']);
    expect(() => parseRlMethods('ppo,dpo')).toThrow(/"dpo" is not an RL method/);
    expect(() => parseRlMethods('rloo,rloo')).toThrow(/twice/);
  });

  it('trains RLOO and GRPO beside PPO, each in its own process, and reports each one side by side with best-of-N', async () => {
    const out = join(dir, 'out');
    const stages = new Set<string>();
    const report = await runDemo({ quick: true, seed: 1, out, source, settings: tiny, rl: ['ppo', 'rloo', 'grpo'], progress: (s) => void stages.add(s) });
    expect([...stages]).toEqual(['sft', 'labels', 'rm', 'ppo', 'rloo', 'grpo', 'compare']);
    expect(report.methods.map((m) => m.method)).toEqual(['ppo', 'rloo', 'grpo']);
    const checkpoints = new Set(report.methods.map((m) => m.checkpoint));
    expect(checkpoints.size).toBe(3);
    for (const m of report.methods) {
      expect(m.gold.n).toBe(8);
      expect(m.gold.wins + m.gold.ties + m.gold.losses).toBe(8);
      expect(m.gold.ci_low).toBeLessThanOrEqual(m.gold.win_rate);
      expect(m.gold.ci_high).toBeGreaterThanOrEqual(m.gold.win_rate);
      expect(Number.isFinite(m.kl)).toBe(true);
      expect(Number.isFinite(m.score_end)).toBe(true);
      // A child process's own peak: at least the runtime and three models, and far below the whole machine.
      expect(m.peak_rss_mb).toBeGreaterThan(50);
      expect(m.peak_rss_mb).toBeLessThan(8000);
      expect(m.seconds).toBeGreaterThan(0);
    }
    // The report's headline still judges the first method, PPO.
    expect(report.compare.gold.win_rate).toBe(report.methods[0]!.gold.win_rate);
    expect(report.stages.ppo!.checkpoint).toBe(report.methods[0]!.checkpoint);

    const rows = methodRows(report);
    expect(rows.map((r) => r.method)).toEqual(['ppo', 'rloo', 'grpo', 'best-of-2']);
    expect(formatMethodRows(rows)).toMatch(/RLOO .*MiB/);

    const p = Project.open(report.project);
    // Each method trained as its own stage: a run of that stage and a checkpoint of it, from the SFT model.
    for (const m of report.methods) {
      const c = p.checkpoints.get(m.checkpoint)!;
      expect(c.stage).toBe(m.method);
      expect(c.parent_id).toBe(report.stages.sft.checkpoint);
      expect(p.runs.get(m.run)!.stage).toBe(m.method);
    }
    expect(readDemoBaselines(p)!.ppo.checkpoint).toBe(report.methods[0]!.checkpoint);
    p.close();

    const md = readFileSync(writeReportPage(out, report), 'utf8');
    expect(md).toMatch(/\| GRPO \| .*MiB/);
    expect(md).toMatch(/\| best-of-2 \(baseline\) \|/);
    // Three RL phases, each a process of its own (starting one loads tsx): more than the default limit on a busy machine.
  }, 180_000);

  it('runs without PPO: the first method leads the report', async () => {
    const report = await runDemo({ quick: true, seed: 2, out: join(dir, 'grpo'), source, settings: { ...tiny, compare: { ...tiny.compare, best_of_n: [] } }, rl: ['grpo'] });
    expect(report.stages.ppo).toBeUndefined();
    expect(report.methods.map((m) => m.method)).toEqual(['grpo']);
    expect(report.compare.gold.win_rate).toBe(report.methods[0]!.gold.win_rate);
  }, 120_000);

  it('--seeds runs each seed in its own directory and puts every seed\'s rows in one table', async () => {
    const out = join(dir, 'seeds');
    const settings = { ...tiny, compare: { ...tiny.compare, best_of_n: [] } };
    const { runs, table } = await runDemoSeeds([3, 4], { quick: true, source, settings, rl: ['rloo'], out });
    expect(runs.map((r) => r.report.seed)).toEqual([3, 4]);
    expect(runs.map((r) => r.page)).toEqual([join(out, 'seed-3', 'report.md'), join(out, 'seed-4', 'report.md')]);
    expect(runs[0]!.report.project).toBe(join(out, 'seed-3', 'demo.rlhf'));
    expect(table.map((r) => [r.seed, r.method])).toEqual([[3, 'rloo'], [4, 'rloo']]);
  }, 180_000);
});

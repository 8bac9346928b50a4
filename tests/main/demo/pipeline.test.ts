// The demo pipeline end to end on a miniature demo project with tiny settings (the real demo is
// far too long for a unit test): every stage runs, the report has the contract's fields, and the
// project holds what the app shows — runs, a label task with simulated rankings, checkpoints.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDemoBaselines, runDemo, type DemoSettings } from '../../../src-main/demo/pipeline.js';
import { runJobInProcess } from '../../../src-main/jobs/run-in-process.js';
import { writeReportPage } from '../../../src-main/demo/report-page.js';
import { Project } from '../../../src-main/store/project.js';
import { readDemoValidation } from '../../../src-main/demo/project.js';
import { makeTinyDemo } from './tiny-demo.js';

const tiny: DemoSettings = {
  sft: { seed: 1, epochs: 1, batch_size: 8, lr: 1e-3, eval_every: 100, checkpoint_every: 1000 },
  labels: { prompts: 8, k: 3, samples: 4, temperature: 1, max_new_tokens: 8, annotators_per_item: 2 },
  rm: { seed: 1, epochs: 1, batch_prompts: 4, lr: 1e-3, eval_fraction: 0.25, norm_samples: 4, norm_max_new_tokens: 6, checkpoint_every: 1000 },
  ppo: { seed: 1, steps: 2, batch_size: 4, num_mini_batches: 2, num_ppo_epochs: 1, lr: 1e-4, max_new_tokens: 6, sample_every: 1, checkpoint_every: 1000 },
  kl_bound: 9,
  compare: { prompts: 8, temperature: 0.7, max_new_tokens: 6, best_of_n: [2, 4] },
};

let dir: string;
let source: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'demo-pipeline-'));
  source = join(dir, 'source.rlhf');
  await makeTinyDemo(source);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rlhf-lab demo pipeline', () => {
  it('runs SFT → simulated rankings → reward model → PPO → compare and reports every stage', async () => {
    const out = join(dir, 'out');
    const stages = new Set<string>();
    const report = await runDemo({ quick: true, seed: 1, out, source, settings: tiny, progress: (s) => void stages.add(s) });
    expect([...stages]).toEqual(['sft', 'labels', 'rm', 'ppo', 'compare']);
    expect(Number.isFinite(report.stages.sft.eval_loss)).toBe(true);
    expect(report.stages.labels.items).toBeGreaterThan(0);
    expect(report.stages.rm.eval_accuracy).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(report.stages.ppo!.kl)).toBe(true);
    expect(Number.isFinite(report.stages.ppo!.mean_score_start)).toBe(true);
    expect(Number.isFinite(report.stages.ppo!.mean_score_end)).toBe(true);
    for (const judge of ['gold', 'rm'] as const) {
      const c = report.compare[judge];
      expect(c.n).toBe(8);
      expect(c.ci_low).toBeLessThanOrEqual(c.win_rate);
      expect(c.ci_high).toBeGreaterThanOrEqual(c.win_rate);
    }
    expect(report.judged_on).toBe('eval');
    // Best-of-N baselines from the SFT model, gold-judged on the same prompts as PPO.
    expect(report.compare.best_of_n.map((b) => [b.n, b.prompts])).toEqual([[2, 8], [4, 8]]);
    for (const b of report.compare.best_of_n) {
      expect(b.wins + b.ties + b.losses).toBe(8);
      expect(Number.isFinite(b.mean_gold)).toBe(true);
    }
    // Picking among more samples by the reward model cannot lower the reward model's mean score.
    expect(report.compare.best_of_n[1]!.mean_rm).toBeGreaterThanOrEqual(report.compare.best_of_n[0]!.mean_rm);
    expect(report.examples.length).toBeGreaterThan(0);
    expect(report.examples[0]).toEqual(expect.objectContaining({ prompt: expect.any(String), sft: expect.any(String), rlhf: expect.any(String) }));
    expect(report.backend).toMatch(/wasm|cpu|tensorflow/);

    const p = Project.open(report.project);
    const runs = p.runs.listRuns().sort((x, y) => x.id - y.id).map((r) => [r.stage, r.status]);
    expect(runs).toEqual([['sft', 'completed'], ['rm', 'completed'], ['ppo', 'completed']]);
    // Compare's panel reads PPO's gold verdict beside the baselines from the project.
    expect(readDemoBaselines(p)).toMatchObject({ judged_on: 'eval', n: 8, ppo: { checkpoint: report.stages.ppo!.checkpoint, win_rate: report.compare.gold.win_rate } });
    expect(readDemoBaselines(p)!.best_of_n.map((b) => b.n)).toEqual([2, 4]);
    const [task] = p.labelTasks.tasks();
    expect(task!.items).toBe(report.stages.labels.items);
    const sources = p.db.prepare("SELECT DISTINCT r.source, a.simulated FROM rankings r JOIN annotators a ON a.id = r.annotator_id").all();
    expect(sources).toEqual([{ source: 'simulated', simulated: 1 }]);
    p.close();

    const page = writeReportPage(out, report);
    const md = readFileSync(page, 'utf8');
    expect(md).toMatch(/win rate/);
    expect(md).toContain(report.examples[0]!.prompt.replace(/\|/g, '\\|'));
    expect(existsSync(join(out, 'curve-ppo-score.svg'))).toBe(true);
  });

  it('judges on the validation split, which is no prompt of the project, when choosing settings', async () => {
    const report = await runDemo({ quick: true, seed: 2, out: join(dir, 'val'), source, settings: { ...tiny, compare: { ...tiny.compare, best_of_n: [] } }, judge_on: 'validation' });
    expect(report.judged_on).toBe('validation');
    const p = Project.open(report.project);
    const stored = new Set([...p.prompts.iterate()].map((x) => x.text));
    const validation = readDemoValidation(p);
    p.close();
    expect(validation.length).toBeGreaterThan(0);
    for (const v of validation) expect(stored.has(v.text)).toBe(false);
    expect(report.compare.gold.n).toBe(Math.min(8, validation.length));
    for (const e of report.examples) expect(validation.some((v) => v.text === e.prompt)).toBe(true);
  });

  it('refuses to overwrite an earlier run in the same --out directory', async () => {
    await expect(runDemo({ quick: true, seed: 1, out: join(dir, 'out'), source, settings: tiny })).rejects.toThrow(/exists already/);
  });

  it('runs in the app as the `demo` job, only on the demo project', async () => {
    const other = Project.open(join(dir, 'mine.rlhf'), { create: true });
    await expect(runJobInProcess('demo', { quick: true }, other)).rejects.toThrow(/not the demo project/);
    other.close();
  });
});

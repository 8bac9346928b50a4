// `demo --overoptimization` on the miniature demo project: PPO with β = 0 and with the demo's β,
// every checkpoint judged by the reward model and the gold rubric against √KL to the SFT model,
// kept in the project for Compare's chart, and drawn as an SVG.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeOveroptimizationChart } from '../../../src-main/demo/overoptimization-chart.js';
import { readOveroptimization, runOveroptimization } from '../../../src-main/demo/overoptimization.js';
import { openDemoCopy, type DemoSettings } from '../../../src-main/demo/pipeline.js';
import { readCheckpointJudges, type CheckpointJudgesResult } from '../../../src-main/jobs/kinds/judge-checkpoints.js';
import { runJobInProcess } from '../../../src-main/jobs/run-in-process.js';
import { makeTinyDemo } from './tiny-demo.js';

const tiny: DemoSettings = {
  sft: { seed: 1, epochs: 1, batch_size: 8, lr: 1e-3, eval_every: 100, checkpoint_every: 1000 },
  labels: { prompts: 8, k: 3, samples: 4, temperature: 1, max_new_tokens: 8, annotators_per_item: 2 },
  rm: { seed: 1, epochs: 1, batch_prompts: 4, lr: 1e-3, eval_fraction: 0.25, norm_samples: 4, norm_max_new_tokens: 6, checkpoint_every: 1000 },
  ppo: { seed: 1, steps: 2, batch_size: 4, num_mini_batches: 2, num_ppo_epochs: 1, lr: 1e-3, max_new_tokens: 6, sample_every: 1, kl_coef: 0.2 },
  kl_bound: 9,
  compare: { prompts: 8, temperature: 0.7, max_new_tokens: 6, best_of_n: [] },
};

let dir: string;
let source: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'demo-overopt-'));
  source = join(dir, 'source.rlhf');
  await makeTinyDemo(source);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('demo --overoptimization', () => {
  it('scores every checkpoint of PPO with β = 0 and with the demo β against √KL, and keeps the result', async () => {
    const { project, close } = openDemoCopy(join(dir, 'out'), source);
    try {
      const stages = new Set<string>();
      const report = await runOveroptimization(project, { quick: true, seed: 1, settings: tiny, steps: 4, every: 2, prompts: 6, progress: (s) => void stages.add(s) });
      expect([...stages]).toEqual(expect.arrayContaining(['sft', 'rm', 'ppo β=0', 'ppo β=0.2', 'evaluate']));
      expect(report.curves.map((c) => c.kl_coef)).toEqual([0, 0.2]);
      for (const c of report.curves) {
        // The SFT model, then the checkpoints at iterations 2 and 4.
        expect(c.points.map((p) => p.step)).toEqual([0, 2, 4]);
        expect(c.points[0]).toMatchObject({ kl: 0, sqrt_kl: 0, rm_win_rate: 0.5, gold_win_rate: 0.5 });
        for (const p of c.points) {
          expect(p.sqrt_kl).toBeCloseTo(Math.sqrt(Math.max(0, p.kl)), 9);
          for (const v of [p.rm, p.gold, p.rm_win_rate, p.gold_win_rate]) expect(Number.isFinite(v)).toBe(true);
        }
        // The policy moved away from SFT.
        expect(c.points.at(-1)!.kl).not.toBe(0);
      }
      expect(readOveroptimization(project)).toEqual(report);
      // Compare's per-checkpoint panel: the same judgement for any PPO run, kept for the view.
      const judged = await runJobInProcess<CheckpointJudgesResult>('judge-checkpoints', { run: report.curves[0]!.run, prompts: 6, seed: 1 }, project, () => {});
      expect(judged.gold).toBe(true);
      expect(judged.points.map((p) => p.step)).toEqual([0, 2, 4]);
      expect(judged.points.slice(1).map((p) => p.human_votes)).toEqual([0, 0]);
      expect(readCheckpointJudges(project, report.curves[0]!.run)).toEqual(judged);
      await expect(runJobInProcess('judge-checkpoints', { run: 1 }, project, () => {})).rejects.toThrow(/not a PPO run/);
      const svg = writeOveroptimizationChart(join(dir, 'out'), report);
      expect(existsSync(svg)).toBe(true);
      expect(readFileSync(svg, 'utf8')).toMatch(/Gold score[\s\S]*β = 0 \(no KL penalty\)/);
    } finally {
      close();
    }
  });
});

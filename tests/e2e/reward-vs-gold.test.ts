// Compare's "Reward model vs gold/human" panel in Chromium, on a miniature demo project: the
// over-optimisation curves (β = 0 and the demo β) charted against √KL, and a PPO run's checkpoints
// judged from the panel's button, each with the reward model's and the gold rubric's win rate.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOveroptimization } from '../../src-main/demo/overoptimization.js';
import type { DemoSettings } from '../../src-main/demo/pipeline.js';
import { Project } from '../../src-main/store/project.js';
import { makeTinyDemo } from '../main/demo/tiny-demo.js';
import { startE2E, type E2E } from './harness.js';

const tiny: DemoSettings = {
  sft: { seed: 1, epochs: 1, batch_size: 8, lr: 1e-3, eval_every: 100, checkpoint_every: 1000 },
  labels: { prompts: 8, k: 3, samples: 4, temperature: 1, max_new_tokens: 8, annotators_per_item: 2 },
  rm: { seed: 1, epochs: 1, batch_prompts: 4, lr: 1e-3, eval_fraction: 0.25, norm_samples: 4, norm_max_new_tokens: 6, checkpoint_every: 1000 },
  ppo: { seed: 1, steps: 2, batch_size: 4, num_mini_batches: 2, num_ppo_epochs: 1, lr: 1e-3, max_new_tokens: 6, sample_every: 1, kl_coef: 0.2 },
  kl_bound: 9,
  compare: { prompts: 8, temperature: 0.7, max_new_tokens: 6, best_of_n: [] },
};

let e2e: E2E;

describe('Compare: reward model vs gold', () => {
  beforeAll(async () => {
    e2e = await startE2E({ project: 'none', viewport: { width: 1280, height: 800 } });
    const path = join(e2e.dir, 'demo.rlhf');
    await makeTinyDemo(path);
    const p = Project.open(path);
    await runOveroptimization(p, { quick: true, seed: 1, settings: tiny, steps: 6, every: 2, prompts: 6 });
    p.close();
    e2e.server.services.openProject(path);
    await e2e.page.reload();
    await e2e.page.keyboard.press('Control+4');
  }, 240_000);
  afterAll(async () => {
    await e2e?.close();
  });

  it('charts the over-optimisation run and judges a PPO run’s checkpoints from the button', async () => {
    const { page } = e2e;
    const panel = page.getByTestId('reward-vs-gold');
    await panel.locator('summary').click();
    await panel.getByTestId('overoptimization-chart').waitFor();
    // One line per β in each of the two panels (reward model, gold).
    await expect.poll(() => panel.getByTestId('overoptimization-chart').locator('polyline').count()).toBe(4);
    expect(await panel.getByTestId('overoptimization-chart').textContent()).toMatch(/PPO β = 0 \(no KL penalty\)[\s\S]*PPO β = 0\.2/);
    await expect.poll(() => panel.getByText('Not judged yet.').count()).toBe(1);
    await panel.getByTestId('judge-checkpoints').click();
    const table = panel.getByTestId('checkpoint-judges');
    await table.waitFor({ timeout: 120_000 });
    // The checkpoints at steps 2, 4 and 6, each with both judges' win rates.
    await expect.poll(() => table.locator('tbody tr').count()).toBe(3);
    expect(await table.locator('thead').textContent()).toContain('Gold rubric');
    expect(await table.locator('tbody tr').first().textContent()).toMatch(/^2\d\.\d\d\d+%\d+%/);
    expect(await table.locator('caption').textContent()).toContain('6 eval prompts');
    await panel.getByText('Over-optimisation (demo)').scrollIntoViewIfNeeded();
    await e2e.screenshot('compare-reward-vs-gold');
    expect(e2e.consoleErrors).toEqual([]);
  });
});

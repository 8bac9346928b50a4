// The demo panel in Compare (issue 17), on a miniature demo project that carries its own tiny stage
// settings (project_meta demo_settings): the user picks RL methods and a seed, runs the whole loop
// with a bar per phase, and reads the method table of the last run — each method's gold win rate
// over SFT with its interval, gold mean, KL, peak RSS and RL seconds beside best-of-N. A run can be
// cancelled, and the last finished run's table stays. Screenshots: screenshots/demo-panel-*.png.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeProjectDemoSettings } from '../../src-main/demo/pipeline.js';
import { Project } from '../../src-main/store/project.js';
import { makeTinyDemo, TINY_DEMO_SETTINGS } from '../main/demo/tiny-demo.js';
import { startE2E, type E2E } from './harness.js';

let e2e: E2E;

describe('Demo panel', () => {
  beforeAll(async () => {
    e2e = await startE2E({ project: 'none' });
    const path = join(e2e.dir, 'tiny-demo.rlhf');
    await makeTinyDemo(path);
    const p = Project.open(path);
    writeProjectDemoSettings(p, TINY_DEMO_SETTINGS);
    p.close();
    e2e.server.services.openProject(path);
    await e2e.page.reload();
    await e2e.page.keyboard.press('Control+4');
  });
  afterAll(async () => {
    await e2e?.close();
  });

  it('runs two chosen RL methods with a bar per phase and shows their gold verdicts beside best-of-N', async () => {
    const { page } = e2e;
    const panel = page.getByTestId('demo-panel');
    await panel.scrollIntoViewIfNeeded();
    expect(await panel.getByTestId('demo-no-results').textContent()).toContain('No demo run');

    // At least one method: with none ticked the run button is off and says why.
    for (const m of ['ppo', 'rloo', 'grpo']) await panel.getByTestId(`demo-method-${m}`).uncheck();
    expect(await panel.getByTestId('demo-blocker').textContent()).toBe('Choose at least one RL method.');
    expect(await panel.getByTestId('demo-start').isDisabled()).toBe(true);
    await panel.getByTestId('demo-method-rloo').check();
    await panel.getByTestId('demo-method-grpo').check();
    await panel.getByTestId('demo-seed').fill('3');
    await panel.getByTestId('demo-start').click();

    const progress = panel.getByTestId('demo-progress');
    await expect
      .poll(() => progress.locator('[data-phase]').evaluateAll((els) => els.map((e) => e.getAttribute('data-phase'))), { timeout: 30_000 })
      .toEqual(['sft', 'labels', 'rm', 'rloo', 'grpo', 'compare']);
    // Shown once the first stages are done and RLOO trains: finished bars full, later ones waiting.
    await progress.locator('[data-phase="rloo"].current').waitFor({ timeout: 120_000 });
    await panel.scrollIntoViewIfNeeded();
    await e2e.screenshot('demo-panel-running');

    const table = panel.getByTestId('demo-results');
    await table.waitFor({ timeout: 300_000 });
    expect(await panel.getByTestId('demo-progress').count()).toBe(0);
    const rows = table.locator('tbody tr');
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-method')))).toEqual(['rloo', 'grpo', 'best-of-2']);
    const cells = (i: number) => rows.nth(i).locator('th, td').allTextContents();
    for (const i of [0, 1]) {
      const [method, win, gold, kl, rss, seconds] = await cells(i);
      expect(method).toBe(i === 0 ? 'RLOO' : 'GRPO');
      expect(win).toMatch(/^\d+\.\d% \[\d+\.\d%, \d+\.\d%\]$/);
      expect(gold).toMatch(/^-?\d+\.\d\d$/);
      expect(kl).toMatch(/^-?\d+\.\d{3}$/);
      expect(rss).toMatch(/^\d+ MiB$/);
      expect(seconds).toMatch(/^\d+ s$/);
    }
    // Best-of-N trains nothing: no KL, memory or RL seconds of its own.
    expect((await cells(2)).slice(3)).toEqual(['–', '–', '–']);
    expect(await table.locator('caption').textContent()).toMatch(/seed 3[\s\S]*on 8\s+held-out prompts/);

    // The table is the project's runs: one of each chosen stage, none of the other.
    const runs = e2e.server.services.project().runs.listRuns();
    expect(runs.filter((r) => r.stage === 'rloo')).toHaveLength(1);
    expect(runs.filter((r) => r.stage === 'grpo')).toHaveLength(1);
    expect(runs.filter((r) => r.stage === 'ppo')).toHaveLength(0);
    await table.scrollIntoViewIfNeeded();
    await e2e.screenshot('demo-panel-results');
  });

  it('cancels a run, says so, and keeps the last finished run’s table', async () => {
    const { page } = e2e;
    const panel = page.getByTestId('demo-panel');
    await panel.getByTestId('demo-method-grpo').uncheck();
    await panel.getByTestId('demo-seed').fill('4');
    await panel.getByTestId('demo-start').click();
    await panel.getByTestId('demo-progress').waitFor();
    await panel.getByTestId('demo-cancel').click();
    await expect.poll(() => panel.getByTestId('demo-error').textContent(), { timeout: 30_000 }).toContain('cancelled');
    expect(await panel.getByTestId('demo-results').locator('caption').textContent()).toContain('seed 3');
    expect(await panel.getByTestId('demo-start').isEnabled()).toBe(true);
    expect(e2e.consoleErrors).toEqual([]);
  });
});

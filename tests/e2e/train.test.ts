// The Train view in a real browser: an SFT run started from the form, its loss curve growing
// live, stopped and resumed so the curve continues; a PPO run against a reward model showing
// reward and KL curves and its sample table. Also measures the renderer's longest main-thread
// task while a run streams metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunInfo } from '../../src-main/shared/contract.js';
import { createNewModel } from '../../src-main/engine/models/new-model.js';
import { runJobInProcess } from '../../src-main/jobs/run-in-process.js';
import { startE2E, type E2E } from './harness.js';

let e2e: E2E;
let sft: number;

function runs(): RunInfo[] {
  const project = e2e.server.services.project();
  return project.runs.listRuns().map((r) => ({ ...r, job: null, owner: null, last: {}, parent_name: null }));
}

describe('Train view', () => {
  beforeAll(async () => {
    e2e = await startE2E({ viewport: { width: 1440, height: 900 } });
    const project = e2e.server.services.project();
    const who = project.annotators.ensure('ann');
    const animals = ['cat', 'dog', 'cow', 'owl', 'fox', 'bee', 'ant', 'elk', 'yak', 'eel', 'emu', 'gnu'];
    animals.forEach((a, i) => {
      project.sft.insert({ kind: 'completion', prompt: `Tell me about the ${a}.`, completion: ` The ${a} is good.` });
      const prompt = project.prompts.upsert(`Tell me about the ${a}.`, { split: i < 10 ? 'train' : 'eval' }).id;
      const ids = [`The ${a} is good and kind.`, `The ${a} is good.`, `The ${a} is small.`].map(
        (text) => project.responses.upsert({ promptId: prompt, text, source: 'human' }).id,
      );
      project.preferences.insertRanking({ uid: `r${i}`, promptId: prompt, annotatorId: who, ranking: [[ids[0]!], [ids[1]!], [ids[2]!]], source: 'human' });
    });
    const base = createNewModel(project, { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 48, vocab_size: 512, name: 'tiny base' }).checkpoint;
    sft = (await runJobInProcess<{ checkpoint: number }>('train-sft', { from: base, config: { max_steps: 4, batch_size: 4 }, name: 'setup sft' }, project)).checkpoint;
    await runJobInProcess('train-rm', { from: sft, config: { epochs: 2, batch_prompts: 5, norm_samples: 4, norm_max_new_tokens: 4 }, name: 'setup rm' }, project);
    await e2e.page.reload();
    await e2e.page.keyboard.press('Control+3');
  });
  afterAll(async () => {
    await e2e?.close();
  });

  it('starts an SFT run from the form and the loss curve grows while it trains', async () => {
    const { page } = e2e;
    await page.keyboard.press('n');
    const form = page.getByRole('form', { name: 'New run' });
    await form.getByTestId('stage').selectOption('sft');
    // The form shows the engine defaults; a bad value is explained inline and blocks the start.
    await form.getByTestId('advanced').locator('summary').click();
    await form.locator('[data-key="grad_clip"]').getByText('Default 1.').waitFor();
    const lr = form.locator('[data-key="lr"] input');
    await lr.fill('-2');
    await form.locator('[data-key="lr"]').getByRole('alert').waitFor();
    await expect.poll(() => form.getByTestId('start-blockers').textContent()).toContain('fix Learning rate');
    await lr.fill('0.003');
    await form.locator('[data-key="max_steps"] input').fill('5000');
    await form.locator('[data-key="batch_size"] input').fill('2');
    await form.locator('[data-key="checkpoint_every"] input').fill('5');
    await page.getByLabel('Run name').fill('live sft');
    await expect.poll(() => form.getByTestId('start-blockers').count()).toBe(0);
    await form.getByTestId('start-run').click();

    // The new run opens by itself and is live.
    await page.getByRole('heading', { name: /live sft/ }).waitFor({ timeout: 60_000 });
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 60_000 }).toBe('running');
    await page.locator('figure[data-metric="loss"] canvas').waitFor({ timeout: 60_000 });
    const first = runs().find((r) => r.name === 'live sft')!.step;
    await expect.poll(() => runs().find((r) => r.name === 'live sft')!.step, { timeout: 60_000 }).toBeGreaterThan(first + 5);

    // Responsiveness while metrics stream: the longest main-thread task over 3 s.
    const longest = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          let max = 0;
          const obs = new PerformanceObserver((list) => list.getEntries().forEach((e) => (max = Math.max(max, e.duration))));
          obs.observe({ type: 'longtask', buffered: false });
          setTimeout(() => (obs.disconnect(), resolve(max)), 3000);
        }),
    );
    console.log(`longest main-thread task while streaming: ${longest.toFixed(0)} ms`);
    expect(longest).toBeLessThan(200);
    await e2e.screenshot('train-sft-live');
  });

  it('stops the run and resumes it, and the curve continues from where it stopped', async () => {
    const { page } = e2e;
    await page.keyboard.press('Shift+S');
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 60_000 }).toBe('stopped');
    // The status bar says it in the same word, not "cancelled".
    await expect.poll(() => page.getByTestId('job').filter({ hasText: 'live sft' }).first().textContent()).toContain('stopped');
    const stopped = runs().find((r) => r.name === 'live sft')!;
    expect(stopped.status).toBe('stopped');
    await page.getByTestId('resume-run').click();
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 60_000 }).toBe('running');
    await expect.poll(() => runs().find((r) => r.name === 'live sft')!.step, { timeout: 60_000 }).toBeGreaterThan(stopped.step + 3);
    const loss = e2e.server.services.project().runs.metricsFor(stopped.id, ['loss']).loss!.map((p) => p.step);
    // One point per step from 1 on, no gap and no duplicate across the stop.
    expect(loss).toEqual(Array.from({ length: loss.length }, (_, i) => i + 1));
    await page.keyboard.press('Shift+S');
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 60_000 }).toBe('stopped');
  });

  it('runs PPO against the reward model and shows reward and KL curves and a sample table', async () => {
    const { page } = e2e;
    await page.getByTestId('new-run').click();
    const form = page.getByRole('form', { name: 'New run' });
    await form.getByTestId('stage').selectOption('ppo');
    const fromValue = await form.getByTestId('from').locator('option', { hasText: 'setup sft' }).first().getAttribute('value');
    await form.getByTestId('from').selectOption(fromValue!);
    await form.locator('[data-key="reward_model"] select').selectOption({ index: 1 });
    await form.locator('[data-key="steps"] input').fill('6');
    await form.locator('[data-key="batch_size"] input').fill('4');
    await form.locator('[data-key="num_mini_batches"] input').fill('2');
    await form.locator('[data-key="max_new_tokens"] input').fill('6');
    await form.getByTestId('advanced').locator('summary').click();
    await form.locator('[data-key="sample_every"] input').fill('2');
    await page.getByLabel('Run name').fill('ppo run');
    await expect.poll(() => form.getByTestId('start-blockers').count()).toBe(0);
    await form.getByTestId('start-run').click();

    await expect.poll(() => runs().find((r) => r.name === 'ppo run')?.status, { timeout: 90_000 }).toBe('completed');
    await page.locator('figure[data-metric="objective/scores"] canvas').waitFor({ timeout: 20_000 });
    await page.locator('figure[data-metric="objective/kl"] canvas').waitFor();
    await expect.poll(() => page.locator('section[aria-label="Samples"] tbody tr').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    // The step list follows the run's samples as the view refreshes; the run may have finished just before.
    await expect
      .poll(() => page.getByTestId('sample-step').locator('option').allTextContents(), { timeout: 20_000 })
      .toEqual(expect.arrayContaining(['2', '4', '6']));
    await page.getByTestId('sample-step').selectOption('6');
    await page.locator('section[aria-label="Samples"] select').nth(1).selectOption({ label: 'step 2' });
    await e2e.screenshot('train-ppo');
    await page.locator('section[aria-label="Samples"]').scrollIntoViewIfNeeded();
    await e2e.screenshot('train-ppo-samples');
    expect(e2e.consoleErrors).toEqual([]);
  });
});

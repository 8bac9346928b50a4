// Compare view in Chromium: SFT and PPO checkpoints of a tiny model answer the eval prompts side by
// side with scores; ten blind votes with the keyboard; the human win rate and interval update.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNewModel } from '../../src-main/engine/models/new-model.js';
import { runJobInProcess } from '../../src-main/jobs/run-in-process.js';
import { startE2E, type E2E } from './harness.js';

let e2e: E2E;
let sft: number;
let ppo: number;
let base: number;

/** A key press with nothing focused, as a user does after leaving a field. */
async function key(k: string): Promise<void> {
  await e2e.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await e2e.page.keyboard.press(k);
}

describe('Compare view', () => {
  beforeAll(async () => {
    e2e = await startE2E({ viewport: { width: 1280, height: 800 } });
    const project = e2e.server.services.project();
    const who = project.annotators.ensure('ranker');
    const animals = ['cat', 'dog', 'cow', 'owl', 'fox', 'bee', 'ant', 'elk', 'yak', 'eel', 'emu', 'gnu', 'ram', 'hen', 'pig', 'rat', 'bat', 'ape', 'koi', 'cod'];
    animals.forEach((a, i) => {
      project.sft.insert({ kind: 'completion', prompt: `Tell me about the ${a}.`, completion: ` The ${a} is good.` });
      const prompt = project.prompts.upsert(`Tell me about the ${a}.`, { split: i < 6 ? 'train' : 'eval' }).id;
      const ids = [`The ${a} is good and kind.`, `The ${a} is small.`].map((text) => project.responses.upsert({ promptId: prompt, text, source: 'human' }).id);
      project.preferences.insertRanking({ uid: `r${i}`, promptId: prompt, annotatorId: who, ranking: [[ids[0]!], [ids[1]!]], source: 'human' });
    });
    base = createNewModel(project, { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 48, vocab_size: 512, name: 'tiny base' }).checkpoint;
    sft = (await runJobInProcess<{ checkpoint: number }>('train-sft', { from: base, config: { max_steps: 4, batch_size: 4 }, name: 'sft' }, project)).checkpoint;
    const rm = (await runJobInProcess<{ checkpoint: number }>('train-rm', { from: sft, config: { epochs: 1, batch_prompts: 6, norm_samples: 4, norm_max_new_tokens: 4 }, name: 'rm' }, project)).checkpoint;
    await runJobInProcess('train-ppo', { from: sft, config: { steps: 3, batch_size: 4, num_mini_batches: 2, max_new_tokens: 6, lr: 1e-2 }, reward_model: rm, name: 'ppo' }, project);
    ppo = project.checkpoints.list().filter((c) => c.stage === 'ppo').at(-1)!.id;
    await e2e.page.reload();
    await e2e.page.keyboard.press('Control+4');
  }, 180_000);
  afterAll(async () => {
    await e2e?.close();
  });

  it('generates SFT and PPO responses side by side with scores, KL and length', async () => {
    const { page } = e2e;
    const form = page.getByRole('form', { name: 'New comparison' });
    await form.waitFor();
    // The latest SFT and the latest PPO checkpoint are preselected; nothing else is.
    expect(await form.getByTestId(`pick-${sft}`).isChecked()).toBe(true);
    expect(await form.getByTestId(`pick-${ppo}`).isChecked()).toBe(true);
    await form.getByText('default 48').waitFor();
    await e2e.screenshot('compare-setup');
    await form.getByLabel('max tokens').fill('10');
    await form.getByLabel('temperature').fill('1.3');
    await form.getByLabel('max tokens').press('Control+Enter');

    await page.getByTestId('compare-row').first().waitFor({ timeout: 60_000 });
    await expect.poll(() => page.getByTestId('compare-row').count(), { timeout: 60_000 }).toBe(14);
    await expect.poll(() => page.getByTestId('compare-progress').count(), { timeout: 60_000 }).toBe(0);
    const meta = await page.getByTestId('cell-meta').first().textContent();
    expect(meta).toMatch(/score -?\d+\.\d\d\s+KL 0\.00\s+\d+ tok/);
    expect(await page.getByTestId(`rm-win-${ppo}`).textContent()).toMatch(/\d+% \[\d+%, \d+%\] n=14/);
    await e2e.screenshot('compare-side-by-side');

    // Keyboard: D keeps only the prompts where the responses differ, G sorts by score gap.
    await key('d');
    expect(await page.getByTestId('only-differ').isChecked()).toBe(true);
    await key('g');
    expect(await page.getByLabel('Sort rows').inputValue()).toBe('gap');
    await e2e.screenshot('compare-differ-by-gap', { fullPage: true });
  });

  it('ten blind votes with the keyboard: identities revealed after each, win rate and interval update', async () => {
    const { page } = e2e;
    await key('j');
    await page.getByLabel('New annotator name').fill('Ann');
    await page.getByLabel('New annotator name').press('Enter');
    await page.getByTestId('blind-a').waitFor();
    // Before the vote nothing says which checkpoint wrote A or B.
    const blind = await page.getByRole('region', { name: 'Blind judgment' }).textContent();
    expect(blind).not.toMatch(/#\d+ (sft|ppo)/);
    await e2e.screenshot('compare-blind');

    const keys = ['1', '2', 'a', 'b', '3', '1', 't', '2', 'x', '1'];
    const rates: string[] = [];
    for (const [i, k] of keys.entries()) {
      await page.getByTestId('blind-a').waitFor();
      await key(k);
      await expect.poll(() => page.getByTestId('vote-count').textContent()).toBe(`${i + 1} blind vote${i ? 's' : ''}`);
      rates.push((await page.getByTestId(`human-win-${ppo}`).textContent())!);
      const revealed = (await page.getByTestId('revealed').textContent())!;
      expect(revealed).toMatch(new RegExp(`A was #(${sft}|${ppo}) .*B was #(${sft}|${ppo})`));
      if (i === 0) await e2e.screenshot('compare-revealed');
    }
    expect(rates[9]).toMatch(/\d+% \[\d+%, \d+%\] n=10/);
    expect(new Set(rates).size).toBeGreaterThan(3);
    const db = e2e.server.services.project().db;
    expect(db.prepare("SELECT count(*) AS n FROM comparisons WHERE context = 'compare'").get()).toEqual({ n: 10 });
    await e2e.screenshot('compare-votes-stats');

    await page.setViewportSize({ width: 1920, height: 1080 });
    await key('j');
    await e2e.screenshot('compare-1920');
    expect(e2e.consoleErrors).toEqual([]);
  });

  it('three checkpoints get Bradley–Terry ratings by reward model', async () => {
    const { page } = e2e;
    await key('n');
    const form = page.getByRole('form', { name: 'New comparison' });
    await form.getByTestId(`pick-${base}`).press('Space');
    await form.getByLabel('max tokens').fill('8');
    await form.getByLabel('max tokens').press('Control+Enter');
    await expect.poll(() => page.getByTestId('set-picker').inputValue(), { timeout: 30_000 }).toBe('2');
    await page.getByRole('table', { name: 'Responses side by side' }).getByRole('columnheader').nth(2).waitFor();
    await expect.poll(() => page.getByTestId('compare-progress').count(), { timeout: 60_000 }).toBe(0);
    const ratings = page.getByRole('table', { name: /Bradley–Terry/ });
    await expect.poll(() => ratings.getByRole('row').count()).toBe(4);
    expect(await ratings.getByRole('row').nth(1).textContent()).toMatch(/\d{3,4} \[\d{3,4}, \d{3,4}\]/);
    await e2e.screenshot('compare-three-bt');
  });

  it('a long comparison shows its progress and Escape cancels it, keeping what was written', async () => {
    const { page } = e2e;
    await key('n');
    const form = page.getByRole('form', { name: 'New comparison' });
    await form.getByLabel('max tokens').fill('40');
    await form.getByLabel('best-of-N').fill('64');
    await form.getByLabel('best-of-N').press('Control+Enter');
    await page.getByTestId('compare-progress').waitFor();
    await page.getByRole('progressbar').first().waitFor();
    await e2e.screenshot('compare-progress');
    await key('Escape');
    await expect.poll(() => page.getByTestId('compare-progress').count(), { timeout: 30_000 }).toBe(0);
    await page.getByText(/This comparison was cancelled/).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('set-picker').locator('option:checked').textContent()).toMatch(/cancelled/);
    expect(e2e.consoleErrors).toEqual([]);
  });
});

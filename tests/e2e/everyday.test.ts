// Everyday use, where a new user tripped: the New annotator dialog takes a name with a space
// (focus in the name field, not on ✕); someone labeling alone finishes a task with their own
// judgments and never sees the "import" pseudo-annotator; the status bar's engine follows a run
// without a reload; the mouse wheel over a chart scrolls the Train pane, while Ctrl+wheel, a drag
// or the keyboard zoom it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNewModel } from '../../src-main/engine/models/new-model.js';
import { IMPORT_ANNOTATOR } from '../../src-main/store/annotators.js';
import type { Project } from '../../src-main/store/project.js';
import { startE2E, type E2E } from './harness.js';

let e2e: E2E;
let project: Project;
let base = 0;

describe('everyday use', () => {
  beforeAll(async () => {
    e2e = await startE2E();
    project = e2e.server.services.project();
    ['How do I reset my password?', 'Where is my parcel?'].forEach((text, i) => {
      const { id } = project.prompts.upsert(text);
      ['Use the link on the sign-in page.', 'Ask support.', 'I cannot help.'].forEach((a) =>
        project.responses.upsert({ promptId: id, text: `${a} (${i})`, source: 'import' }),
      );
    });
    // Imported preferences that name nobody are credited to this pseudo-annotator (data/import.ts).
    project.annotators.ensure(IMPORT_ANNOTATOR);
    for (let i = 0; i < 8; i++) project.sft.insert({ kind: 'completion', prompt: `Question ${i}?`, completion: ` Answer ${i}.` });
    base = createNewModel(project, { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 32, vocab_size: 512, name: 'tiny base' }).checkpoint;
    await e2e.page.reload();
  });
  afterAll(async () => {
    await e2e?.close();
  });

  it('New annotator: the name field has the focus, and a name with a space is typed, not a close', async () => {
    const { page } = e2e;
    await page.keyboard.press('Control+2');
    await page.getByRole('button', { name: 'New annotator' }).click();
    const dialog = page.getByRole('dialog', { name: 'New annotator' });
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('name');
    await page.keyboard.type('Ann Lee');
    expect(await dialog.isVisible()).toBe(true);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('current-annotator').textContent()).toContain('Ann Lee');
    // The import pseudo-annotator is nobody to label as.
    expect(await page.getByLabel('Annotator').locator('option').allTextContents()).toEqual(['Choose annotator…', 'Ann Lee']);
  });

  it('someone labeling alone: one annotator per item by default, every item done once labeled, no "import" in progress', async () => {
    const { page } = e2e;
    await page.getByRole('button', { name: 'New task…' }).click();
    expect(await page.getByLabel('Annotators per item').inputValue()).toBe('1');
    await page.getByLabel('Responses per prompt (K)').fill('3');
    await page.getByRole('button', { name: 'Create task' }).click();
    for (let item = 0; item < 2; item++) {
      const prompt = await page.getByTestId('prompt').textContent();
      for (const k of ['1', '2', '3']) await page.keyboard.press(k);
      if (item === 0) await e2e.screenshot('label-three-responses');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.getByTestId('save-state').textContent()).toBe('Submitted');
      if (item === 0) {
        await page.keyboard.press('Enter');
        await expect.poll(() => page.getByTestId('prompt').textContent()).not.toBe(prompt);
      }
    }
    await page.keyboard.press('p');
    const panel = page.getByRole('dialog', { name: 'Progress and agreement' });
    await expect.poll(() => panel.locator('.summary').textContent()).toMatch(/^\s*2 of 2 items done\s+\(1 annotator each\)/);
    expect(await panel.getByRole('table', { name: 'Progress per annotator' }).locator('tbody tr').allTextContents()).toEqual([expect.stringMatching(/^Ann Lee/)]);
    await e2e.screenshot('label-solo-progress');
    await page.keyboard.press('Escape');
  });

  it('the status bar shows the engine as soon as a run starts, without a reload', async () => {
    const { page } = e2e;
    expect(await page.getByTestId('backend').textContent()).toBe('not started yet');
    e2e.server.services.startJob('train-sft', { from: base, config: { max_steps: 40, batch_size: 2, eval_every: 10 }, name: 'wheel sft' }, 'SFT: wheel sft');
    await expect.poll(() => page.getByTestId('backend').textContent(), { timeout: 60_000 }).toBe('wasm');
    await expect.poll(() => project.runs.listRuns()[0]?.status, { timeout: 90_000 }).toBe('completed');
  });

  it('the wheel over a chart scrolls the Train pane; Ctrl+wheel, a drag and the keyboard zoom', async () => {
    const { page } = e2e;
    await page.keyboard.press('Control+3');
    const chart = page.locator('figure[data-metric="loss"]');
    await chart.locator('canvas').waitFor({ timeout: 20_000 });
    const reset = chart.getByTestId('reset-zoom');
    // How far every ancestor of the chart has scrolled.
    const scrolled = () =>
      chart.evaluate((el) => {
        let sum = window.scrollY;
        for (let e: HTMLElement | null = el.parentElement; e; e = e.parentElement) sum += e.scrollTop;
        return sum;
      });
    const box = (await chart.locator('canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, 400);
    await expect.poll(scrolled).toBeGreaterThan(0);
    expect(await reset.count()).toBe(0);

    await chart.locator('canvas').scrollIntoViewIfNeeded();
    const at = (await chart.locator('canvas').boundingBox())!;
    await page.mouse.move(at.x + at.width / 2, at.y + at.height / 2);
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -200);
    await page.keyboard.up('Control');
    await reset.waitFor();
    await reset.click();
    await expect.poll(() => reset.count()).toBe(0);

    // A drag across the steps zooms to them.
    await page.mouse.move(at.x + at.width * 0.3, at.y + at.height / 2);
    await page.mouse.down();
    await page.mouse.move(at.x + at.width * 0.7, at.y + at.height / 2, { steps: 5 });
    await page.mouse.up();
    await reset.waitFor();
    await e2e.screenshot('train-chart-zoomed');
    await page.mouse.dblclick(at.x + at.width / 2, at.y + at.height / 2);
    await expect.poll(() => reset.count()).toBe(0);

    // The keyboard: + zooms the focused chart, 0 resets it.
    await chart.locator('canvas').focus();
    await page.keyboard.press('+');
    await reset.waitFor();
    await page.keyboard.press('0');
    await expect.poll(() => reset.count()).toBe(0);
    expect(e2e.consoleErrors).toEqual([]);
  });
});

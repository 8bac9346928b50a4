// Deleting in the app: what goes with a record is listed before the user confirms, the record
// leaves the screen, and Undo brings it (and everything that went with it) back — a failed run in
// Train, a prompt with its responses in Data, a label task in Label.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../../src-main/store/project.js';
import { startE2E, type E2E } from './harness.js';

let e2e: E2E;
let project: Project;
let failedRun = 0;

describe('delete and undo', () => {
  beforeAll(async () => {
    e2e = await startE2E();
    project = e2e.server.services.project();
    failedRun = project.runs.createRun({ stage: 'sft', name: 'broken sft', config: { lr: 1 }, status: 'failed' });
    project.runs.setStatus(failedRun, 'failed', 'sequence exceeds n_positions 128');
    for (let s = 1; s <= 3; s++) project.runs.logMetrics(failedRun, s, { loss: 2 / s });
    project.runs.createRun({ stage: 'sft', name: 'good sft', config: {}, status: 'completed' });
    ['Where is my parcel?', 'How do I reset my password?'].forEach((text) => {
      const id = project.prompts.upsert(text).id;
      ['Track it.', 'Ask support.', 'No idea.'].forEach((a) => project.responses.upsert({ promptId: id, text: `${a} ${id}`, source: 'import' }));
    });
    await e2e.page.reload();
  });
  afterAll(async () => {
    await e2e?.close();
  });

  it('a failed run: the dialog lists its metric points, the run leaves the list, Undo brings it back', async () => {
    const { page } = e2e;
    await page.keyboard.press('Control+3');
    await page.getByRole('button', { name: /broken sft/ }).click();
    await page.getByTestId('delete-run').click();
    const dialog = page.getByRole('dialog', { name: /Delete run #\d+ “broken sft”\?/ });
    await expect.poll(() => dialog.getByTestId('delete-dependents').textContent()).toContain('3 metric points deleted');
    for (const size of [{ width: 1280, height: 800 }, { width: 1920, height: 1080 }]) {
      await page.setViewportSize(size);
      await e2e.screenshot(`delete-run-confirm-${size.width}`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await dialog.getByTestId('confirm-delete').click();
    await expect.poll(() => page.getByRole('button', { name: /broken sft/ }).count()).toBe(0);
    expect(project.runs.get(failedRun)).toBeNull();
    const toast = page.getByTestId('undo-toast');
    await expect.poll(() => toast.textContent()).toContain('Deleted run #');
    await e2e.screenshot('delete-undo-toast');
    await toast.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => page.getByRole('button', { name: /broken sft/ }).count()).toBe(1);
    expect(project.runs.metricsFor(failedRun, ['loss']).loss).toHaveLength(3);
    expect(await toast.count()).toBe(0);
  });

  it('a prompt goes with its responses, and comes back with them', async () => {
    const { page } = e2e;
    await page.keyboard.press('Control+1');
    const table = page.getByRole('table', { name: 'Prompts' });
    await table.locator('tbody tr', { hasText: 'Where is my parcel?' }).click();
    await page.getByTestId('delete-prompt').click();
    const dialog = page.getByRole('dialog', { name: /Delete prompt #\d+ “Where is my parcel\?”\?/ });
    await expect.poll(() => dialog.getByTestId('delete-dependents').textContent()).toBe('3 responses deleted');
    await dialog.getByTestId('confirm-delete').click();
    await expect.poll(() => table.locator('tbody tr', { hasText: 'Where is my parcel?' }).count()).toBe(0);
    expect(project.responses.forPrompt(project.prompts.upsert('How do I reset my password?').id)).toHaveLength(3);
    await page.getByTestId('undo-toast').getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => table.locator('tbody tr', { hasText: 'Where is my parcel?' }).count()).toBeGreaterThan(0);
    expect((project.db.prepare('SELECT count(*) AS n FROM responses').get() as { n: number }).n).toBe(6);

    // One response of the opened prompt: nothing else goes with it.
    await page.getByTestId('delete-response').first().click();
    const one = page.getByRole('dialog', { name: /Delete response #\d+/ });
    await expect.poll(() => one.textContent()).toContain('Nothing else depends on it.');
    await one.getByTestId('confirm-delete').click();
    await expect.poll(() => (project.db.prepare('SELECT count(*) AS n FROM responses').get() as { n: number }).n).toBe(5);

    // The toast is gone once dismissed; the trash in the Data view still has it.
    await page.getByTestId('undo-toast').getByRole('button', { name: 'Dismiss' }).click();
    const trash = page.getByTestId('trash');
    await trash.locator('summary').click();
    await expect.poll(() => trash.locator('li').first().textContent()).toMatch(/^response #\d+/);
    await e2e.screenshot('data-trash');
    await trash.locator('li').first().getByRole('button', { name: 'Restore' }).click();
    await expect.poll(() => (project.db.prepare('SELECT count(*) AS n FROM responses').get() as { n: number }).n).toBe(6);
  });

  it('a label task goes, and Undo brings it back to the picker', async () => {
    const { page } = e2e;
    await page.keyboard.press('Control+2');
    await page.getByRole('button', { name: 'New annotator' }).click();
    await page.keyboard.type('Solo');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'New task…' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Parcels');
    await page.getByLabel('Responses per prompt (K)').fill('2');
    await page.getByRole('button', { name: 'Create task' }).click();
    await expect.poll(() => page.locator('#task-select').textContent()).toContain('Parcels');
    await page.getByTestId('delete-task').click();
    const dialog = page.getByRole('dialog', { name: /Delete label task #\d+ “Parcels”\?/ });
    await expect.poll(() => dialog.getByTestId('delete-dependents').textContent()).toContain('2 label items deleted');
    await dialog.getByTestId('confirm-delete').click();
    await expect.poll(() => page.locator('#task-select').textContent()).not.toContain('Parcels');
    await page.getByTestId('undo-toast').getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => page.locator('#task-select').textContent()).toContain('Parcels');
  });

  it("a preference pair's ranking, and an annotator with their judgments, list what goes with them", async () => {
    const { page } = e2e;
    // Solo ranks the first item of "Parcels": one ranking of two responses, one preference pair.
    // The restored task opened again by itself.
    await page.getByTestId('prompt').waitFor();
    await page.keyboard.press('1');
    await page.keyboard.press('2');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('save-state').textContent()).toBe('Submitted');
    await page.keyboard.press('Control+1');
    await page.getByRole('tab', { name: /Preference pairs/ }).click();
    await page.getByRole('table', { name: 'Preference pairs' }).locator('tbody tr').first().click();
    await page.getByTestId('delete-ranking').click();
    const ranking = page.getByRole('dialog', { name: /Delete ranking #\d+\?/ });
    await expect.poll(() => ranking.getByTestId('delete-dependents').textContent()).toContain('1 preference pairs deleted');
    await ranking.getByRole('button', { name: 'Cancel' }).click();

    await page.keyboard.press('Control+2');
    await page.getByTestId('current-annotator').click();
    await page.getByTestId('delete-annotator').click();
    const annotator = page.getByRole('dialog', { name: /Delete annotator #\d+ “Solo”\?/ });
    await expect.poll(() => annotator.getByTestId('delete-dependents').textContent()).toMatch(/1 rankings deleted.*1 preference pairs deleted/);
    await annotator.getByTestId('confirm-delete').click();
    await expect.poll(() => page.getByRole('heading', { name: 'Who is labeling?' }).isVisible()).toBe(true);
    expect(project.annotators.byName('Solo')).toBeUndefined();
    expect(e2e.consoleErrors).toEqual([]);
  });
});

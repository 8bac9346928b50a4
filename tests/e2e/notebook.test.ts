// Runs as a team's lab notebook: rename a run, tag it and write a note; the run list filters by
// tag; the full config of one run is diffed against another's, naming the fields that differ.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSftConfig } from '../../src-main/engine/train/sft.js';
import { startE2E, type E2E } from './harness.js';

let e2e: E2E;
let a = 0;
let b = 0;

describe('runs notebook', () => {
  beforeAll(async () => {
    e2e = await startE2E();
    const project = e2e.server.services.project();
    a = project.runs.createRun({ stage: 'sft', name: 'SFT from base', config: { ...defaultSftConfig(), lr: 3e-4 }, status: 'completed' });
    b = project.runs.createRun({ stage: 'sft', name: 'SFT from base', config: { ...defaultSftConfig(), lr: 1e-3, batch_size: 16 }, status: 'completed' });
    for (const run of [a, b]) for (let s = 1; s <= 20; s++) project.runs.logMetrics(run, s, { loss: 3 / s + (run === b ? 0.1 : 0), lr: 1e-3 });
    await e2e.page.reload();
    await e2e.page.keyboard.press('Control+3');
  });
  afterAll(async () => {
    await e2e?.close();
  });

  it('renames, tags and notes a run, filters the list by tag, and diffs configs', async () => {
    const { page } = e2e;
    await page.getByRole('button', { name: new RegExp(`#${b} SFT from base`) }).click();
    const notebook = page.getByTestId('notebook');
    await notebook.locator('summary').click();
    const notes = notebook.getByRole('form', { name: 'Run notes' });
    await notes.getByLabel('Name').fill('SFT lr 1e-3');
    await notes.getByLabel('Tags').fill('lr sweep, baseline');
    await notes.getByLabel('Note').fill('Higher lr: loss falls faster, ends 0.1 above.');
    await notes.getByRole('button', { name: 'Save notes' }).click();
    await expect.poll(() => notes.getByRole('status').textContent()).toBe('Saved');
    expect(e2e.server.services.project().runs.get(b)).toMatchObject({ name: 'SFT lr 1e-3', tags: ['lr sweep', 'baseline'], note: 'Higher lr: loss falls faster, ends 0.1 above.' });

    await notebook.getByTestId('diff-against').selectOption(String(a));
    await expect.poll(() => notebook.getByTestId('diff-summary').textContent()).toMatch(/^2 of \d+ fields differ$/);
    expect(await notebook.getByRole('table', { name: 'Run config' }).locator('tbody tr td.key').allTextContents()).toEqual(['batch_size', 'lr']);
    for (const size of [{ width: 1280, height: 800 }, { width: 1920, height: 1080 }]) {
      await page.setViewportSize(size);
      await e2e.screenshot(`train-notebook-${size.width}`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });

    const list = page.getByRole('list', { name: 'Runs' });
    await page.getByLabel('Filter runs').fill('sweep');
    await expect.poll(() => list.locator('li').allTextContents()).toEqual([expect.stringMatching(/SFT lr 1e-3.*lr sweep.*baseline/)]);
    await page.getByLabel('Filter runs').fill('nothing-like-this');
    await expect.poll(() => list.textContent()).toContain('No run matches');
    expect(e2e.consoleErrors).toEqual([]);
  });
});

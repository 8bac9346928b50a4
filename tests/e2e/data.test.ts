// The Data view in a real browser: create a project by path, import a JSONL file through the
// page, browse, page and search the rows, and see a broken file refused with its line number.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2E, type E2E } from './harness.js';

const PAIRS = 120;

function preferencesJsonl(): string {
  return Array.from({ length: PAIRS }, (_, i) =>
    JSON.stringify({
      prompt: `How do I water plant number ${i + 1}${i === 76 ? ' in a zebra-striped pot' : ''}?`,
      chosen: `Water plant ${i + 1} when the top inch of soil is dry, then let it drain.`,
      rejected: `Plant ${i + 1} never needs water.`,
    }),
  ).join('\n');
}

describe('Data view', () => {
  let e2e: E2E;
  let good: string;
  let broken: string;
  beforeAll(async () => {
    e2e = await startE2E({ project: 'none' });
    good = join(e2e.dir, 'plants.jsonl');
    writeFileSync(good, preferencesJsonl() + '\n');
    broken = join(e2e.dir, 'broken.jsonl');
    writeFileSync(
      broken,
      [
        JSON.stringify({ prompt: 'A new prompt', chosen: 'yes', rejected: 'no' }),
        JSON.stringify({ prompt: 'Another new prompt', chosen: 'yes', rejected: 'no' }),
        JSON.stringify({ prompt: 'Broken record', rejected: 'no' }),
        JSON.stringify({ prompt: 'Never imported', chosen: 'yes', rejected: 'no' }),
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await e2e?.close();
  });

  const pagerText = () => e2e.page.locator('nav.pager .range').textContent();
  const pairsCount = () => e2e.page.getByRole('tab', { name: /Preference pairs/ }).locator('.count').textContent();

  it('creates a project from a typed path', async () => {
    const { page } = e2e;
    await expect.poll(() => page.getByRole('heading', { name: 'Open or create a project' }).isVisible()).toBe(true);
    await e2e.screenshot('data-no-project');
    await page.getByLabel('Project file path').fill(e2e.projectPath);
    await page.getByRole('button', { name: 'Create new' }).click();
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('e2e');
    await expect.poll(() => page.getByRole('table', { name: 'Prompts' }).textContent()).toContain('No prompts');
  });

  it('imports a preferences file through the page and shows its rows', async () => {
    const { page } = e2e;
    await page.locator('input[type=file]').setInputFiles(good);
    await page.getByLabel('Contains').selectOption('preferences');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Imported' }).textContent(), { timeout: 30_000 }).toContain(
      `Imported ${PAIRS} records from plants.jsonl`,
    );
    await expect.poll(pagerText).toBe(`1–50 of ${PAIRS}`);
    await page.getByRole('tab', { name: /Preference pairs/ }).click();
    await expect.poll(pairsCount).toBe(String(PAIRS));
    await expect.poll(pagerText).toBe(`1–50 of ${PAIRS}`);
    expect(await page.getByRole('table', { name: 'Preference pairs' }).locator('tbody tr').count()).toBe(50);
    await e2e.screenshot('data-pairs-1280');
  });

  it('pages with the buttons and with the keyboard', async () => {
    const { page } = e2e;
    await page.getByRole('button', { name: 'Next ›' }).click();
    await expect.poll(pagerText).toBe(`51–100 of ${PAIRS}`);
    await page.getByRole('button', { name: 'Last page' }).click();
    await expect.poll(pagerText).toBe(`101–120 of ${PAIRS}`);
    await page.getByRole('table', { name: 'Preference pairs' }).locator('tbody tr').first().focus();
    await page.keyboard.press('PageUp');
    await expect.poll(pagerText).toBe(`51–100 of ${PAIRS}`);
    await page.getByLabel('Rows per page').selectOption('100');
    await expect.poll(pagerText).toBe(`1–100 of ${PAIRS}`);
  });

  it('searches server-side and opens a row with Enter', async () => {
    const { page } = e2e;
    await page.keyboard.press('Escape');
    await page.locator('body').click({ position: { x: 5, y: 700 } });
    await page.keyboard.press('/');
    await page.keyboard.type('zebra');
    await expect.poll(pagerText).toBe('1–1 of 1');
    const row = page.getByRole('table', { name: 'Preference pairs' }).locator('tbody tr').first();
    expect(await row.textContent()).toContain('plant number 77 in a zebra-striped pot');
    await row.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('tr.details').textContent()).toContain('Water plant 77 when the top inch');
    await e2e.screenshot('data-search-open-row');
  });

  it('shows the prompts with their responses', async () => {
    const { page } = e2e;
    await page.getByRole('tab', { name: /Prompts/ }).click();
    await expect.poll(pagerText).toBe(`1–50 of ${PAIRS}`);
    await page.getByRole('table', { name: 'Prompts' }).locator('tbody tr').first().click();
    await expect.poll(() => page.locator('tr.details').textContent()).toContain('Plant 1 never needs water.');
  });

  it("keeps each tab's search and page when switching tabs", async () => {
    const { page } = e2e;
    await page.getByRole('tab', { name: /Preference pairs/ }).click();
    expect(await page.locator('input[type=search]').inputValue()).toBe('zebra');
    await expect.poll(pagerText).toBe('1–1 of 1');
    await page.getByRole('tab', { name: /Prompts/ }).click();
    await expect.poll(pagerText).toBe(`1–50 of ${PAIRS}`);
  });

  it('refuses a file with a broken line 3, names the line, and imports nothing', async () => {
    const { page } = e2e;
    await page.locator('input[type=file]').setInputFiles(broken);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Import failed' });
    await expect.poll(() => alert.textContent(), { timeout: 30_000 }).toContain('broken.jsonl:3');
    expect(await alert.textContent()).toContain('chosen');
    expect(await alert.textContent()).toContain('nothing was imported');
    await expect.poll(pairsCount).toBe(String(PAIRS));
    await e2e.screenshot('data-import-error');
    await page.locator('input[type=search]').fill('new prompt');
    await expect.poll(pagerText).toBe('No rows');
    // A search without hits says so, rather than asking for an import.
    expect(await page.locator('td.empty').textContent()).toBe('Nothing matches “new prompt”.');
  });

  it('imports SFT examples into the split chosen on the page', async () => {
    const { page } = e2e;
    const sft = join(e2e.dir, 'demos.jsonl');
    writeFileSync(
      sft,
      [1, 2, 3].map((i) => JSON.stringify({ prompt: `Greet visitor ${i}`, completion: `Hello, visitor ${i}!` })).join('\n'),
    );
    await page.locator('input[type=file]').setInputFiles(sft);
    await page.getByLabel('Contains').selectOption('sft');
    await page.getByLabel('Split').selectOption('eval');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByText('Imported 3 records from demos.jsonl').waitFor({ timeout: 30_000 });
    await page.getByRole('tab', { name: /SFT examples/ }).click();
    await expect.poll(pagerText).toBe('1–3 of 3');
    const rows = page.getByRole('table', { name: 'SFT examples' }).locator('tbody tr');
    expect(await rows.first().textContent()).toContain('Greet visitor 1');
    expect(await rows.first().textContent()).toContain('eval');
  });

  it('looks right at 1920×1080 too', async () => {
    await e2e.page.setViewportSize({ width: 1920, height: 1080 });
    await e2e.page.getByRole('tab', { name: /Prompts/ }).click();
    await e2e.page.locator('input[type=search]').fill('');
    await expect.poll(pagerText).toBe(`1–50 of ${PAIRS}`);
    await e2e.screenshot('data-prompts-1920');
  });

  it('exports the pairs as a download', async () => {
    const { page } = e2e;
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export JSONL' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/\.jsonl$/);
    await expect.poll(() => page.getByText(/Exported 120 records/).isVisible()).toBe(true);
  });

  it('switches to another project and back through the recent list', async () => {
    const { page } = e2e;
    await page.getByRole('button', { name: 'Open another project…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Open another project' });
    await dialog.getByLabel('Project file path').fill(join(e2e.dir, 'second.rlhf'));
    await dialog.getByRole('button', { name: 'Create new' }).click();
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('second');
    await expect.poll(() => dialog.isVisible()).toBe(false);
    await expect.poll(pairsCount).toBe('0');
    await page.getByRole('button', { name: 'Open another project…' }).click();
    await dialog.getByRole('button', { name: e2e.projectPath }).click();
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('e2e');
    await expect.poll(pairsCount).toBe(String(PAIRS));
  });

  it('logs no errors in the page', () => {
    expect(e2e.consoleErrors).toEqual([]);
  });
});

// Two tabs of one browser: switching project in one tab leaves the other on its project (across
// reloads too), and the switch is announced in the tab where it happened.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startE2E, type E2E } from './harness.js';

let e2e: E2E;
let other: Page;

describe('each tab keeps its project', () => {
  beforeAll(async () => {
    e2e = await startE2E();
    e2e.server.services.project().prompts.upsert('A prompt of the first project');
    other = await e2e.context.newPage();
    other.setDefaultTimeout(10_000);
    await other.goto(e2e.url);
  });
  afterAll(async () => {
    await e2e?.close();
  });

  it('a switch in one tab is announced there and moves no other tab', async () => {
    const { page } = e2e;
    await expect.poll(() => other.getByTestId('project-name').textContent()).toBe('e2e');
    await page.getByRole('button', { name: 'Open another project…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Open another project' });
    await dialog.getByLabel('Project file path').fill(join(e2e.dir, 'second.rlhf'));
    await dialog.getByRole('button', { name: 'Create new' }).click();
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('second');
    await expect.poll(() => page.getByTestId('switch-notice').textContent()).toBe('Switched from e2e to second in this tab. Other tabs and teammates stay on theirs.');
    await e2e.screenshot('project-switch-notice');

    // The other tab stays, live and after a reload; its tables still show its project's data.
    await other.waitForTimeout(500);
    expect(await other.getByTestId('project-name').textContent()).toBe('e2e');
    await other.reload();
    await expect.poll(() => other.getByTestId('project-name').textContent()).toBe('e2e');
    await expect.poll(() => other.getByRole('table', { name: 'Prompts' }).textContent()).toContain('A prompt of the first project');
    // The tab that switched keeps its choice across a reload.
    await page.reload();
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('second');
    await expect.poll(() => page.getByRole('table', { name: 'Prompts' }).textContent()).toContain('No prompts');
    // The process (and with it the teammates' and a new tab's project) is still the first one.
    expect(e2e.server.services.projectInfo()!.name).toBe('e2e');
    expect(e2e.consoleErrors).toEqual([]);
  });
});

// The app shell in a real browser: navigation by mouse and keyboard, the shortcuts overlay,
// the open project's name and the engine status, with no console or CSP errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2E, type E2E } from './harness.js';

describe('app shell in browser mode', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
  });
  afterAll(async () => {
    await e2e?.close();
  });

  it('shows the open project and the engine status', async () => {
    const { page } = e2e;
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('e2e');
    await expect.poll(() => page.locator('footer[aria-label="Status"]').textContent()).toContain('Connected');
    await expect.poll(() => page.getByTestId('backend').textContent()).not.toBe('');
  });

  it('switches views with the rail and with Ctrl+1…5', async () => {
    const { page } = e2e;
    await page.getByRole('button', { name: /Train/ }).click();
    expect(await page.locator('header h1').textContent()).toBe('Train');
    expect(await page.getByTestId('new-run').isVisible()).toBe(true);
    await e2e.screenshot('shell-empty-train');
    await page.keyboard.press('Control+2');
    expect(await page.locator('header h1').textContent()).toBe('Label');
    await page.keyboard.press('Control+5');
    expect(await page.locator('header h1').textContent()).toBe('Models');
    await page.keyboard.press('Control+1');
    expect(await page.locator('header h1').textContent()).toBe('Data');
  });

  it('opens and closes the shortcuts overlay with ? and Escape', async () => {
    const { page } = e2e;
    await page.locator('body').click({ position: { x: 600, y: 20 } });
    await page.keyboard.press('?');
    const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.textContent()).toContain('Go to Compare');
    await e2e.screenshot('shortcuts-overlay');
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Keyboard shortcuts' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await page.keyboard.press('Escape');
  });

  it('tells keys pressed together from alternatives in the shortcuts list', async () => {
    const { page } = e2e;
    await page.keyboard.press('Control+2');
    await page.locator('body').click({ position: { x: 600, y: 20 } });
    await page.keyboard.press('?');
    const overlay = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    const keysOf = async (does: string) => (await overlay.locator('dd', { hasText: does }).locator('xpath=preceding-sibling::dt[1]').textContent())!.replace(/\s+/g, '');
    // Alternatives are separated by "/" (and read out as "or"); a chord is not.
    expect(await keysOf('Pairwise: A better')).toContain('A/B/T/X');
    expect(await keysOf('Pairwise: A better')).toContain('AorBorTorX');
    expect(await keysOf('Previous / next item')).toContain('←/→');
    expect(await keysOf('Redo')).toMatch(/^(Ctrl|⌘)\+Shift\+Z(Ctrl|⌘)⇧Z$/);
    await e2e.screenshot('shortcuts-overlay-label');
    await page.keyboard.press('Escape');
  });

  it("keeps a view's single keys from acting behind the open shortcuts overlay", async () => {
    const { page } = e2e;
    await page.keyboard.press('Control+5');
    await page.locator('body').click({ position: { x: 600, y: 20 } });
    await page.keyboard.press('?');
    const overlay = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await expect.poll(() => overlay.isVisible()).toBe(true);
    // N is "New model" in this view: while the list is open it must not open that dialog too.
    await page.keyboard.press('n');
    await page.keyboard.press('Escape');
    await expect.poll(() => overlay.isVisible()).toBe(false);
    expect(await page.getByRole('dialog', { name: 'New model' }).count()).toBe(0);
    await page.keyboard.press('Control+1');
  });

  it('reconnects by itself when the server restarts', async () => {
    const { page } = e2e;
    const status = () => page.locator('footer[aria-label="Status"]').textContent();
    await e2e.restartServer(async () => {
      await expect.poll(status).toContain('Reconnecting…');
      await e2e.screenshot('shell-reconnecting');
    });
    await expect.poll(status, { timeout: 15_000 }).toContain('Connected');
    expect(await page.getByTestId('project-name').textContent()).toBe('e2e');
  });

  it('marks the demo project as one whose labels are simulated', async () => {
    const { page } = e2e;
    e2e.server.services.openDemo();
    const badge = page.getByTestId('demo-badge');
    await expect.poll(() => badge.textContent()).toContain('simulated labels');
    expect(await badge.getAttribute('title')).toContain('simulated annotators');
    await e2e.screenshot('shell-demo-badge');
    e2e.server.services.openProject(e2e.projectPath);
    await expect.poll(() => badge.count()).toBe(0);
  });

  it('logs no errors (CSP included)', () => {
    // While the server was down, the browser itself logs the refused reconnection attempts.
    const unexpected = e2e.consoleErrors.filter((m) => !/WebSocket connection to .*\/events.* failed/.test(m));
    expect(unexpected).toEqual([]);
  });
});

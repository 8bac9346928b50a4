// An invited LAN teammate's browser: the controls the server refuses them (opening projects,
// importing, training, models, new comparisons, cancelling jobs) are not offered, each view says
// in a sentence that this is the host's work, and nothing they can click ends in a refusal.
// Chromium resolves `teammate.test` to the loopback server, so the Host header is not loopback
// and the server treats the page exactly like a browser on another machine.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNewModel } from '../../src-main/engine/models/new-model.js';
import { runJobInProcess } from '../../src-main/jobs/run-in-process.js';
import { startServer, type RunningServer } from '../../src-main/server.js';
import { RENDERER_DIR, SCREENSHOT_DIR, startE2E, type E2E } from './harness.js';

let e2e: E2E;
let lan: RunningServer;
let context: BrowserContext;
let page: Page;
const refused: string[] = [];

async function shot(name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
}

describe('An invited teammate in browser mode', () => {
  beforeAll(async () => {
    e2e = await startE2E();
    const project = e2e.server.services.project();
    for (const a of ['cat', 'dog', 'cow', 'owl']) {
      project.sft.insert({ kind: 'completion', prompt: `What does a ${a} say?`, completion: ` A ${a} says hello.` });
    }
    const base = createNewModel(project, { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 32, vocab_size: 512, name: 'tiny base' }).checkpoint;
    // Trained enough that its answers differ from the base model's: blind judging shows only differing pairs.
    const { checkpoint: sft } = await runJobInProcess<{ checkpoint: number }>('train-sft', { from: base, config: { max_steps: 30, batch_size: 2, lr: 1e-2 }, name: 'tiny sft' }, project);
    // A finished comparison of the two checkpoints, for blind judging.
    const promptIds = ['What does a cat say?', 'What does a dog say?'].map((t) => project.prompts.upsert(t, { split: 'eval' }).id);
    const settings = { checkpoints: [base, sft], prompts: 'typed', prompt_ids: promptIds, temperature: 1, top_p: 1, max_tokens: 6, seed: 0, best_of_n: 1, reward_model: null };
    const setId = project.comparisonSets.create('base vs sft', settings);
    await runJobInProcess('compare', { setId, checkpoints: [base, sft], promptIds, temperature: 1, top_p: 1, max_tokens: 6, seed: 0, best_of_n: 1, reward_model: null }, project);
    const token = project.invites.create(project.annotators.ensure('alice'))!.token;
    lan = await startServer({ services: e2e.server.services, lan: true, host: '127.0.0.1', port: 0, rendererDir: RENDERER_DIR });
    context = await chromium.launchPersistentContext(join(e2e.dir, 'teammate-profile'), {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--host-resolver-rules=MAP teammate.test 127.0.0.1',
      ],
      viewport: { width: 1280, height: 800 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(10_000);
    page.on('response', (r) => {
      if (!r.url().includes('/api/')) return;
      void r.json().then(
        (body: { ok: boolean; error?: { code: string } }) => {
          if (!body.ok && body.error?.code === 'forbidden') refused.push(new URL(r.url()).pathname);
        },
        () => {},
      );
    });
    await page.goto(`http://teammate.test:${lan.port}/?token=${token}`);
    await page.getByTestId('invited-as').waitFor();
  }, 120_000);
  afterAll(async () => {
    await context?.close().catch(() => {});
    await lan?.close();
    await e2e?.close();
  });

  it('sees who they are signed in as, and no host-only control in Data', async () => {
    expect(await page.getByTestId('invited-as').textContent()).toContain('alice');
    await page.getByTestId('host-only-note').waitFor();
    expect(await page.getByRole('button', { name: 'Open another project…' }).count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Import' }).count()).toBe(0);
    await page.getByRole('tab', { name: /Preference pairs/ }).click();
    expect(await page.locator('td.empty').textContent()).toBe('No preference pairs yet.');
    // Exporting goes through the API as a download, which teammates may do; an empty export says so instead.
    await page.getByRole('heading', { name: 'Export' }).waitFor();
    await page.getByRole('button', { name: /^Export/ }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Nothing to export: the project has no preference pairs yet.');
    await page.getByLabel('What').selectOption('sft');
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: /^Export/ }).click();
    expect((await download).suggestedFilename()).toMatch(/\.jsonl$/);
    await shot('teammate-data');
  });

  it('watches runs in Train without New run, Stop/Resume or the host-only lineage', async () => {
    await page.keyboard.press('Control+3');
    await page.getByText('tiny sft').first().waitFor();
    await page.getByTestId('host-only-note').waitFor();
    expect(await page.getByTestId('new-run').count()).toBe(0);
    await page.keyboard.press('n');
    expect(await page.getByRole('form', { name: 'New run' }).count()).toBe(0);
    expect(await page.getByTestId('resume-run').count()).toBe(0);
    await shot('teammate-train');
    // The ? overlay lists only the keys that work for them.
    await page.keyboard.press('?');
    const overlay = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await overlay.getByText('Toggle log scale').waitFor();
    expect(await overlay.getByText('New run').count()).toBe(0);
    await page.keyboard.press('Escape');
  });

  it('finds the Models view explained instead of buttons the server refuses', async () => {
    await page.keyboard.press('Control+5');
    await page.getByRole('heading', { name: 'Models stay with the host' }).waitFor();
    expect(await page.getByTestId('new-model').count()).toBe(0);
    await shot('teammate-models');
  });

  it('cannot start a comparison, and judges blind as themselves', async () => {
    await page.keyboard.press('Control+4');
    await page.getByTestId('set-picker').locator('option', { hasText: 'base vs sft' }).waitFor({ state: 'attached' });
    expect(await page.getByTestId('new-compare').count()).toBe(0);
    expect(await page.getByRole('form', { name: 'New comparison' }).count()).toBe(0);
    await page.keyboard.press('j');
    // No annotator picker: the invite decides who votes.
    expect(await page.getByTestId('judging-as').textContent()).toContain('alice');
    expect(await page.getByLabel('New annotator name').count()).toBe(0);
    await page.getByTestId('blind-a').waitFor();
    await page.keyboard.press('1');
    await page.getByTestId('revealed').waitFor();
    await shot('teammate-compare');
    const db = e2e.server.services.project().db;
    expect(db.prepare("SELECT count(*) AS n FROM comparisons c JOIN annotators a ON a.id = c.annotator_id WHERE a.name = 'alice'").get()).toEqual({ n: 1 });
  });

  it('labels as themselves without task management', async () => {
    await page.keyboard.press('Control+2');
    await page.getByText('signed in by invite').waitFor();
    expect(await page.getByRole('button', { name: 'New task…' }).count()).toBe(0);
    // None of the page's own calls were refused along the way.
    expect(refused).toEqual([]);
  });
});

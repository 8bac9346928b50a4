// The Models view in a real browser: checkpoints with lineage and the backend, a new model made
// from the dialog, and the playground sampling from a checkpoint with its settings.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNewModel } from '../../src-main/engine/models/new-model.js';
import { runJobInProcess } from '../../src-main/jobs/run-in-process.js';
import { startE2E, type E2E } from './harness.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'gpt2-tiny');
let e2e: E2E;
let base: number;
let sft: number;

describe('Models view', () => {
  beforeAll(async () => {
    e2e = await startE2E({ viewport: { width: 1360, height: 880 } });
    const project = e2e.server.services.project();
    for (const a of ['cat', 'dog', 'cow', 'owl', 'fox', 'bee', 'ant', 'elk']) {
      project.sft.insert({ kind: 'completion', prompt: `What does a ${a} say?`, completion: ` A ${a} says hello.` });
    }
    base = createNewModel(project, { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 48, vocab_size: 512, name: 'tiny base' }).checkpoint;
    sft = (await runJobInProcess<{ checkpoint: number }>('train-sft', { from: base, config: { max_steps: 30, batch_size: 4, lr: 0.01 }, name: 'tiny sft' }, project)).checkpoint;
    await e2e.page.reload();
    await e2e.page.keyboard.press('Control+5');
  });
  afterAll(async () => {
    await e2e?.close();
  });

  it('lists checkpoints with their lineage and the backend in use', async () => {
    const { page } = e2e;
    await page.getByTestId('models-backend').waitFor();
    await expect.poll(() => page.getByTestId('checkpoint-row').count()).toBe(2);
    await expect.poll(() => page.getByTestId('models-backend').textContent()).toMatch(/Backend: (wasm|cpu|tensorflow)/);
    // Import a Hugging Face GPT-2 folder from the dialog (it runs as a job in the engine worker).
    await page.keyboard.press('i');
    // The dialog names every importable source: local folders of four families and Hub ids.
    await expect.poll(() => page.getByText('hf:HuggingFaceTB/SmolLM2-135M-Instruct', { exact: false }).count()).toBe(1);
    await page.setViewportSize({ width: 1280, height: 800 });
    await e2e.screenshot('models-import-dialog');
    await page.setViewportSize({ width: 1360, height: 880 });
    await page.getByTestId('folder-input').fill(fixture);
    await page.getByRole('button', { name: 'Import', exact: true }).last().click();
    await expect.poll(() => page.getByTestId('checkpoint-row').count(), { timeout: 20_000 }).toBe(3);
    expect(await page.locator('tr.selected').textContent()).toContain('gpt2-tiny');
    const sftRow = page.getByTestId('checkpoint-row').filter({ hasText: 'tiny sft' });
    expect((await sftRow.textContent())!.replace(/\s+/g, "")).toContain(`base#${base}→sft#${sft}`);
  });

  it('samples from the selected checkpoint in the playground', async () => {
    const { page } = e2e;
    await page.getByTestId('checkpoint-row').filter({ hasText: 'tiny sft' }).click();
    await page.getByTestId('prompt').fill('What does a cat say?');
    await page.getByTestId('setting-max_tokens').fill('16');
    await page.getByTestId('setting-temperature').fill('0.5');
    await page.getByTestId('setting-n').fill('2');
    await page.getByTestId('prompt').press('Control+Enter');
    await page.getByText(/tokens\/s · (wasm|cpu|tensorflow)/).waitFor({ timeout: 30_000 });
    const samples = page.getByTestId('outputs').locator('article');
    expect(await samples.count()).toBe(2);
    expect(await samples.first().textContent()).toContain('What does a cat say?');
    await e2e.screenshot('models-playground');
  });

  it('creates a new model from the dialog, which appears selected in the list', async () => {
    const { page } = e2e;
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('n');
    await page.getByTestId('new-n_layer').fill('1');
    await page.getByTestId('new-n_embd').fill('32');
    await page.getByTestId('new-n_positions').fill('32');
    await page.getByTestId('new-vocab_size').fill('512');
    await page.getByTestId('create-model').click();
    await expect.poll(() => page.getByTestId('checkpoint-row').count(), { timeout: 20_000 }).toBe(4);
    expect(await page.locator('tr.selected').textContent()).toContain('base 1L-32d');
    // The samples shown were made by another checkpoint: they are cleared.
    expect(await page.getByTestId('outputs').locator('article').count()).toBe(0);
    await e2e.screenshot('models-list');
    expect(e2e.consoleErrors).toEqual([]);
  });
});

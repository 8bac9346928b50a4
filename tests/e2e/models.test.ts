// The Models view in a real browser: checkpoints with lineage and the backend, imports from the
// local Hugging Face cache (a fake one under a temporary HF_HOME) and from a folder with the job's
// progress, family/size/dtype/LoRA/base in the list and the detail, a new model made from the
// dialog, and the playground sampling from a GPT-2 and a Llama checkpoint.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNewModel } from '../../src-main/engine/io/new-model.js';
import { runJobInProcess } from '../../src-main/jobs/run-in-process.js';
import { addToFakeHfCache } from '../main/api/fake-hf-cache.js';
import { startE2E, type E2E } from './harness.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const fixture = join(fixtures, 'gpt2-tiny');
const LLAMA_COMMIT = '1234567'.padEnd(40, '0');
// The app's engine workers read the cache from HF_HOME; set before the server starts them.
const hfHome = mkdtempSync(join(tmpdir(), 'e2e-hf-home-'));
delete process.env.HF_HUB_CACHE;
delete process.env.HUGGINGFACE_HUB_CACHE;
process.env.HF_HOME = hfHome;
process.env.HF_HUB_OFFLINE = '1';
addToFakeHfCache(join(hfHome, 'hub'), { repo: 'tiny/llama-tiny', from: join(fixtures, 'llama-tiny'), commit: LLAMA_COMMIT, refs: ['main'] });
addToFakeHfCache(join(hfHome, 'hub'), { repo: 'tiny/qwen2-tiny', from: join(fixtures, 'qwen2-tiny'), commit: 'f'.repeat(40) });
addToFakeHfCache(join(hfHome, 'hub'), { repo: 'google/bert-tiny', from: fixture, commit: 'e'.repeat(40), refs: ['main'], config: { model_type: 'bert' } });
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
    const sftRow = page.getByTestId('checkpoint-row').filter({ hasText: 'tiny sft' });
    expect((await sftRow.textContent())!.replace(/\s+/g, '')).toContain(`base#${base}→sft#${sft}`);
    expect(await sftRow.getByTestId('family').textContent()).toBe('gpt2');
  });

  it('imports a model listed from the local Hugging Face cache, with progress, and shows its family, dtype and base', async () => {
    const { page } = e2e;
    await page.keyboard.press('i');
    // The cache tab lists every snapshot; one that cannot be imported says why and cannot be picked.
    await expect.poll(() => page.getByTestId('cache-row').count()).toBe(3);
    const bert = page.getByTestId('cache-row').filter({ hasText: 'google/bert-tiny' });
    expect(await bert.textContent()).toContain('model_type "bert" is not supported (supported: gpt2, llama, qwen2, mistral)');
    expect(await bert.locator('input[type=radio]').isDisabled()).toBe(true);
    const llamaRow = page.getByTestId('cache-row').filter({ hasText: 'tiny/llama-tiny' });
    expect((await llamaRow.innerText()).replace(/\s+/g, ' ')).toMatch(/tiny\/llama-tiny main llama BF16 \d+\.\d kB/);
    await llamaRow.click();
    await page.setViewportSize({ width: 1280, height: 800 });
    await e2e.screenshot('models-import-dialog');
    await page.setViewportSize({ width: 1360, height: 880 });
    // Every state the progress bar passes through, however briefly it shows.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { progressSeen: string[] }).progressSeen = seen;
      new MutationObserver(() => {
        const bar = document.querySelector('[data-testid="import-progress"]');
        if (bar) seen.push(bar.textContent ?? '');
      }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    await page.getByTestId('import-submit').click();
    await expect.poll(() => page.getByTestId('checkpoint-row').count(), { timeout: 20_000 }).toBe(3);
    const progress = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
    expect(progress.join('\n')).toMatch(/converting the weights to float32\s*\d+ \/ \d+ tensors/);
    const selected = page.locator('tr.selected');
    expect((await selected.innerText()).replace(/\s+/g, ' ')).toMatch(/tiny\/llama-tiny BASE llama [\d.]+k [\d.]+ kB BF16 no 0/);
    expect(await page.getByTestId('detail-base').textContent()).toContain('itself, imported from hf:tiny/llama-tiny@1234567');
    expect(await page.getByTestId('detail-lora').textContent()).toContain('no (full weights)');

    // A Hub id not in the cache, offline: the dialog says so and stays open.
    await page.keyboard.press('i');
    await page.getByRole('tab', { name: 'Hub id' }).click();
    await page.getByTestId('hub-id').fill('tiny/absent');
    await page.getByTestId('import-submit').click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/hf:tiny\/absent@main is not in the Hugging Face cache .*HF_HUB_OFFLINE=1/);

    // A local folder.
    await page.getByRole('tab', { name: 'Folder' }).click();
    await page.getByTestId('folder-input').fill(fixture);
    await page.getByTestId('import-submit').click();
    await expect.poll(() => page.getByTestId('checkpoint-row').count(), { timeout: 20_000 }).toBe(4);
    expect(await page.locator('tr.selected').textContent()).toContain('gpt2-tiny');
    expect(await page.getByTestId('detail-base').textContent()).toContain(`imported from ${fixture}`);
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

  it('samples from an imported Llama-family checkpoint', async () => {
    const { page } = e2e;
    await page.getByTestId('checkpoint-row').filter({ hasText: 'tiny/llama-tiny' }).click();
    await page.getByTestId('prompt').fill('hello');
    await page.getByTestId('setting-n').fill('1');
    await page.getByTestId('generate').click();
    await page.getByText(/tokens\/s · (wasm|cpu|tensorflow)/).waitFor({ timeout: 30_000 });
    const sample = page.getByTestId('outputs').locator('article');
    expect(await sample.count()).toBe(1);
    expect((await sample.textContent())!.length).toBeGreaterThan('hello'.length);
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
    await expect.poll(() => page.getByTestId('checkpoint-row').count(), { timeout: 20_000 }).toBe(5);
    expect(await page.locator('tr.selected').textContent()).toContain('base 1L-32d');
    // The samples shown were made by another checkpoint: they are cleared.
    expect(await page.getByTestId('outputs').locator('article').count()).toBe(0);
    await e2e.screenshot('models-list');
    // The view at 1280×800 with the imported Llama selected: its family, BF16 source and base.
    await page.getByTestId('checkpoint-row').filter({ hasText: 'tiny/llama-tiny' }).click();
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(await page.getByTestId('checkpoint-detail').innerText()).toMatch(/llama \(2 layers · d 32 · 4 heads · 2 KV heads/);
    await e2e.screenshot('models-view');
    expect(e2e.consoleErrors).toEqual([]);
  });
});

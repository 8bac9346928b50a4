// LoRA adapters in the Models view (issue 15), as `model import --adapter` and `model export
// [--merged]` do them: a folder imported with a PEFT adapter folder becomes a base checkpoint and
// an adapter checkpoint on it; an adapter that does not fit the base is refused in the dialog and
// nothing is stored; an adapter checkpoint exports as a PEFT folder or merged into a full model.
// Screenshots: screenshots/models-adapter-{misfit,import,export}.png.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2E, type E2E } from './harness.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
let e2e: E2E;

describe('LoRA adapters in the Models view', () => {
  beforeAll(async () => {
    e2e = await startE2E();
    await e2e.page.keyboard.press('Control+5');
  });
  afterAll(async () => {
    await e2e?.close();
  });

  it('refuses an adapter that does not fit the base in the dialog, storing nothing', async () => {
    const { page } = e2e;
    await page.getByTestId('models-backend').waitFor();
    await page.keyboard.press('i');
    await page.getByRole('tab', { name: 'Folder' }).click();
    await page.getByTestId('folder-input').fill(join(fixtures, 'qwen2-tiny'));
    await page.getByTestId('adapter-input').fill(join(fixtures, 'llama-tiny-lora'));
    await page.getByTestId('import-submit').click();
    const dialog = page.getByRole('dialog');
    await expect.poll(() => dialog.getByRole('alert').textContent(), { timeout: 20_000 }).toMatch(/^Nothing was imported: LoRA weights of model\.layers\.0\.self_attn\.q_proj have the wrong size/);
    expect(await dialog.isVisible()).toBe(true);
    expect(e2e.server.services.project().checkpoints.list()).toHaveLength(0);
    await e2e.screenshot('models-adapter-misfit');

    // A folder that is not a PEFT adapter is refused before any job starts.
    await page.getByTestId('adapter-input').fill(join(fixtures, 'llama-tiny'));
    await page.getByTestId('import-submit').click();
    await expect.poll(() => dialog.getByRole('alert').textContent()).toMatch(/No PEFT adapter folder at .*llama-tiny \(adapter_config\.json is missing\)/);
    expect(e2e.server.services.project().checkpoints.list()).toHaveLength(0);
  });

  it('imports a base folder with its PEFT adapter as two checkpoints, the adapter on the base', async () => {
    const { page } = e2e;
    await page.getByTestId('folder-input').fill(join(fixtures, 'llama-tiny'));
    await page.getByTestId('adapter-input').fill(join(fixtures, 'llama-tiny-lora'));
    await e2e.screenshot('models-adapter-import');
    await page.getByTestId('import-submit').click();
    await expect.poll(() => page.getByTestId('checkpoint-row').count(), { timeout: 30_000 }).toBe(2);
    expect(await page.getByRole('dialog').count()).toBe(0);
    const [base, adapter] = e2e.server.services.project().checkpoints.list();
    expect(adapter!.parent_id).toBe(base!.id);
    // The new adapter is selected: its detail names the adapter and the base it sits on.
    expect(await page.locator('tr.selected').textContent()).toContain('llama-tiny + llama-tiny-lora');
    expect(await page.getByTestId('detail-lora').textContent()).toBe(`adapter r 4, alpha 8 on q_proj, v_proj, down_proj over #${base!.id}`);
  });

  it('exports the adapter checkpoint as a PEFT folder or merged into a full model', async () => {
    const { page } = e2e;
    const peft = join(e2e.dir, 'peft');
    await page.keyboard.press('e');
    const dialog = page.getByRole('dialog');
    await dialog.getByTestId('export-as').waitFor();
    expect(await dialog.getByTestId('export-peft').isChecked()).toBe(true);
    await dialog.getByTestId('folder-input').fill(peft);
    await e2e.screenshot('models-adapter-export');
    await dialog.getByRole('button', { name: 'Export' }).click();
    await expect.poll(() => page.getByRole('dialog').count(), { timeout: 20_000 }).toBe(0);
    expect(JSON.parse(readFileSync(join(peft, 'adapter_config.json'), 'utf8'))).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8 });
    expect(existsSync(join(peft, 'adapter_model.safetensors'))).toBe(true);
    expect(existsSync(join(peft, 'model.safetensors'))).toBe(false);

    const merged = join(e2e.dir, 'merged');
    await page.keyboard.press('e');
    await dialog.getByTestId('export-merged').check();
    await dialog.getByTestId('folder-input').fill(merged);
    await dialog.getByRole('button', { name: 'Export' }).click();
    await expect.poll(() => page.getByRole('dialog').count(), { timeout: 20_000 }).toBe(0);
    expect(existsSync(join(merged, 'model.safetensors'))).toBe(true);
    expect(JSON.parse(readFileSync(join(merged, 'config.json'), 'utf8'))).toMatchObject({ model_type: 'llama' });
    expect(existsSync(join(merged, 'adapter_config.json'))).toBe(false);

    // A checkpoint with full weights has nothing to choose.
    await page.getByTestId('checkpoint-row').first().click();
    await page.keyboard.press('e');
    await dialog.getByTestId('folder-input').waitFor();
    expect(await dialog.getByTestId('export-as').count()).toBe(0);
    await page.keyboard.press('Escape');
    expect(e2e.consoleErrors).toEqual([]);
  });
});

// LoRA from the app, stage after stage: SFT, the reward model and PPO each started from the New
// run form with a LoRA rank typed into the form's LoRA group. Each run finishes, writes an
// adapter checkpoint (adapter tensors over a base, not full weights), and the Models view shows
// it as an adapter. Screenshots: screenshots/train-lora-ppo-form.png, models-lora-ppo.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNewModel } from '../../src-main/engine/io/new-model.js';
import { startE2E, type E2E } from './harness.js';

let e2e: E2E;

const project = () => e2e.server.services.project();
const runNamed = (name: string) => project().runs.listRuns().find((r) => r.name === name);
const lastCheckpointOf = (name: string) => project().checkpoints.lastOfRun(runNamed(name)!.id)!;

describe('LoRA runs from the Train view', () => {
  beforeAll(async () => {
    e2e = await startE2E();
    const p = project();
    const who = p.annotators.ensure('ann');
    ['cat', 'dog', 'cow', 'owl', 'fox', 'bee'].forEach((a, i) => {
      p.sft.insert({ kind: 'completion', prompt: `Tell me about the ${a}.`, completion: ` The ${a} is good.` });
      const prompt = p.prompts.upsert(`Tell me about the ${a}.`).id;
      const ids = [`The ${a} is good and kind.`, `The ${a} is small.`].map((t) => p.responses.upsert({ promptId: prompt, text: t, source: 'human' }).id);
      p.preferences.insertRanking({ uid: `r${i}`, promptId: prompt, annotatorId: who, ranking: [[ids[0]!], [ids[1]!]], source: 'human' });
    });
    createNewModel(p, { family: 'llama', n_layer: 1, n_head: 2, n_embd: 16, n_positions: 32, vocab_size: 512, name: 'tiny llama' });
    await e2e.page.setViewportSize({ width: 1280, height: 800 });
    await e2e.page.reload();
    await e2e.page.keyboard.press('Control+3');
  });
  afterAll(async () => {
    await e2e?.close();
  });

  /** Opens the form on a stage, starting from the checkpoint whose option names `from`, with LoRA rank 4. */
  async function loraForm(stage: string, from: string) {
    const { page } = e2e;
    const form = page.getByRole('form', { name: 'New run' });
    if (!(await form.isVisible())) await page.keyboard.press('n');
    await form.getByTestId('stage').selectOption(stage);
    const value = await form.getByTestId('from').locator('option', { hasText: from }).first().getAttribute('value');
    await form.getByTestId('from').selectOption(value!);
    const lora = form.getByTestId('group-lora');
    await expect.poll(() => lora.locator('legend').textContent()).toBe('LoRA');
    await lora.locator('[data-key="lora_r"] input').fill('4');
    await lora.locator('[data-key="lora_alpha"] input').fill('8');
    return form;
  }

  async function start(form: ReturnType<typeof e2e.page.getByRole>, name: string) {
    await e2e.page.getByLabel('Run name').fill(name);
    await expect.poll(() => form.getByTestId('start-blockers').count(), { timeout: 10_000 }).toBe(0);
    await form.getByTestId('start-run').click();
    await expect.poll(() => runNamed(name)?.status, { timeout: 120_000 }).toBe('completed');
  }

  it('SFT, the reward model and PPO each train adapters when a rank is set in the form', async () => {
    const sftForm = await loraForm('sft', 'tiny llama');
    await sftForm.locator('[data-key="max_steps"] input').fill('2');
    await sftForm.locator('[data-key="batch_size"] input').fill('4');
    await start(sftForm, 'lora sft');
    const sft = lastCheckpointOf('lora sft');
    expect(sft.extra?.adapter).toMatchObject({ r: 4, alpha: 8, targets: ['q_proj', 'v_proj'] });

    const rmForm = await loraForm('rm', 'lora sft');
    await rmForm.locator('[data-key="epochs"] input').fill('1');
    await rmForm.getByTestId('advanced').locator('summary').click();
    await rmForm.locator('[data-key="norm_samples"] input').fill('4');
    await rmForm.locator('[data-key="norm_max_new_tokens"] input').fill('4');
    await start(rmForm, 'lora rm');
    const rm = lastCheckpointOf('lora rm');
    expect(rm.extra?.adapter).toMatchObject({ r: 4 });
    // Adapter and score head only: far smaller than the SFT base's full weights.
    const base = project().checkpoints.get((rm.extra!.adapter as { base: number }).base)!;
    expect(base.extra?.adapter).toBeUndefined();
    expect(rm.weights_bytes).toBeLessThan(base.weights_bytes / 2);

    const ppoForm = await loraForm('ppo', 'lora sft');
    await ppoForm.locator('[data-key="reward_model"] select').selectOption({ label: (await ppoForm.locator('[data-key="reward_model"] option', { hasText: 'lora rm' }).first().textContent())! });
    await ppoForm.locator('[data-key="steps"] input').fill('2');
    await ppoForm.locator('[data-key="batch_size"] input').fill('4');
    await ppoForm.locator('[data-key="num_mini_batches"] input').fill('2');
    await ppoForm.locator('[data-key="max_new_tokens"] input').fill('4');
    await ppoForm.getByTestId('group-lora').scrollIntoViewIfNeeded();
    await e2e.screenshot('train-lora-ppo-form');
    await start(ppoForm, 'lora ppo');
    const ppo = lastCheckpointOf('lora ppo');
    expect(ppo.extra?.adapter).toMatchObject({ r: 4, alpha: 8 });
    expect(runNamed('lora ppo')).toMatchObject({ stage: 'ppo', step: 2, config: expect.objectContaining({ lora_r: 4 }) });

    // The Models view lists the PPO checkpoint as an adapter over its base.
    const { page } = e2e;
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+5');
    const row = page.getByTestId('checkpoint-row').filter({ hasText: 'lora ppo' }).first();
    await row.click();
    await expect.poll(() => page.getByTestId('detail-lora').textContent()).toContain('adapter r 4, alpha 8 on q_proj, v_proj');
    await e2e.screenshot('models-lora-ppo');
  });
});

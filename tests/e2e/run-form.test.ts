// The New run form as a user meets it: fields grouped with human labels (the TRL key in small
// type), what blocks the start said beside Start, Ctrl+Enter typed straight after an edit either
// starts the run or says why not, presets fill the form; and a reward-model run over a prompt
// longer than the model's context finishes and names that prompt in the run's warnings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNewModel } from '../../src-main/engine/io/new-model.js';
import { runJobInProcess } from '../../src-main/jobs/run-in-process.js';
import { startE2E, type E2E } from './harness.js';

let e2e: E2E;
let longPrompt = 0;

const runNamed = (name: string) => e2e.server.services.project().runs.listRuns().find((r) => r.name === name);

describe('New run form', () => {
  beforeAll(async () => {
    e2e = await startE2E();
    const project = e2e.server.services.project();
    const who = project.annotators.ensure('ann');
    ['cat', 'dog', 'cow', 'owl', 'fox', 'bee'].forEach((a, i) => {
      project.sft.insert({ kind: 'completion', prompt: `Tell me about the ${a}.`, completion: ` The ${a} is good.` });
      const text = i === 3 ? `Tell me about the ${a}. ${'It hunts at night and sleeps by day in the old barn. '.repeat(6)}` : `Tell me about the ${a}.`;
      const prompt = project.prompts.upsert(text).id;
      if (i === 3) longPrompt = prompt;
      const ids = [`The ${a} is good and kind.`, `The ${a} is small.`].map((t) => project.responses.upsert({ promptId: prompt, text: t, source: 'human' }).id);
      project.preferences.insertRanking({ uid: `r${i}`, promptId: prompt, annotatorId: who, ranking: [[ids[0]!], [ids[1]!]], source: 'human' });
    });
    const base = createNewModel(project, { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 32, vocab_size: 512, name: 'tiny base' }).checkpoint;
    await runJobInProcess('train-sft', { from: base, config: { max_steps: 2, batch_size: 4 }, name: 'setup sft' }, project);
    await e2e.page.reload();
    await e2e.page.keyboard.press('Control+3');
  });
  afterAll(async () => {
    await e2e?.close();
  });

  it('a reward-model run over a prompt longer than the context finishes and names the prompt in its warnings', async () => {
    const { page } = e2e;
    await page.keyboard.press('n');
    const form = page.getByRole('form', { name: 'New run' });
    await form.getByTestId('stage').selectOption('rm');
    await form.locator('[data-key="epochs"] input').fill('1');
    await form.getByTestId('advanced').locator('summary').click();
    await form.locator('[data-key="norm_samples"] input').fill('4');
    await form.locator('[data-key="norm_max_new_tokens"] input').fill('4');
    await page.getByLabel('Run name').fill('rm with a long prompt');
    await form.getByTestId('start-run').click();
    await page.getByRole('heading', { name: /rm with a long prompt/ }).waitFor({ timeout: 60_000 });
    await expect.poll(() => runNamed('rm with a long prompt')?.status, { timeout: 90_000 }).toBe('completed');
    const warnings = page.getByTestId('health');
    await expect.poll(() => warnings.textContent(), { timeout: 20_000 }).toContain('long records');
    expect(await warnings.textContent()).toContain(`prompt #${longPrompt}`);
    await e2e.screenshot('train-long-records');
  });

  it('groups the fields, says what is missing beside Start, and Ctrl+Enter right after an edit starts or says why not', async () => {
    const { page } = e2e;
    await page.keyboard.press('n');
    const form = page.getByRole('form', { name: 'New run' });
    // Every stage has its LoRA fields in a group of their own.
    await form.getByTestId('stage').selectOption('sft');
    const lora = form.getByTestId('group-lora');
    await expect.poll(() => lora.locator('legend').textContent()).toBe('LoRA');
    expect(await lora.locator('[data-key]').evaluateAll((els) => els.map((e) => e.getAttribute('data-key')))).toEqual(['lora_r', 'lora_alpha', 'lora_dropout', 'lora_targets']);
    await form.getByTestId('stage').selectOption('dpo');
    await expect.poll(() => form.getByTestId('group-lora').locator('[data-key="lora_r"]').textContent()).toContain('the reference is then the same weights with them off');
    await form.getByTestId('stage').selectOption('ppo');
    // Essentials first, with human labels and the TRL key in small type; the rest collapsed.
    const essentials = form.getByTestId('group-essentials');
    await expect.poll(() => essentials.locator('.label').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Reward model reward_model/), expect.stringMatching(/^KL penalty β kl_coef/), expect.stringMatching(/^Learning rate lr/)]),
    );
    expect(await form.locator('[data-key="ratio_threshold"]').isVisible()).toBe(false);
    expect(await form.locator('[data-key="lam"]').textContent()).toContain('GAE λ');
    expect(await form.locator('[data-key="ratio_threshold"]').textContent()).toContain('Ratio guard');
    await expect.poll(() => form.getByTestId('start-blockers').textContent()).toBe('To start: choose Reward model');
    for (const size of [{ width: 1280, height: 800 }, { width: 1920, height: 1080 }]) {
      await page.setViewportSize(size);
      await e2e.screenshot(`train-new-run-${size.width}`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });

    // Ctrl+Enter typed straight after an edit, before the form has re-validated: refused, and said.
    await form.locator('[data-key="steps"] input').fill('3');
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => form.getByRole('alert').filter({ hasText: 'Not started' }).textContent()).toContain('choose Reward model');

    // A bad value typed and Ctrl+Enter at once: the value is checked then, and named as the form shows it.
    await form.locator('[data-key="reward_model"] select').selectOption({ index: 1 });
    await form.locator('[data-key="lr"] input').fill('0');
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => form.getByTestId('start-blockers').textContent()).toBe('Not started — fix Learning rate');
    expect(await form.locator('[data-key="lr"] .err').textContent()).toBe('Must be a number above 0 to 1.');

    // The Demo-sized preset fills the form with the demo's PPO settings (the reward model stays chosen).
    await form.getByRole('button', { name: 'Demo-sized' }).click();
    expect(await form.locator('[data-key="kl_coef"] input').inputValue()).toBe('0.15');
    expect(await form.locator('[data-key="reward_model"] select').inputValue()).not.toBe('');

    // An absurd length is said in words and starts only once confirmed.
    await form.locator('[data-key="steps"] input').fill('1000000000000');
    await expect.poll(() => form.getByTestId('length-check').textContent()).toContain('Iterations 1,000,000,000,000: no run of this stage has been timed yet.');
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => form.getByTestId('start-blockers').textContent()).toContain('confirm Iterations');
    expect(runNamed('quick ppo')).toBeUndefined();

    // Fixed and started at once with Ctrl+Enter, the last edit included.
    await form.getByRole('button', { name: 'Defaults' }).click();
    await form.locator('[data-key="reward_model"] select').selectOption({ index: 1 });
    await form.locator('[data-key="batch_size"] input').fill('2');
    await form.locator('[data-key="num_mini_batches"] input').fill('1');
    await form.locator('[data-key="max_new_tokens"] input').fill('4');
    await page.getByLabel('Run name').fill('quick ppo');
    await form.locator('[data-key="steps"] input').fill('2');
    await page.keyboard.press('Control+Enter');
    await page.getByRole('heading', { name: /quick ppo/ }).waitFor({ timeout: 60_000 });
    expect(runNamed('quick ppo')!.total_steps).toBe(2);
    await expect.poll(() => runNamed('quick ppo')?.status, { timeout: 90_000 }).toBe('completed');
  });
});

// RLOO and GRPO from the Train view, as a user meets them: the New run form offers both stages,
// with their own settings grouped (group size, β, KL estimator, clipping, loss aggregation,
// advantage scaling …) each with its default; a run started from the form finishes, draws its
// curves under TRL's names and shows its samples group by group, each answer with its score and
// advantage. Screenshots: screenshots/train-{rloo,grpo}-form.png, train-rloo-run.png, train-rloo-samples.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNewModel } from '../../src-main/engine/io/new-model.js';
import { runJobInProcess } from '../../src-main/jobs/run-in-process.js';
import { startE2E, type E2E } from './harness.js';

let e2e: E2E;

const runNamed = (name: string) => e2e.server.services.project().runs.listRuns().find((r) => r.name === name);

describe('RLOO and GRPO in the Train view', () => {
  beforeAll(async () => {
    e2e = await startE2E();
    const project = e2e.server.services.project();
    const who = project.annotators.ensure('ann');
    ['cat', 'dog', 'cow', 'owl', 'fox', 'bee'].forEach((a, i) => {
      project.sft.insert({ kind: 'completion', prompt: `Tell me about the ${a}.`, completion: ` The ${a} is good.` });
      const prompt = project.prompts.upsert(`Tell me about the ${a}.`).id;
      const ids = [`The ${a} is good and kind.`, `The ${a} is small.`].map((t) => project.responses.upsert({ promptId: prompt, text: t, source: 'human' }).id);
      project.preferences.insertRanking({ uid: `r${i}`, promptId: prompt, annotatorId: who, ranking: [[ids[0]!], [ids[1]!]], source: 'human' });
    });
    const base = createNewModel(project, { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 32, vocab_size: 512, name: 'tiny base' }).checkpoint;
    const sft = await runJobInProcess<{ checkpoint: number }>('train-sft', { from: base, config: { max_steps: 2, batch_size: 4 }, name: 'setup sft' }, project);
    await runJobInProcess('train-rm', { from: sft.checkpoint, config: { epochs: 1, norm_samples: 4, norm_max_new_tokens: 4 }, name: 'setup rm' }, project);
    await e2e.page.setViewportSize({ width: 1280, height: 800 });
    await e2e.page.reload();
    await e2e.page.keyboard.press('Control+3');
  });
  afterAll(async () => {
    await e2e?.close();
  });

  it('the form groups GRPO’s settings with their defaults and descriptions, and a GRPO run started from it finishes', async () => {
    const { page } = e2e;
    await page.keyboard.press('n');
    const form = page.getByRole('form', { name: 'New run' });
    await form.getByTestId('stage').selectOption('grpo');
    expect(await form.getByTestId('stage-summary').textContent()).toContain('Group Relative Policy Optimization');
    const essentials = form.getByTestId('group-essentials');
    await expect.poll(() => essentials.locator('.label').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Reward model reward_model/), expect.stringMatching(/^Group size num_generations/), expect.stringMatching(/^KL weight β beta/)]),
    );
    const settings = form.getByTestId('group-stage');
    expect(await settings.locator('legend').textContent()).toBe('GRPO settings');
    const keys = await settings.locator('[data-key]').evaluateAll((els) => els.map((e) => e.getAttribute('data-key')));
    expect(keys).toEqual(expect.arrayContaining(['epsilon', 'epsilon_high', 'loss_type', 'scale_rewards', 'num_iterations']));
    expect(await form.locator('[data-key="loss_type"]').textContent()).toContain('Default bnpo.');
    expect(await form.locator('[data-key="num_generations"]').textContent()).toContain('Default 4.');
    expect(await form.locator('[data-key="epsilon_high"]').textContent()).toContain('DAPO');
    await expect.poll(() => form.getByTestId('start-blockers').textContent()).toBe('To start: choose Reward model');
    await e2e.screenshot('train-grpo-form');

    // Started from the form, it runs in the engine worker to the end, and its samples come in groups of num_generations.
    await form.locator('[data-key="reward_model"] select').selectOption({ index: 1 });
    await form.locator('[data-key="steps"] input').fill('2');
    await form.locator('[data-key="prompts_per_step"] input').fill('2');
    await form.locator('[data-key="num_generations"] input').fill('2');
    await form.locator('[data-key="max_new_tokens"] input').fill('4');
    await page.getByLabel('Run name').fill('quick grpo');
    await expect.poll(() => form.getByTestId('start-blockers').count(), { timeout: 10_000 }).toBe(0);
    await form.getByTestId('start-run').click();
    await page.getByRole('heading', { name: /quick grpo/ }).waitFor({ timeout: 60_000 });
    await expect.poll(() => runNamed('quick grpo')?.status, { timeout: 90_000 }).toBe('completed');
    expect(runNamed('quick grpo')).toMatchObject({ stage: 'grpo', step: 2, config: expect.objectContaining({ num_generations: 2, loss_type: 'bnpo' }) });
    await expect.poll(() => page.locator('figure[data-metric="reward_std"]').count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => page.getByTestId('sample-group').count(), { timeout: 20_000 }).toBe(2);
    expect(await page.getByTestId('sample-group').first().locator('tr').count()).toBe(3);
    await page.keyboard.press('n');
  });

  it('an RLOO run started from the form finishes with its curves and its samples shown group by group', async () => {
    const { page } = e2e;
    const form = page.getByRole('form', { name: 'New run' });
    await form.getByTestId('stage').selectOption('rloo');
    await page.getByLabel('Run name').fill('');
    const settings = form.getByTestId('group-stage');
    expect(await settings.locator('legend').textContent()).toBe('RLOO settings');
    const keys = await settings.locator('[data-key]').evaluateAll((els) => els.map((e) => e.getAttribute('data-key')));
    expect(keys).toEqual(expect.arrayContaining(['kl_estimator', 'token_level_kl', 'cliprange', 'normalize_advantage', 'num_ppo_epochs']));
    expect(await form.locator('[data-key="rloo_k"]').textContent()).toContain('Answers per prompt (k)');
    await form.locator('[data-key="reward_model"] select').selectOption({ index: 1 });
    await expect.poll(() => form.getByTestId('start-blockers').count(), { timeout: 10_000 }).toBe(0);
    await e2e.screenshot('train-rloo-form');
    await form.locator('[data-key="steps"] input').fill('4');
    await form.locator('[data-key="prompts_per_step"] input').fill('2');
    await form.locator('[data-key="rloo_k"] input').fill('3');
    await form.locator('[data-key="max_new_tokens"] input').fill('5');
    await form.getByTestId('advanced').locator('summary').click();
    await form.locator('[data-key="sample_every"] input').fill('2');
    await page.getByLabel('Run name').fill('quick rloo');
    await form.getByTestId('start-run').click();
    await page.getByRole('heading', { name: /quick rloo/ }).waitFor({ timeout: 60_000 });
    await expect.poll(() => runNamed('quick rloo')?.status, { timeout: 90_000 }).toBe('completed');
    const run = runNamed('quick rloo')!;
    expect(run).toMatchObject({ stage: 'rloo', step: 4 });

    // The view catches up with the finished run (its header says so) before it is read.
    await expect.poll(() => page.locator(`li[data-run-id="${run.id}"]`).getAttribute('data-status'), { timeout: 20_000 }).toBe('completed');
    await expect.poll(() => page.getByTestId('sample-step').locator('option').allTextContents(), { timeout: 20_000 }).toEqual(['1', '2', '4']);
    await page.getByTestId('sample-step').selectOption('4');

    // Curves under TRL's names.
    await expect.poll(() => page.getByRole('region', { name: 'objective metrics' }).textContent(), { timeout: 20_000 }).toContain('objective/scores');
    await e2e.screenshot('train-rloo-run');

    // The latest sample table: two groups of three answers, each under its prompt, with scores and advantages.
    const groups = page.getByTestId('sample-group');
    await expect.poll(() => groups.count(), { timeout: 20_000 }).toBe(2);
    for (const g of await groups.all()) {
      expect(await g.locator('tr').count()).toBe(4);
      expect(await g.locator('.group-head').textContent()).toMatch(/Group \d · 3 answers · mean score -?\d/);
      expect(await g.locator('.group-head').textContent()).toContain('Tell me about the');
    }
    const advantages = await groups.first().locator('td:nth-child(3)').allTextContents();
    expect(advantages).toHaveLength(3);
    // RLOO's leave-one-out advantages of one group sum to zero.
    expect(Math.abs(advantages.map(Number).reduce((a, b) => a + b, 0))).toBeLessThan(0.01);
    await page.getByTestId('sample-groups').scrollIntoViewIfNeeded();
    await e2e.screenshot('train-rloo-samples');
  });
});

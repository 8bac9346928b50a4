// The Label view in a real browser, keyboard only: rank 4 responses with a tie, undo, re-rank,
// flag and submit; a draft survives a reload; a second annotator in a second browser agrees or
// not and the agreement appears; a pairwise vote hides, then reveals, the sources.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNewModel } from '../../src-main/engine/models/new-model.js';
import { startServer } from '../../src-main/server.js';
import type { Project } from '../../src-main/store/project.js';
import { RENDERER_DIR, SCREENSHOT_DIR, startE2E, type E2E } from './harness.js';

const PROMPTS = [
  'My order arrived broken. What should I do?',
  'How do I change the email address on my account?',
  'Can I get a refund after 40 days?',
];

function seed(project: Project): void {
  const ckpt = project.db
    .prepare(
      `INSERT INTO checkpoints (name, stage, model_config, tokenizer, weights, sha256, created_at)
       VALUES ('sft-final', 'sft', '{}', '{}', x'00', 'e2e', ?) RETURNING id`,
    )
    .get(Date.now()) as { id: number };
  PROMPTS.forEach((text, i) => {
    const { id } = project.prompts.upsert(text);
    const answers = [
      `I'm sorry to hear that. Reply with a photo and your order number and we'll send a replacement today. (${i})`,
      `That is not our problem. (${i})`,
      `Please contact support. (${i})`,
      `Sorry about that! You can start a return from Orders › Return item, and we'll refund you within 3 days. (${i})`,
    ];
    answers.forEach((a, j) =>
      project.responses.upsert({ promptId: id, text: a, source: j % 2 ? 'checkpoint' : 'import', checkpointId: j % 2 ? ckpt.id : null }),
    );
  });
}

describe('Label view', () => {
  let e2e: E2E;
  let page: Page;
  let project: Project;
  let second: Browser | undefined;
  const contexts: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    e2e = await startE2E();
    page = e2e.page;
    project = e2e.server.services.project();
    seed(project);
    project.labeling.setGuidelines('# How to rank\n\n- Prefer answers with **one concrete next step**.\n- Rudeness ranks last.');
    await page.keyboard.press('Control+2');
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await second?.close();
    await e2e?.close();
  });

  const tier = (p: Page, n: number) => p.getByTestId(`tier-${n}`).textContent();

  it('asks who is labeling, then creates an annotator and a task from the keyboard-reachable controls', async () => {
    await expect.poll(() => page.getByRole('heading', { name: 'Who is labeling?' }).isVisible()).toBe(true);
    await e2e.screenshot('label-no-annotator');
    await page.getByRole('button', { name: 'New annotator' }).click();
    await page.getByLabel('Name').fill('Ann');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('current-annotator').textContent()).toContain('Ann');
    await expect.poll(() => page.getByRole('heading', { name: 'No labeling tasks yet' }).isVisible()).toBe(true);

    await page.getByRole('button', { name: 'New task…' }).click();
    await page.getByLabel('Name').fill('Support answers');
    await page.getByLabel('Annotators per item').fill('2');
    await e2e.screenshot('label-new-task');
    await page.getByRole('button', { name: 'Create task' }).click();
    await expect.poll(() => page.getByTestId('prompt').textContent()).toBeTruthy();
    await e2e.screenshot('label-ranking-empty');
  });

  it('ranks 4 responses with the keyboard alone, undoes, re-ranks with a tie, flags and submits', async () => {
    const promptText = (await page.getByTestId('prompt').textContent())!;
    // 3 first, then 1, then 4 tied with 1, then 2.
    await page.keyboard.press('3');
    await page.keyboard.press('1');
    await page.keyboard.press('Shift+4');
    await page.keyboard.press('2');
    await expect.poll(() => tier(page, 2)).toMatch(/Response 1\s*=\s*Response 4/);
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+z');
    expect(await page.getByTestId('tier-3').count()).toBe(0);
    expect(await tier(page, 2)).toMatch(/^2\s*Response 1\s*$/);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => tier(page, 2)).toMatch(/Response 1\s*=\s*Response 4/);
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    expect(await page.getByTestId('tier-2').count()).toBe(0);
    // Re-rank: now 4 takes second place alone, 1 and 2 tie for third.
    await page.keyboard.press('4');
    await page.keyboard.press('1');
    await page.keyboard.press('Shift+2');
    await expect.poll(() => tier(page, 3)).toMatch(/Response 1\s*=\s*Response 2/);
    await page.keyboard.press('u');
    await page.keyboard.press('c');
    await page.keyboard.type('Response 2 is rude.');
    await page.keyboard.press('Escape');
    await e2e.screenshot('label-ranking-tie-flag');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('save-state').textContent()).toBe('Submitted');
    await expect.poll(() => page.locator('.source').first().textContent()).toMatch(/Source: (imported|checkpoint sft-final)/);
    await e2e.screenshot('label-submitted-sources');

    // In the project: one submitted ranking with the tie, the flag, the comment and the time.
    const ann = project.annotators.byName('Ann')!;
    const task = project.labeling.tasks()[0]!;
    const item = project.labeling.items(task.id).find((i) => project.prompts.get(i.prompt_id)!.text === promptText)!;
    const r = project.labeling.ranking(item.id, ann.id)!;
    const [n1, n2, n3, n4] = item.response_ids as [number, number, number, number];
    expect(r.status).toBe('submitted');
    expect(r.ranking).toEqual([[n3], [n4], [n1, n2]]);
    expect(r.flags).toEqual(['unsafe']);
    expect(r.comment).toBe('Response 2 is rude.');
    expect(r.seconds_spent).toBeGreaterThan(0);
  });

  it('keeps a draft across a page reload', async () => {
    const first = await page.getByTestId('prompt').textContent();
    await page.keyboard.press('Enter'); // next item
    await expect.poll(() => page.getByTestId('prompt').textContent()).not.toBe(first);
    expect(await page.getByTestId('queue').textContent()).toContain('1 submitted');
    await page.keyboard.press('2');
    await page.keyboard.press('Shift+3');
    await expect.poll(() => page.getByTestId('save-state').textContent(), { timeout: 5000 }).toBe('Draft saved');
    const promptText = await page.getByTestId('prompt').textContent();
    await page.reload();
    await page.keyboard.press('Control+2');
    await expect.poll(() => page.getByTestId('prompt').textContent()).toBe(promptText);
    await expect.poll(() => tier(page, 1)).toMatch(/Response 2\s*=\s*Response 3/);
    await expect.poll(() => page.getByTestId('queue').textContent()).toContain('1 drafts');
    await e2e.screenshot('label-draft-restored');
    // The mouse path: dragging response 4 onto the first rank ties it there.
    await page.getByTestId('response-4').dragTo(page.getByTestId('tier-1'));
    await expect.poll(() => tier(page, 1)).toMatch(/Response 2\s*=\s*Response 3\s*=\s*Response 4/);
  });

  it('shows the guidelines one key away', async () => {
    await page.keyboard.press('g');
    await expect.poll(() => page.getByTestId('guidelines').textContent()).toContain('one concrete next step');
    await e2e.screenshot('label-guidelines');
    await page.keyboard.press('Escape');
  });

  it('a second annotator in a second browser ranks the same item, and agreement appears', async () => {
    const bob = project.labeling.createAnnotator('Bob', '#17bebb')!;
    second = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const ctx = await second.newContext({ viewport: { width: 1920, height: 1080 } });
    contexts.push(ctx);
    const p2 = await ctx.newPage();
    await p2.goto(e2e.url);
    await p2.keyboard.press('Control+2');
    await p2.getByLabel('Annotator').selectOption(String(bob));
    await expect.poll(() => p2.getByTestId('current-annotator').textContent()).toContain('Bob');
    // Bob's queue starts at the first item, the one Ann submitted.
    const task = project.labeling.tasks()[0]!;
    const first = project.labeling.items(task.id)[0]!;
    await expect.poll(() => p2.getByTestId('prompt').textContent()).toBe(project.prompts.get(first.prompt_id)!.text);
    // Bob swaps Ann's first two: a conflict.
    for (const k of ['4', '3', '1', '2']) await p2.keyboard.press(k);
    await p2.keyboard.press('Enter');
    await expect.poll(() => p2.getByTestId('save-state').textContent()).toBe('Submitted');
    await p2.screenshot({ path: join(SCREENSHOT_DIR, 'label-second-annotator-1920.png') });

    await p2.keyboard.press('p');
    await expect.poll(() => p2.getByTestId('alpha').textContent()).toMatch(/^-?\d\.\d{3}$/);
    const text = await p2.getByTestId('agreement').textContent();
    expect(text).toMatch(/ordinal/);
    expect(text).toMatch(/Ann – Bob/);
    await p2.getByRole('button', { name: 'Compare judgments' }).click();
    const review = p2.getByRole('list', { name: /Judgments of item 1/ });
    await expect.poll(() => review.textContent()).toMatch(/Ann\s*3 > 4 > 1 = 2.*Bob\s*4 > 3 > 1 > 2/);
    await p2.screenshot({ path: join(SCREENSHOT_DIR, 'label-progress-agreement.png') });
    await ctx.close();

    const agreement = project.labeling.marks(task.id).filter((m) => m.itemId === first.id && m.status === 'submitted');
    expect(agreement.map((m) => m.annotatorId).sort()).toEqual([project.annotators.byName('Ann')!.id, bob].sort());
  });

  it('pairwise: sources stay hidden until the vote, then are revealed', async () => {
    const p = project.prompts.upsert(PROMPTS[0]!);
    const responses = project.responses.forPrompt(p.id).map((r) => r.id);
    const task = project.labeling.createTask({
      name: 'A/B check',
      mode: 'pairwise',
      k: 2,
      minAnnotators: 1,
      items: [{ promptId: p.id, responseIds: [responses[0]!, responses[1]!] }],
    });
    await page.reload();
    await page.keyboard.press('Control+2');
    await page.getByLabel('Task').selectOption(String(task.id));
    await expect.poll(() => page.getByTestId('source-A').textContent()).toContain('Source hidden');
    expect(await page.getByTestId('source-B').textContent()).toContain('Source hidden');
    await e2e.screenshot('label-pairwise-hidden');
    await page.keyboard.press('a');
    await expect.poll(() => page.getByTestId('source-A').textContent()).toMatch(/Source: (imported|checkpoint sft-final)/);
    expect(await page.getByTestId('source-B').textContent()).toMatch(/Source: checkpoint sft-final/);
    await e2e.screenshot('label-pairwise-revealed');
    const vote = project.labeling.vote(project.labeling.items(task.id)[0]!.id, project.annotators.byName('Ann')!.id)!;
    expect(vote.outcome).toBe('a');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('heading', { name: 'Nothing left for you in this task' }).isVisible()).toBe(true);
    await e2e.screenshot('label-queue-empty');
    await page.getByRole('button', { name: /Look through all items/ }).click();
    await expect.poll(() => page.getByTestId('source-B').textContent()).toMatch(/Source: checkpoint sft-final/);
    expect(e2e.consoleErrors).toEqual([]);
  });

  it('exports the labels as a bundle and merging it back adds nothing twice', async () => {
    await page.keyboard.press('p');
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export labels' }).click();
    const file = join(e2e.dir, 'labels.json');
    await (await download).saveAs(file);
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as { format: string; rankings: unknown[]; votes: unknown[] };
    expect(bundle.format).toBe('rlhf-lab/annotations');
    expect(bundle.rankings.length).toBeGreaterThanOrEqual(2);
    await page.getByLabel('Annotation bundle to import').setInputFiles(file);
    await expect.poll(() => page.getByTestId('bundle-result').textContent()).toMatch(/Merged 0 rankings and 0 votes\s+\(\d+ already here\)/);
    await e2e.screenshot('label-bundle-merged');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
  });

  it('creates a task whose responses a checkpoint generates, as a job, and opens it when done', async () => {
    const tiny = createNewModel(project, { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 64, vocab_size: 512, name: 'tiny-base' });
    await page.reload();
    await page.keyboard.press('Control+2');
    await page.getByRole('button', { name: 'New task…' }).click();
    await page.getByLabel('Name').fill('Generated batch');
    await page.getByLabel('Generate them now with checkpoints').check();
    await page.getByLabel(/tiny-base/).check();
    await page.getByLabel('Max new tokens').fill('6');
    await page.getByLabel('Temperature').fill('1.5');
    await e2e.screenshot('label-new-task-generate');
    await page.getByRole('button', { name: 'Generate and create' }).click();
    const created = () => project.labeling.tasks().find((t) => t.name === 'Generated batch');
    await expect.poll(created, { timeout: 60_000, interval: 500 }).toBeTruthy();
    await expect.poll(() => page.locator('#task-select').inputValue(), { timeout: 10_000 }).toBe(String(created()!.id));
    await expect.poll(() => page.getByTestId('prompt').textContent()).toBeTruthy();
    const item = project.labeling.items(created()!.id)[0]!;
    expect(project.labeling.responses(item.response_ids).every((r) => r.checkpoint_id === tiny.checkpoint)).toBe(true);
    await e2e.screenshot('label-generated-task');
  });

  it('over the LAN an invite signs the teammate in: they label as themselves and cannot manage tasks', async () => {
    // The same project served with --lan; Chromium resolves a LAN-looking host name to this
    // machine, so the server sees a remote caller who needs the invite token.
    const lan = await startServer({ services: e2e.server.services, lan: true, host: '127.0.0.1', port: 0, rendererDir: RENDERER_DIR });
    try {
      const cara = project.labeling.createAnnotator('Cara', '#8a4fff')!;
      const invite = project.invites.create(cara)!;
      const lanBrowser = await chromium.launch({
        executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP teammate.lan 127.0.0.1'],
      });
      contexts.push(lanBrowser);
      const p3 = await (await lanBrowser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
      const origin = `http://teammate.lan:${lan.port}`;
      expect((await p3.goto(`${origin}/`))!.status()).toBe(401);
      await p3.goto(`${origin}/?token=${invite.token}`);
      await p3.keyboard.press('Control+2');
      await expect.poll(() => p3.getByTestId('current-annotator').textContent()).toContain('Cara');
      expect(await p3.getByText('signed in by invite').isVisible()).toBe(true);
      expect(await p3.getByRole('button', { name: 'New task…' }).count()).toBe(0);
      expect(await p3.getByRole('button', { name: 'New annotator' }).count()).toBe(0);
      const task = project.labeling.tasks().find((t) => t.name === 'Support answers')!;
      // The first task's item loads first; only then switch, and wait for an item of this task,
      // so no key lands on the item being replaced (1–4 would vote on a pairwise one).
      await expect.poll(() => p3.getByTestId('prompt').textContent()).toBeTruthy();
      await p3.locator('#task-select').selectOption(String(task.id));
      const prompts = new Set(project.labeling.items(task.id).map((i) => project.prompts.get(i.prompt_id)!.text));
      await expect.poll(async () => prompts.has((await p3.getByTestId('prompt').textContent()) ?? '')).toBe(true);
      await p3.getByTestId('response-4').waitFor();
      for (const k of ['1', '2', '3', '4']) await p3.keyboard.press(k);
      await p3.keyboard.press('Enter');
      await expect.poll(() => p3.getByTestId('save-state').textContent()).toBe('Submitted');
      await p3.screenshot({ path: join(SCREENSHOT_DIR, 'label-lan-invited.png') });
      const mine = project.labeling.marks(task.id).filter((m) => m.annotatorId === cara && m.status === 'submitted');
      expect(mine).toHaveLength(1);
      // A teammate may rename themselves (their own profile only).
      await p3.getByTestId('current-annotator').click();
      await p3.getByLabel('Name').fill('Cara M.');
      await p3.keyboard.press('Enter');
      await expect.poll(() => p3.getByTestId('current-annotator').textContent()).toContain('Cara M.');
      expect(project.annotators.get(cara)!.name).toBe('Cara M.');
    } finally {
      await lan.close();
    }
  });
});

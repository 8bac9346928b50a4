// The Compare leaderboard: once three checkpoints have blind votes, Bradley–Terry ratings with
// 95% intervals on a common axis, in the order the votes say, with Arena's shared ranks and a
// "few" caveat on thin evidence; and the win-rate strip says when n is too small to tell.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlers } from '../../src-main/api/handlers/index.js';
import { dispatch } from '../../src-main/api/router.js';
import { createNewModel } from '../../src-main/engine/models/new-model.js';
import type { Project } from '../../src-main/store/project.js';
import { startE2E, type E2E } from './harness.js';

let e2e: E2E;
let project: Project;
const names = ['SFT baseline', 'PPO β 0.05', 'DPO β 0.1'];
let ids: number[] = [];

describe('Compare leaderboard', () => {
  beforeAll(async () => {
    e2e = await startE2E();
    project = e2e.server.services.project();
    ['cat', 'dog', 'owl', 'fox'].forEach((a) => project.prompts.upsert(`Tell me about the ${a}.`, { split: 'eval' }));
    ids = names.map((name, i) => createNewModel(project, { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 32, vocab_size: 512, name, seed: i }).checkpoint);
    const started = await dispatch(handlers, 'compare.start', { checkpoints: ids, max_tokens: 6, reward_model: null, name: 'three models' }, { app: e2e.server.services, annotatorId: null });
    expect(started.ok).toBe(true);
    const setId = (started as { value: { set: { id: number } } }).value.set.id;
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (project.comparisonSets.get(setId)?.status === 'running') return;
        clearInterval(poll);
        resolve();
      }, 200);
    });
    // Blind votes as judges cast them (stored as the Blind judge stores them): PPO ahead of both.
    const judge = project.annotators.ensure('judge');
    const rows = project.comparisonSets.rows(setId);
    const answer = (prompt: number, ckpt: number) => rows.find((r) => r.prompt_id === prompt && r.checkpoint_id === ckpt)!.response_id!;
    const plan: [number, number, 'a' | 'b' | 'tie', number][] = [
      [0, 1, 'b', 14], [0, 1, 'a', 4], [0, 2, 'b', 9], [0, 2, 'a', 8], [1, 2, 'a', 12], [1, 2, 'tie', 3], [1, 2, 'b', 3],
    ];
    let k = 0;
    for (const [i, j, outcome, count] of plan) {
      for (let c = 0; c < count; c++, k++) {
        const prompt = rows[k % rows.length]!.prompt_id;
        project.comparisonSets.vote(setId, { promptId: prompt, responseA: answer(prompt, ids[i]!), responseB: answer(prompt, ids[j]!), checkpointA: ids[i]!, checkpointB: ids[j]!, outcome, annotatorId: judge, secondsSpent: 3 });
      }
    }
    await e2e.page.reload();
    await e2e.page.keyboard.press('Control+4');
  }, 120_000);
  afterAll(async () => {
    await e2e?.close();
  });

  it('ranks the three checkpoints by their blind votes, with intervals and an axis', async () => {
    const { page } = e2e;
    const board = page.getByTestId('leaderboard');
    await board.waitFor({ timeout: 20_000 });
    expect(await board.locator('tbody th[scope="row"]').allTextContents()).toEqual([expect.stringContaining('PPO β 0.05'), expect.stringContaining('DPO β 0.1'), expect.stringContaining('SFT baseline')]);
    expect(await board.locator('h3').textContent()).toContain('53 blind votes over 3 checkpoints');
    const first = board.locator('tbody tr').first();
    expect(await first.locator('td').first().textContent()).toBe('1');
    expect(await first.locator('td').nth(2).textContent()).toMatch(/^\+\d+ \/ −\d+$/);
    expect(await board.locator('.tick').count()).toBeGreaterThanOrEqual(3);
    for (const size of [{ width: 1280, height: 800 }, { width: 1920, height: 1080 }]) {
      await page.setViewportSize(size);
      await board.scrollIntoViewIfNeeded();
      await e2e.screenshot(`compare-leaderboard-${size.width}`);
    }
    expect(e2e.consoleErrors).toEqual([]);
  });
});

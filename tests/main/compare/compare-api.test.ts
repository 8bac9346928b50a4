// The Compare view's API on a tiny project: the compare job writes one row per prompt and
// checkpoint with the same seed for each checkpoint; blind pairs hide who wrote them until the
// vote, which is stored with context 'compare'; votes export as TRL preference pairs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppServices, ApiContext } from '../../../src-main/api/context.js';
import type { EventName, Events, Input, JobInfo, JobProgress, MethodName, Output } from '../../../src-main/shared/contract.js';
import { compareHandlers } from '../../../src-main/api/handlers/compare.js';
import { dispatch } from '../../../src-main/api/router.js';
import { Services } from '../../../src-main/api/services.js';
import { createNewModel } from '../../../src-main/engine/models/new-model.js';
import { runJobInProcess } from '../../../src-main/jobs/run-in-process.js';
import { Project } from '../../../src-main/store/project.js';

let dir: string;
let project: Project;
let base: number;
let sftA: number;
let sftB: number;
let rm: number;
const jobs = new Map<string, Promise<unknown>>();
const progress: JobProgress[] = [];
let aborter = new AbortController();

const app: AppServices = {
  project: () => project,
  hasProject: () => true,
  openProject: () => project,
  startJob: (kind, params, label) => {
    const id = `job-${jobs.size + 1}`;
    jobs.set(id, runJobInProcess(kind, params, project, (p) => void progress.push(p), { signal: aborter.signal }));
    return { id, kind, label, status: 'running', progress: null } satisfies JobInfo;
  },
  emit: <E extends EventName>(_e: E, _p: Events[E]) => {},
};

async function call<M extends MethodName>(m: M, input: Input<M>): Promise<Output<M>> {
  const ctx: ApiContext = { app, annotatorId: null };
  const r = await dispatch(compareHandlers, m, input, ctx);
  if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code });
  return r.value as Output<M>;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'compare-api-'));
  project = Project.open(join(dir, 'p.rlhf'), { create: true });
  const who = project.annotators.ensure('ranker');
  const animals = ['cat', 'dog', 'cow', 'owl', 'fox', 'bee', 'ant', 'elk', 'yak', 'eel', 'emu', 'gnu'];
  animals.forEach((a, i) => {
    project.sft.insert({ kind: 'completion', prompt: `Tell me about the ${a}.`, completion: ` The ${a} is good.` });
    const prompt = project.prompts.upsert(`Tell me about the ${a}.`, { split: i < 6 ? 'train' : 'eval' }).id;
    const ids = [`The ${a} is good and kind.`, `The ${a} is small.`].map((text) => project.responses.upsert({ promptId: prompt, text, source: 'human' }).id);
    project.preferences.insertRanking({ uid: `r${i}`, promptId: prompt, annotatorId: who, ranking: [[ids[0]!], [ids[1]!]], source: 'human' });
  });
  base = createNewModel(project, { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 48, vocab_size: 512, name: 'tiny base' }).checkpoint;
  sftA = (await runJobInProcess<{ checkpoint: number }>('train-sft', { from: base, config: { max_steps: 2, batch_size: 4 }, name: 'sft a' }, project)).checkpoint;
  rm = (await runJobInProcess<{ checkpoint: number }>('train-rm', { from: sftA, config: { epochs: 1, batch_prompts: 6, norm_samples: 4, norm_max_new_tokens: 4 }, name: 'rm' }, project)).checkpoint;
  sftB = (await runJobInProcess<{ checkpoint: number }>('train-sft', { from: sftA, config: { max_steps: 6, batch_size: 4, lr: 0.01 }, name: 'sft b' }, project)).checkpoint;
}, 120_000);
afterAll(() => {
  project.close();
  rmSync(dir, { recursive: true, force: true });
});

async function compared(input: Input<'compare.start'>) {
  const started = await call('compare.start', input);
  await jobs.get(started.job.id);
  return call('compare.get', { setId: started.set.id });
}

describe('compare API', () => {
  it('the job answers every prompt with every checkpoint under the same seed, scored, with KL and length', async () => {
    progress.length = 0;
    const view = await compared({ checkpoints: [sftA, sftB], prompts: { kind: 'split', split: 'eval', limit: 6 }, temperature: 1, max_tokens: 8, seed: 5 });
    expect(view.set.status).toBe('completed');
    expect(view.set.settings.reward_model).toBe(rm); // the latest reward model by default
    expect(view.checkpoints.map((c) => c.id)).toEqual([sftA, sftB]);
    expect(view.rows).toHaveLength(6);
    for (const row of view.rows) {
      const [a, b] = row.cells;
      expect(a!.seed).toBe(b!.seed);
      expect(a!.kl).toBe(0); // the reference against itself
      expect(Number.isFinite(a!.score)).toBe(true);
      expect(Number.isFinite(b!.score)).toBe(true);
      expect(a!.tokens).toBeGreaterThan(0);
      expect(row.differ).toBe(a!.text !== b!.text);
    }
    // Stored as responses with their provenance.
    const stored = project.responses.get(view.rows[0]!.cells[1]!.response_id!)!;
    expect(stored).toMatchObject({ source: 'checkpoint', seed: view.rows[0]!.cells[1]!.seed });
    expect(stored.gen_params).toMatchObject({ temperature: 1, top_p: 1, max_tokens: 8 });
    // Progress counts responses, up to prompts × checkpoints.
    expect(progress.at(-1)).toMatchObject({ done: 12, total: 12, unit: 'responses' });
    expect(view.stats.rm!.pairs[0]).toMatchObject({ a: sftA, b: sftB, n: 6 });
    expect(view.stats.human.votes).toBe(0);
    // Reloading gives the same rows.
    expect((await call('compare.get', { setId: view.set.id })).rows).toEqual(view.rows);
  });

  it('blind pairs name no checkpoint before the vote; the vote is stored with context compare and reveals both', async () => {
    const view = await compared({ checkpoints: [sftA, sftB], prompts: { kind: 'split', split: 'eval', limit: 6 }, temperature: 1.5, max_tokens: 8, seed: 1 });
    const differing = view.rows.filter((r) => r.differ).length;
    expect(differing).toBeGreaterThan(2);
    const ann = project.annotators.ensure('Judge');
    await expect(call('compare.nextBlind', { setId: view.set.id })).rejects.toMatchObject({ code: 'no_annotator' });

    const outcomes = ['a', 'b', 'tie', 'both_bad'] as const;
    const seen = new Set<number>();
    for (const outcome of outcomes.slice(0, Math.min(4, differing))) {
      const pair = (await call('compare.nextBlind', { setId: view.set.id, annotatorId: ann }))!;
      expect(JSON.stringify(pair)).not.toMatch(/checkpoint|sft a|sft b/);
      expect(seen.has(pair.prompt.id)).toBe(false); // a judged pair is not offered again
      seen.add(pair.prompt.id);
      const result = await call('compare.vote', { token: pair.token, outcome, annotatorId: ann, seconds_spent: 3 });
      const row = view.rows.find((r) => r.prompt_id === pair.prompt.id)!;
      const byText = new Map(row.cells.map((c) => [c!.text, c!.checkpoint_id]));
      expect(result.revealed.a.id).toBe(byText.get(pair.a));
      expect(result.revealed.b.id).toBe(byText.get(pair.b));
      await expect(call('compare.vote', { token: pair.token, outcome, annotatorId: ann })).rejects.toMatchObject({ code: 'expired' });
    }
    const stored = project.db.prepare("SELECT context, annotator_id, seconds_spent FROM comparisons WHERE context = 'compare'").all();
    expect(stored.length).toBeGreaterThanOrEqual(4);
    expect(stored[0]).toEqual({ context: 'compare', annotator_id: ann, seconds_spent: 3 });
    const stats = await call('compare.stats', { setId: view.set.id });
    expect(stats.human.votes).toBe(4);
    expect(stats.human.pairs[0]!.n).toBe(4);
    expect(stats.human.pairs[0]!.ci_low).toBeLessThanOrEqual(stats.human.pairs[0]!.win_rate!);

    // Export: one TRL pair per decisive vote, the chosen text being the one voted for.
    const trl = await call('compare.export', { setId: view.set.id, format: 'trl' });
    expect(trl.count).toBe(2);
    const pairs = trl.text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    const votes = project.comparisonSets.votes(view.set.id);
    expect(pairs[0]).toEqual({ prompt: votes[0]!.prompt, chosen: votes[0]!.text_a, rejected: votes[0]!.text_b });
    expect(pairs[1]).toEqual({ prompt: votes[1]!.prompt, chosen: votes[1]!.text_b, rejected: votes[1]!.text_a });
    const csv = await call('compare.export', { setId: view.set.id, format: 'csv' });
    expect(csv.text.split('\r\n')[0]).toBe('prompt_id,prompt,checkpoint_id,checkpoint,response,score,kl,tokens,seed');
    expect(csv.count).toBe(12);
  });

  it('three checkpoints give Bradley–Terry ratings; typed prompts join the eval split', async () => {
    const view = await compared({ checkpoints: [sftA, sftB, base], prompts: { kind: 'typed', texts: ['Tell me about the yak.', 'A brand new prompt?'] }, max_tokens: 6 });
    expect(view.rows).toHaveLength(2);
    expect(view.stats.rm!.ratings).toHaveLength(3);
    expect(view.stats.rm!.pairs).toHaveLength(2);
    expect([...project.prompts.iterate()].find((p) => p.text === 'A brand new prompt?')?.split).toBe('eval');
  });

  it('best-of-N keeps, per prompt, the candidate the reward model scores highest', async () => {
    const plain = await compared({ checkpoints: [sftA, sftB], prompts: { kind: 'split', split: 'eval', limit: 4 }, temperature: 1, max_tokens: 6, seed: 9 });
    const best = await compared({ checkpoints: [sftA, sftB], prompts: { kind: 'split', split: 'eval', limit: 4 }, temperature: 1, max_tokens: 6, seed: 9, best_of_n: 8 });
    expect(best.set.settings.best_of_n).toBe(8);
    const mean = (v: typeof plain) => v.rows.reduce((s, r) => s + r.cells[1]!.score!, 0) / v.rows.length;
    // The best of eight samples scores above a single sample on average.
    expect(mean(best)).toBeGreaterThan(mean(plain));
    expect(project.responses.get(best.rows[0]!.cells[1]!.response_id!)!.gen_params).toMatchObject({ best_of_n: 8 });
  });

  it('a cancelled comparison keeps the rows written so far and says so', async () => {
    aborter = new AbortController();
    aborter.abort();
    const started = await call('compare.start', { checkpoints: [sftA, sftB], max_tokens: 4 });
    await expect(jobs.get(started.job.id)).rejects.toThrow(/cancel/);
    aborter = new AbortController();
    expect((await call('compare.get', { setId: started.set.id })).set.status).toBe('cancelled');
  });

  it('a comparison left running by an earlier session (no job any more) shows as interrupted', async () => {
    const services = new Services({ dataDir: join(dir, 'home'), demoPath: join(dir, 'no-demo.rlhf') });
    try {
      const p = services.openProject(join(dir, 'restart.rlhf'), { create: true });
      const setId = p.comparisonSets.create('left over', { checkpoints: [1, 2], prompt_ids: [] });
      const r = await dispatch(compareHandlers, 'compare.sets', {}, { app: services, annotatorId: null });
      expect(r.ok && (r.value as Output<'compare.sets'>)[0]).toMatchObject({ id: setId, status: 'cancelled', error: 'interrupted before it finished' });
      expect(p.comparisonSets.get(setId)!.status).toBe('cancelled');
    } finally {
      await services.close();
    }
  });

  it('refuses a reward model as a policy and best-of-N without a reward model', async () => {
    await expect(call('compare.start', { checkpoints: [sftA, rm] })).rejects.toMatchObject({ code: 'bad_request' });
    await expect(call('compare.start', { checkpoints: [sftA, sftB], reward_model: null, best_of_n: 4 })).rejects.toMatchObject({ code: 'bad_request' });
  });
});

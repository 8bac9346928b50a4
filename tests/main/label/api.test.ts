import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppServices, ApiContext } from '../../../src-main/api/context.js';
import type { EventName, Events, Input, MethodName, Output } from '../../../src-main/shared/contract.js';
import { labelHandlers } from '../../../src-main/api/handlers/label.js';
import { dispatch } from '../../../src-main/api/router.js';
import { makeProject, type Fixture } from './fixture.js';

let f: Fixture;
let events: [EventName, unknown][];
let app: AppServices;

beforeEach(() => {
  f = makeProject(4, 4);
  events = [];
  app = {
    project: () => f.project,
    hasProject: () => true,
    openProject: () => f.project,
    startJob: () => {
      throw new Error('no jobs here');
    },
    emit: <E extends EventName>(e: E, p: Events[E]) => void events.push([e, p]),
  };
});
afterEach(() => f.cleanup());

async function call<M extends MethodName>(m: M, input: Input<M>, annotatorId: number | null = null): Promise<Output<M>> {
  const ctx: ApiContext = { app, annotatorId };
  const r = await dispatch(labelHandlers, m, input, ctx);
  if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code });
  return r.value as Output<M>;
}
async function fails(m: MethodName, input: unknown, annotatorId: number | null = null): Promise<string> {
  const r = await dispatch(labelHandlers, m, input, { app, annotatorId });
  if (r.ok) throw new Error(`${m} succeeded`);
  return r.error.code;
}

describe('label API', () => {
  it('runs a ranking task end to end: next item, draft, submit with ties, sources revealed, progress', async () => {
    const ann = await call('annotators.create', { name: 'Ann', colour: '#e4572e' });
    const { task, short } = await call('label.createTask', { name: 'batch', mode: 'ranking', k: 4, minAnnotators: 2, seed: 7 });
    expect(task.items).toBe(4);
    expect(short).toBe(0);

    const view = (await call('label.next', { taskId: task.id, annotatorId: ann.id }))!;
    expect(view.responses).toHaveLength(4);
    expect(view.sources).toBeNull(); // hidden before the judgment
    expect(view.queue).toEqual({ pending: 4, draft: 0, submitted: 0, skipped: 0 });
    const [a, b, c, d] = view.responses.map((r) => r.id) as [number, number, number, number];

    await call('label.saveDraft', { itemId: view.item.id, annotatorId: ann.id, ranking: [[c]], seconds_spent: 5 });
    const again = await call('label.get', { itemId: view.item.id, annotatorId: ann.id });
    expect(again.judgment).toMatchObject({ status: 'draft', ranking: [[c]], seconds_spent: 5 });

    const sub = await call('label.submit', {
      itemId: view.item.id,
      annotatorId: ann.id,
      ranking: [[c], [a, b], [d]],
      flags: ['factually_wrong'],
      comment: 'd invents a policy',
      seconds_spent: 40,
    });
    expect(sub.judgment.status).toBe('submitted');
    expect((await call('label.itemJudgments', { itemId: view.item.id }))[0]).toMatchObject({ annotator: 'Ann', order: '3 > 1 = 2 > 4' });
    expect(sub.sources.map((s) => s.label)).toEqual(['imported', 'imported', 'imported', 'imported']);
    expect(sub.next).not.toBe(view.item.id);
    expect(events.some(([e]) => e === 'label.changed')).toBe(true);

    const p = await call('label.progress', { taskId: task.id });
    expect(p.overall).toMatchObject({ items: 4, done: 0, submissions: 1 });
    expect(p.annotators.find((x) => x.name === 'Ann')).toMatchObject({ submitted: 1, pending: 3, median_seconds: 40 });
  });

  it('shuffles responses per item with the seed, reproducibly', async () => {
    const one = await call('label.createTask', { name: 'x', mode: 'ranking', k: 4, seed: 3 });
    const two = await call('label.createTask', { name: 'y', mode: 'ranking', k: 4, seed: 3 });
    const orders = (id: number) => f.project.labeling.items(id).map((i) => i.response_ids.join(','));
    expect(orders(one.task.id)).toEqual(orders(two.task.id));
    const original = f.prompts.map((p) => p.responses.join(','));
    expect(orders(one.task.id)).not.toEqual(original);
  });

  it('pairwise: the vote answer reveals the sources, agreement and conflicts follow two annotators', async () => {
    const ann = await call('annotators.create', { name: 'Ann' });
    const bob = await call('annotators.create', { name: 'Bob' });
    const { task } = await call('label.createTask', { name: 'ab', mode: 'pairwise', k: 2, minAnnotators: 2, seed: 1 });
    expect(task.k).toBe(2);
    const items = f.project.labeling.items(task.id);
    const outcomes = ['a', 'b', 'tie', 'a'] as const;
    for (const [n, item] of items.entries()) {
      const before = await call('label.get', { itemId: item.id, annotatorId: ann.id });
      expect(before.sources).toBeNull();
      const v = await call('label.vote', { itemId: item.id, annotatorId: ann.id, outcome: outcomes[n]! });
      expect(v.sources).toHaveLength(2);
      // Bob agrees except on the last item.
      await call('label.vote', { itemId: item.id, annotatorId: bob.id, outcome: n === 3 ? 'b' : outcomes[n]! });
    }
    const agreement = await call('label.agreement', { taskId: task.id });
    expect(agreement.metric).toBe('nominal');
    expect(agreement.items).toBe(4);
    expect(agreement.alpha!).toBeLessThan(1);
    expect(agreement.pairs).toEqual([expect.objectContaining({ a: 'Ann', b: 'Bob', n: 4 })]);
    const p = await call('label.progress', { taskId: task.id });
    expect(p.overall.done).toBe(4);
    expect(p.conflicts.map((c) => c.position)).toEqual([4]);
    // Reviewing the conflict shows both votes; an invited annotator may not look.
    const review = await call('label.itemJudgments', { itemId: p.conflicts[0]!.itemId });
    expect(review.map((j) => [j.annotator, j.order])).toEqual([
      ['Ann', 'A better'],
      ['Bob', 'B better'],
    ]);
    expect(await fails('label.itemJudgments', { itemId: p.conflicts[0]!.itemId }, ann.id)).toBe('forbidden');
  });

  it('a LAN caller labels only as themselves and cannot manage tasks, profiles or guidelines', async () => {
    const ann = await call('annotators.create', { name: 'Ann' });
    const bob = await call('annotators.create', { name: 'Bob' });
    const { task } = await call('label.createTask', { name: 'batch', mode: 'ranking', k: 4, seed: 1 });
    expect((await call('label.next', { taskId: task.id }, ann.id))!.annotatorId).toBe(ann.id);
    expect(await fails('label.next', { taskId: task.id, annotatorId: bob.id }, ann.id)).toBe('forbidden');
    expect(await fails('label.createTask', { name: 'z', mode: 'ranking' }, ann.id)).toBe('forbidden');
    expect(await fails('guidelines.set', { markdown: 'x' }, ann.id)).toBe('forbidden');
    expect(await fails('annotators.update', { id: bob.id, name: 'Robert' }, ann.id)).toBe('forbidden');
    expect((await call('annotators.update', { id: ann.id, colour: '#112233' }, ann.id)).colour).toBe('#112233');
    expect((await call('annotators.me', {}, ann.id))!.name).toBe('Ann');
  });

  it('refuses bad input with a clear error', async () => {
    expect(await fails('label.next', { taskId: 999, annotatorId: 1 })).toBe('not_found');
    const { task } = await call('label.createTask', { name: 'batch', mode: 'ranking', k: 4, seed: 1 });
    expect(await fails('label.next', { taskId: task.id })).toBe('no_annotator');
    expect(await fails('label.createTask', { name: 'big', mode: 'ranking', k: 9 })).toBe('no_items');
    expect(await fails('label.submit', { itemId: 1, annotatorId: 1, ranking: [[1]], flags: ['rude'] })).toBe('invalid_input');
    expect(await fails('annotators.create', { name: 'Ann', colour: 'red' })).toBe('invalid_input');
    await call('annotators.create', { name: 'Ann' });
    expect(await fails('annotators.create', { name: 'Ann' })).toBe('conflict');
    expect(await fails('label.importBundle', { text: '{"format":"other"}' })).toBe('invalid_bundle');
  });
});

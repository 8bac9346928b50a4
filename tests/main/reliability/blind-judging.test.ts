// Blind judging keeps who wrote a response hidden from a teammate until they submit (issue 19):
// data.responses names no source or checkpoint to a teammate, and compare.get / compare.export
// do not map the texts of a blind pair still open to them to its checkpoints. Open blind pairs
// are limited per annotator and kept in the project, so a restart keeps them.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiContext } from '../../../src-main/api/context.js';
import type { Input, MethodName, Output } from '../../../src-main/shared/contract.js';
import { handlers } from '../../../src-main/api/handlers/index.js';
import { dispatch } from '../../../src-main/api/router.js';
import { Services } from '../../../src-main/api/services.js';
import { createNewModel } from '../../../src-main/engine/models/new-model.js';
import { tempDir } from '../store/temp-project.js';

let services: Services;
let projectFile: string;
let teammate: number;
let setId: number;
let promptIds: number[];
let checkpoints: number[];

async function call<M extends MethodName>(m: M, input: Input<M>, annotatorId: number | null): Promise<Output<M>> {
  const ctx: ApiContext = { app: services, annotatorId };
  const r = await dispatch(handlers, m, input, ctx);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value as Output<M>;
}

beforeAll(() => {
  const dir = tempDir();
  services = new Services({ dataDir: join(dir, 'home') });
  projectFile = join(dir, 'p.rlhf');
  const p = services.openProject(projectFile, { create: true });
  promptIds = ['Where is my parcel?', 'How do I return shoes?'].map((t) => p.prompts.upsert(t, { split: 'eval' }).id);
  const tiny = { n_layer: 1, n_head: 2, n_embd: 8, n_positions: 16, vocab_size: 512 };
  checkpoints = [createNewModel(p, { ...tiny, name: 'sft' }).checkpoint, createNewModel(p, { ...tiny, name: 'ppo' }).checkpoint];
  const rows = promptIds.flatMap((promptId, i) =>
    checkpoints.map((checkpointId, j) => {
      const text = `answer ${i} by model ${j}`;
      const responseId = p.responses.upsert({ promptId, text, source: 'checkpoint', checkpointId }).id;
      return { prompt_id: promptId, checkpoint_id: checkpointId, response_id: responseId, text, score: null, kl: null, tokens: 4, seed: 1 };
    }),
  );
  const settings = { checkpoints, prompts: { kind: 'split', split: 'eval', limit: 2 }, prompt_ids: promptIds, temperature: 1, top_p: 1, max_tokens: 8, seed: 1, best_of_n: 1, reward_model: null };
  setId = p.comparisonSets.create('sft vs ppo', settings);
  p.comparisonSets.addRows(setId, rows);
  p.comparisonSets.setStatus(setId, 'completed');
  teammate = p.annotators.ensure('alice');
});
afterAll(() => services.close());

describe('what a teammate sees while judging blind', () => {
  it('data.responses names the source and checkpoint to the host only', async () => {
    const host = await call('data.responses', { promptId: promptIds[0]! }, null);
    expect(host.map((r) => r.checkpoint_id).sort()).toEqual([...checkpoints].sort());
    const mate = await call('data.responses', { promptId: promptIds[0]! }, teammate);
    expect(mate).toHaveLength(2);
    expect(mate.every((r) => r.source === null && r.checkpoint_id === null)).toBe(true);
  });

  it('compare.get and compare.export reveal a prompt to a teammate only after their vote on it', async () => {
    const pair = (await call('compare.nextBlind', { setId }, teammate))!;
    const open = pair.prompt.id;
    const leaks = (view: Output<'compare.get'>) => view.rows.filter((r) => r.prompt_id === open).flatMap((r) => r.cells.filter((c) => c && (c.text === pair.a || c.text === pair.b)));
    expect(leaks(await call('compare.get', { setId }, teammate))).toEqual([]);
    expect((await call('compare.export', { setId, format: 'csv' }, teammate)).text).not.toContain(pair.a);
    expect(leaks(await call('compare.get', { setId }, null))).toHaveLength(2); // the host sees everything
    await call('compare.vote', { token: pair.token, outcome: 'a' }, teammate);
    expect(leaks(await call('compare.get', { setId }, teammate))).toHaveLength(2);
  });
});

describe('open blind pairs', () => {
  it('one annotator asking for 2,100 pairs does not expire another annotator\'s open pair', async () => {
    const bob = services.project().annotators.ensure('bob');
    const carol = services.project().annotators.ensure('carol');
    const bobs = (await call('compare.nextBlind', { setId }, bob))!;
    for (let i = 0; i < 2100; i++) await call('compare.nextBlind', { setId }, carol);
    const voted = await call('compare.vote', { token: bobs.token, outcome: 'b' }, bob);
    expect(voted.revealed.a.id).not.toBe(voted.revealed.b.id);
    // Carol's own oldest pairs are the ones dropped.
    const open = services.project().db.prepare('SELECT count(*) AS n FROM blind_pairs WHERE annotator_id = ?').get(carol) as { n: number };
    expect(open.n).toBeLessThan(2100);
  });

  it('a pair handed out before a restart can still be voted after it', async () => {
    const dave = services.project().annotators.ensure('dave');
    const pair = (await call('compare.nextBlind', { setId }, dave))!;
    await services.close();
    // The restarted app: a new process.
    const script = `
      import { Services } from './src-main/api/services.ts';
      import { dispatch } from './src-main/api/router.ts';
      import { handlers } from './src-main/api/handlers/index.ts';
      const s = new Services({ dataDir: ${JSON.stringify(join(tempDir(), 'home'))} });
      s.openProject(${JSON.stringify(projectFile)});
      const ctx = { app: s, annotatorId: ${dave} };
      const vote = () => dispatch(handlers, 'compare.vote', { token: ${JSON.stringify(pair.token)}, outcome: 'tie' }, ctx);
      console.log(JSON.stringify([await vote(), await vote()]));
      await s.close();`;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    const [first, again] = JSON.parse(res.stdout.trim().split('\n').pop()!);
    expect(first).toMatchObject({ ok: true, value: { outcome: 'tie' } });
    expect(again).toMatchObject({ ok: false, error: { code: 'expired' } });
    services = new Services({ dataDir: join(tempDir(), 'home') });
    services.openProject(projectFile);
  });
});

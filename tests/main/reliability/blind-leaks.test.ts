// Blind judging keeps who wrote a response hidden from a teammate until they submit (issue 19):
// data.responses names no source or checkpoint to a teammate, and compare.get / compare.export
// do not map the texts of a blind pair still open to them to its checkpoints.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiContext } from '../../../src-main/api/context.js';
import type { Input, MethodName, Output } from '../../../src-main/api/contract.js';
import { handlers } from '../../../src-main/api/handlers/index.js';
import { dispatch } from '../../../src-main/api/router.js';
import { Services } from '../../../src-main/api/services.js';
import { createNewModel } from '../../../src-main/engine/new-model.js';
import { tempDir } from '../store/temp-project.js';

let services: Services;
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
  const p = services.openProject(join(dir, 'p.rlhf'), { create: true });
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

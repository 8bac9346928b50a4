import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNewModel } from '../../../src-main/engine/models/new-model.js';
import { samplesPerCheckpoint } from '../../../src-main/jobs/kinds/label-generate.js';
import { runJobInProcess } from '../../../src-main/jobs/run-in-process.js';
import { makeProject, type Fixture } from './fixture.js';

let f: Fixture;
let a: number;
let b: number;
beforeAll(() => {
  f = makeProject(3, 0);
  const tiny = { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 48, vocab_size: 512 };
  a = createNewModel(f.project, tiny).checkpoint;
  b = createNewModel(f.project, { ...tiny, n_embd: 24 }).checkpoint;
});
afterAll(() => f.cleanup());

const params = {
  name: 'generated',
  minAnnotators: 1,
  limit: 3,
  temperature: 1.5,
  topK: 0,
  topP: 1,
  maxTokens: 8,
  seed: 11,
};

describe('labeling tasks from generated responses', () => {
  it('spreads K responses over the checkpoints', () => {
    expect(samplesPerCheckpoint(4, 2)).toEqual([2, 2]);
    expect(samplesPerCheckpoint(5, 2)).toEqual([3, 2]);
    expect(samplesPerCheckpoint(2, 2)).toEqual([1, 1]);
  });

  it('generates K responses per prompt with two checkpoints, with provenance, and queues them shuffled', async () => {
    const r = await runJobInProcess<{ taskId: number; items: number; short: number; responses: number }>(
      'label-generate',
      { ...params, mode: 'ranking', k: 4, checkpointIds: [a, b] },
      f.project,
    );
    expect(r.items + r.short).toBe(3);
    expect(r.items).toBeGreaterThan(0);
    const task = f.project.labeling.task(r.taskId)!;
    expect(task).toMatchObject({ mode: 'ranking', k: 4, items: r.items });
    for (const item of f.project.labeling.items(task.id)) {
      expect(item.response_ids).toHaveLength(4);
      const sources = f.project.labeling.responses(item.response_ids);
      expect(sources.every((s) => s.source === 'checkpoint' && (s.checkpoint_id === a || s.checkpoint_id === b))).toBe(true);
    }
  });

  it('pairwise with two checkpoints is one response from each: a model-vs-model A/B', async () => {
    const r = await runJobInProcess<{ taskId: number; items: number }>(
      'label-generate',
      { ...params, name: 'ab', mode: 'pairwise', k: 2, checkpointIds: [a, b], seed: 12 },
      f.project,
    );
    for (const item of f.project.labeling.items(r.taskId)) {
      const ckpts = f.project.labeling.responses(item.response_ids).map((s) => s.checkpoint_id);
      expect(new Set(ckpts)).toEqual(new Set([a, b]));
    }
  });
});

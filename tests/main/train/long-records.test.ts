// Records longer than the model's context, in every stage: the reward model (training, held-out
// eval and the normalisation that samples after the prompts), PPO's rollouts, DPO and SFT cut them
// and finish, naming them once at the start of the run; and a reward-model run that fails after its
// last step keeps the trained weights as a checkpoint that a resume only has to normalise.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createNewModel } from '../../../src-main/engine/models/new-model.js';
import { trainRmJob } from '../../../src-main/jobs/kinds/train-rm.js';
import { runJobInProcess } from '../../../src-main/jobs/run-in-process.js';
import { Project } from '../../../src-main/store/project.js';

// The normalisation fails while `failNormalisation.on` (a full disk, a crash): everything else is real.
const failNormalisation = vi.hoisted(() => ({ on: false }));
vi.mock('../../../src-main/engine/train/reward.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src-main/engine/train/reward.js')>();
  return {
    ...real,
    normaliseRewardModel: (...args: Parameters<typeof real.normaliseRewardModel>) => {
      if (failNormalisation.on) throw new Error('disk I/O error');
      return real.normaliseRewardModel(...args);
    },
  };
});

let dir: string;
let project: Project;
let base: number;
const longPrompts: number[] = [];
const rmConfig = { epochs: 2, batch_prompts: 4, lr: 0.003, norm_samples: 16, norm_max_new_tokens: 6, eval_fraction: 0.2 };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'long-records-'));
  project = Project.open(join(dir, 'p.rlhf'), { create: true });
  const who = project.annotators.ensure('ann');
  const animals = ['cat', 'dog', 'cow', 'owl', 'fox', 'bee', 'ant', 'elk'];
  animals.forEach((a, i) => {
    // Every other prompt is far longer than the 32-token context.
    const text = i % 2 ? `Tell me about the ${a}. ${`The ${a} lives on the farm and eats grass every day. `.repeat(8)}` : `Tell me about the ${a}.`;
    const prompt = project.prompts.upsert(text).id;
    if (i % 2) longPrompts.push(prompt);
    const ids = [`The ${a} is good and good.`, `The ${a} is small.`].map((t) => project.responses.upsert({ promptId: prompt, text: t, source: 'human' }).id);
    project.preferences.insertRanking({ uid: `r${i}`, promptId: prompt, annotatorId: who, ranking: [[ids[0]!], [ids[1]!]], source: 'human' });
  });
  project.sft.insert({ kind: 'completion', prompt: 'Spell cat:', completion: ' c a t' });
  project.sft.insert({ kind: 'completion', prompt: 'Spell dog:', completion: ' d o g' });
  project.sft.insert({ kind: 'text', text: 'The farm has a cat, a dog and a cow. '.repeat(10) });
  base = createNewModel(project, { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 32, vocab_size: 512 }).checkpoint;
});
afterAll(() => {
  project.close();
  rmSync(dir, { recursive: true, force: true });
});

function longRecordsEvent(run: number): { message: string; names: string[] } {
  const events = project.runs.eventsFor(run).filter((e) => e.kind === 'long records');
  expect(events).toHaveLength(1);
  return { message: events[0]!.message, names: (events[0]!.data as { records: { name: string }[] }).records.map((r) => r.name) };
}

describe('records longer than the context', () => {
  let rm = 0;

  it('a reward-model run trains, normalises on the long prompts too, and names them', async () => {
    const r = await runJobInProcess<{ run: number; checkpoint: number }>('train-rm', { from: base, config: rmConfig }, project);
    expect(project.runs.get(r.run)!.status).toBe('completed');
    expect(project.checkpoints.get(r.checkpoint)!.extra?.normalisation).toMatchObject({ gain: expect.any(Number) });
    const { message, names } = longRecordsEvent(r.run);
    expect(names.sort()).toEqual(longPrompts.map((id) => `prompt #${id}`).sort());
    expect(message).toMatch(/^4 records are longer than 32 tokens and lose the start of their prompt: prompt #\d+ \(\d+ tokens\)/);
    rm = r.checkpoint;
  });

  it('PPO rollouts on the long prompts finish and name them', async () => {
    const r = await runJobInProcess<{ run: number }>('train-ppo', { from: base, reward_model: rm, config: { steps: 2, batch_size: 4, num_mini_batches: 2, max_new_tokens: 6 } }, project);
    expect(project.runs.get(r.run)!.status).toBe('completed');
    expect(longRecordsEvent(r.run).names.sort()).toEqual(longPrompts.map((id) => `prompt #${id}`).sort());
  });

  it('DPO on the long pairs finishes and names them', async () => {
    const r = await runJobInProcess<{ run: number }>('train-dpo', { from: base, config: { epochs: 1, batch_size: 4 } }, project);
    expect(project.runs.get(r.run)!.status).toBe('completed');
    expect(longRecordsEvent(r.run).names.sort()).toEqual(longPrompts.map((id) => `prompt #${id}`).sort());
  });

  it('SFT cuts the long example and names it', async () => {
    const r = await runJobInProcess<{ run: number }>('train-sft', { from: base, config: { max_steps: 2, batch_size: 2, eval_fraction: 0 } }, project);
    expect(project.runs.get(r.run)!.status).toBe('completed');
    const longExample = [...project.sft.iterate()].find((e) => e.kind === 'text')!.id;
    expect(longRecordsEvent(r.run).names).toEqual([`SFT example #${longExample}`]);
  });

  it('a reward-model run that fails after its last step keeps the trained weights; its resume only normalises', async () => {
    failNormalisation.on = true;
    const logs: string[] = [];
    const ctx = { project, signal: new AbortController().signal, progress: () => {}, log: (m: string) => void logs.push(m) };
    await expect(trainRmJob({ from: base, config: rmConfig }, ctx)).rejects.toThrow('disk I/O error');
    const failed = project.runs.listRuns('rm')[0]!;
    expect(failed).toMatchObject({ status: 'failed', error: 'disk I/O error' });
    const kept = project.checkpoints.lastOfRun(failed.id)!;
    expect(kept).toMatchObject({ step: failed.total_steps, has_optimizer: true });
    expect(kept.name).toMatch(/not normalised/);
    expect(logs.join('\n')).toMatch(/resume the run to normalise/);

    failNormalisation.on = false;
    const stepsLogged = project.runs.metricsFor(failed.id, ['loss']).loss!.length;
    const resumed = await trainRmJob({ resume: failed.id }, ctx);
    expect(resumed.run).toBe(failed.id);
    expect(project.runs.get(failed.id)!.status).toBe('completed');
    // No step trained twice: the loss curve is the failed run's.
    expect(project.runs.metricsFor(failed.id, ['loss']).loss!.length).toBe(stepsLogged);
    const final = project.checkpoints.get(resumed.checkpoint)!;
    expect(final.step).toBe(failed.total_steps);
    expect((final.extra?.normalisation as { gain: number }).gain).not.toBe(1);
  });
});

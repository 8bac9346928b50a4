import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiContext } from '../../../src-main/api/context.js';
import type { JobInfo, RunInfo } from '../../../src-main/shared/contract.js';
import { handlers } from '../../../src-main/api/handlers/index.js';
import { dispatch } from '../../../src-main/api/router.js';
import { Services } from '../../../src-main/api/services.js';
import { createNewModel } from '../../../src-main/engine/models/new-model.js';
import { Project } from '../../../src-main/store/project.js';
import { metricsCsv } from '../../../src-main/train/metrics-csv.js';

let dir: string;
let services: Services;
let base: number;
const ctx = (annotatorId: number | null = null): ApiContext => ({ app: services, annotatorId });
const call = async (method: string, input: unknown, c = ctx()) => dispatch(handlers, method, input, c);
const value = async <T>(method: string, input: unknown): Promise<T> => {
  const r = await call(method, input);
  if (!r.ok) throw new Error(r.error.message);
  return r.value as T;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'train-api-'));
  const path = join(dir, 'p.rlhf');
  const project = Project.open(path, { create: true });
  for (const w of ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta']) {
    project.sft.insert({ kind: 'completion', prompt: `Spell ${w}:`, completion: ` ${w.split('').join(' ')}` });
  }
  base = createNewModel(project, { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 32, vocab_size: 512 }).checkpoint;
  project.close();
  services = new Services({ dataDir: join(dir, 'home'), demoPath: join(dir, 'none.rlhf') });
  services.openProject(path);
});
afterAll(async () => {
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('train API', () => {
  it('offers a config form per stage whose defaults are the engine defaults', async () => {
    const stages = await value<{ stage: string; fields: { key: string; default: unknown; description?: string }[]; checkpointFields: Record<string, string> }[]>('train.stages', {});
    const sft = stages.find((s) => s.stage === 'sft')!;
    expect(sft.fields.find((f) => f.key === 'grad_clip')?.default).toBe(1);
    const ppo = stages.find((s) => s.stage === 'ppo')!;
    expect(ppo.fields.find((f) => f.key === 'kl_coef')?.default).toBe(0.05);
    expect(ppo.fields.find((f) => f.key === 'cliprange')?.default).toBe(0.2);
    // The form says what early stopping does and what counts in the schedule.
    expect(ppo.fields.find((f) => f.key === 'early_stopping')?.description).toMatch(/1\.5 × target_kl.*remaining minibatches/);
    expect(ppo.fields.find((f) => f.key === 'warmup_steps')?.description).toMatch(/Iterations/);
    expect(ppo.checkpointFields).toEqual({ reward_model: 'rm' });
  });

  it('explains invalid config values field by field, and refuses to start with them', async () => {
    const v = await value<{ errors: Record<string, string> }>('train.validate', { stage: 'sft', config: { lr: -1, batch_size: 'x', nope: 1 } });
    expect(Object.keys(v.errors).sort()).toEqual(expect.arrayContaining(['lr', 'batch_size']));
    const ppo = await value<{ errors: Record<string, string> }>('train.validate', { stage: 'ppo', config: {} });
    expect(ppo.errors.reward_model).toMatch(/expected number/i);
    const r = await call('train.start', { stage: 'sft', from: base, config: { lr: -1 } });
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid_config', message: expect.stringMatching(/lr/) } });
  });

  it('refuses a parent of the wrong stage and LAN annotators', async () => {
    expect(await call('train.start', { stage: 'ppo', from: base, config: {} })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/starts from a sft checkpoint/) } });
    expect(await call('train.start', { stage: 'sft', from: base, config: {} }, ctx(1))).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('starts an SFT run in the engine worker, streams its curve, stops it and resumes it to the end', async () => {
    const config = { batch_size: 2, lr: 0.003, warmup_steps: 1, max_steps: 40, checkpoint_every: 2, eval_every: 5, seed: 3 };
    const job = await value<JobInfo>('train.start', { stage: 'sft', from: base, config, name: 'api test' });
    let run: RunInfo | undefined;
    for (let i = 0; i < 600 && !(run && run.step >= 4 && run.job); i++) {
      await new Promise((r) => setTimeout(r, 50));
      run = (await value<RunInfo[]>('runs.list', {}))[0];
    }
    expect(run).toMatchObject({ name: 'api test', stage: 'sft', status: 'running', job: { id: job.id } });
    const metrics = await value<Record<string, Record<string, { step: number[] }>>>('runs.metrics', { runIds: [run!.id] });
    expect(metrics[run!.id]!.loss!.step.length).toBeGreaterThanOrEqual(4);

    expect(await value('train.stop', { runId: run!.id })).toEqual({ stopped: true });
    await services.jobs.wait(job.id);
    const stopped = (await value<RunInfo[]>('runs.list', {}))[0]!;
    expect(stopped.status).toBe('stopped');
    expect(stopped.step).toBeLessThan(40);

    const resumed = await value<JobInfo>('train.resume', { runId: run!.id });
    const done = await services.jobs.wait(resumed.id);
    expect(done.status).toBe('completed');
    const final = (await value<RunInfo[]>('runs.list', {}))[0]!;
    expect(final).toMatchObject({ id: run!.id, status: 'completed', step: 40 });
    const loss = (await value<Record<string, Record<string, { value: number[]; step: number[] }>>>('runs.metrics', { runIds: [run!.id] }))[run!.id]!.loss!;
    expect(loss.step).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(loss.value.at(-1)!).toBeLessThan(loss.value[0]!);

    const since = await value<Record<string, Record<string, { step: number[] }>>>('runs.metrics', { runIds: [run!.id], since: { [run!.id]: 38 } });
    expect(since[run!.id]!.loss!.step).toEqual([39, 40]);
    const csv = await value<{ text: string; rows: number }>('runs.exportCsv', { runId: run!.id });
    expect(csv.rows).toBe(40);
    expect(csv.text.split('\n')[0]).toMatch(/^step,time,.*loss/);
    const lineage = await value<{ checkpoints: { stage: string; parent_id: number | null; run_id: number | null }[] }>('train.lineage', {});
    expect(lineage.checkpoints.some((c) => c.stage === 'sft' && c.parent_id === base && c.run_id === run!.id)).toBe(true);
  });
});

describe('metrics CSV', () => {
  it('writes one row per step and one column per key, leaving missing values empty', () => {
    const { text, rows } = metricsCsv({
      loss: [{ step: 1, value: 2, time: 0 }, { step: 2, value: 1.5, time: 1000 }],
      'eval/loss': [{ step: 2, value: 1.7, time: 1000 }],
    });
    expect(rows).toBe(2);
    expect(text.split('\n').slice(0, 3)).toEqual([
      'step,time,eval/loss,loss',
      '1,1970-01-01T00:00:00.000Z,,2',
      '2,1970-01-01T00:00:01.000Z,1.7,1.5',
    ]);
  });
});

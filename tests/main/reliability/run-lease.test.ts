// One trainer per run (issue 19): two trainers resuming the same run at once — two CLI processes,
// the app beside a CLI, two train.resume calls sent together — used to both train it (duplicate
// checkpoints and samples, two "final" checkpoints). A lease in the project file now gives the
// run to one owner; the others are refused with the owner's name, and a crash releases it.
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiContext } from '../../../src-main/api/context.js';
import type { JobInfo, RunInfo } from '../../../src-main/shared/contract.js';
import { handlers } from '../../../src-main/api/handlers/index.js';
import { dispatch } from '../../../src-main/api/router.js';
import { Services } from '../../../src-main/api/services.js';
import { createNewModel } from '../../../src-main/engine/models/new-model.js';
import { runJobInProcess } from '../../../src-main/jobs/run-in-process.js';
import { JobCancelled } from '../../../src-main/shared/errors.js';
import { Project } from '../../../src-main/store/project.js';
import { tempDir } from '../store/temp-project.js';

let file: string;
let base: number;
const config = { batch_size: 2, lr: 0.003, warmup_steps: 1, max_steps: 8, checkpoint_every: 2, eval_every: 4, seed: 3 };

/** A run stopped at step 2, ready to resume. */
async function stoppedRun(): Promise<number> {
  const p = Project.open(file);
  const ctrl = new AbortController();
  await expect(runJobInProcess('train-sft', { from: base, config }, p, (x) => x.done === 2 && ctrl.abort(), { signal: ctrl.signal })).rejects.toThrow(JobCancelled);
  const run = p.runs.listRuns('sft')[0]!;
  expect(run.status).toBe('stopped');
  p.close();
  return run.id;
}

beforeAll(() => {
  file = join(tempDir(), 'p.rlhf');
  const p = Project.open(file, { create: true });
  for (const w of ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta']) p.sft.insert({ kind: 'completion', prompt: `Spell ${w}:`, completion: ` ${w.split('').join(' ')}` });
  p.sft.insert({ kind: 'text', text: 'Greek letters are spelled one letter at a time.' }, 'eval');
  base = createNewModel(p, { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 32, vocab_size: 512 }).checkpoint;
  p.close();
});

describe('run leases', () => {
  it('of two trainers resuming the same run at once (two connections, as two processes), exactly one trains it', async () => {
    const runId = await stoppedRun();
    const a = Project.open(file);
    const b = Project.open(file);
    const outcomes = await Promise.allSettled([runJobInProcess('train-sft', { resume: runId }, a), runJobInProcess('train-sft', { resume: runId }, b)]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(String(lost[0]!.reason)).toMatch(new RegExp(`run ${runId} is being trained by rlhf-lab .*\\(pid ${process.pid} on `));
    // One final checkpoint at step 8, and each step's checkpoint once.
    const steps = a.checkpoints.list().filter((c) => c.run_id === runId).map((c) => c.step);
    expect(steps).toEqual([2, 4, 6, 8]);
    expect(a.runs.get(runId)).toMatchObject({ status: 'completed', step: 8 });
    // Released at the end: nobody holds it.
    expect(a.runLeases.holder(runId)).toBeNull();
    a.close();
    b.close();
  }, 120_000);

  describe('through the API', () => {
    let services: Services;
    let runId: number;
    const ctx = (): ApiContext => ({ app: services, annotatorId: null });
    beforeAll(async () => {
      runId = await stoppedRun();
      services = new Services({ dataDir: join(tempDir(), 'home') });
      services.openProject(file);
    });
    afterAll(() => services.close());

    it('shows a run another process trains as running with its owner, refuses to resume or stop it, and frees it when that process dies', async () => {
      // Another process on this machine holds the lease (a live child standing in for a CLI trainer).
      const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
      await new Promise((r) => other.once('spawn', r));
      const p = services.project();
      p.runs.setStatus(runId, 'running');
      const now = Date.now();
      p.db
        .prepare('INSERT INTO run_leases (run_id, token, owner, host, pid, acquired_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(runId, 'other', `rlhf-lab train (pid ${other.pid} on ${hostname()})`, hostname(), other.pid, now, now);
      const runOf = async () => {
        const r = await dispatch(handlers, 'runs.list', {}, ctx());
        return r.ok ? (r.value as RunInfo[]).find((x) => x.id === runId) : undefined;
      };
      expect(await runOf()).toMatchObject({ status: 'running', owner: `rlhf-lab train (pid ${other.pid} on ${hostname()})`, job: null });
      for (const m of ['train.resume', 'train.stop'] as const) {
        const r = await dispatch(handlers, m, { runId }, ctx());
        expect(r).toMatchObject({ ok: false, error: { code: 'conflict', message: expect.stringContaining(`pid ${other.pid}`) } });
      }
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
      expect(await runOf()).toMatchObject({ status: 'stopped', owner: null });
      p.runs.setStatus(runId, 'stopped');
    });

    it('of two train.resume calls sent together, one starts and the other is refused', async () => {
      const [first, second] = await Promise.all([dispatch(handlers, 'train.resume', { runId }, ctx()), dispatch(handlers, 'train.resume', { runId }, ctx())]);
      expect([first.ok, second.ok].sort()).toEqual([false, true]);
      const refused = first.ok ? second : first;
      expect(refused).toMatchObject({ ok: false, error: { code: 'conflict' } });
      const job = (first.ok ? first.value : second.ok ? second.value : null) as JobInfo;
      expect((await services.jobs.wait(job.id)).status).toBe('completed');
      expect(services.project().checkpoints.list().filter((c) => c.run_id === runId && c.step === 8)).toHaveLength(1);
    }, 120_000);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNewModel } from '../../../src-main/engine/io/new-model.js';
import { runJobInProcess } from '../../../src-main/jobs/run-in-process.js';
import { JobCancelled } from '../../../src-main/shared/errors.js';
import { Project } from '../../../src-main/store/project.js';

let dir: string;
let project: Project;
let base: number;
const config = { batch_size: 2, lr: 0.003, warmup_steps: 1, max_steps: 9, checkpoint_every: 3, eval_every: 3, seed: 11 };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sft-job-'));
  project = Project.open(join(dir, 'p.rlhf'), { create: true });
  for (const w of ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta']) {
    project.sft.insert({ kind: 'completion', prompt: `Spell ${w}:`, completion: ` ${w.split('').join(' ')}` });
  }
  project.sft.insert({ kind: 'text', text: 'Greek letters are spelled one letter at a time.' }, 'eval');
  base = createNewModel(project, { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 32, vocab_size: 512 }).checkpoint;
});
afterAll(() => {
  project.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('train-sft job', () => {
  it('a cancelled run is left stopped, and its resume ends with the loss curve of an uninterrupted run', async () => {
    const full = await runJobInProcess<{ run: number }>('train-sft', { from: base, config }, project);
    const fullLoss = project.runs.metricsFor(full.run, ['loss']).loss!.map((p) => p.value);
    expect(fullLoss.length).toBe(9);

    const ctrl = new AbortController();
    let interrupted = 0;
    await expect(
      runJobInProcess('train-sft', { from: base, config }, project, (p) => p.done === 4 && ctrl.abort(), { signal: ctrl.signal }),
    ).rejects.toThrow(JobCancelled);
    const stopped = project.runs.listRuns('sft')[0]!;
    interrupted = stopped.id;
    expect(stopped).toMatchObject({ status: 'stopped', step: 4 });
    const last = project.checkpoints.lastOfRun(interrupted)!;
    expect(last).toMatchObject({ step: 4, has_optimizer: true });

    const resumed = await runJobInProcess<{ run: number; checkpoint: number }>('train-sft', { resume: interrupted }, project);
    expect(resumed.run).toBe(interrupted);
    expect(project.runs.get(interrupted)).toMatchObject({ status: 'completed', step: 9 });
    const resumedLoss = project.runs.metricsFor(interrupted, ['loss']).loss!.map((p) => p.value);
    expect(resumedLoss.length).toBe(9);
    resumedLoss.forEach((l, i) => expect(l).toBe(fullLoss[i]!));
    expect(project.checkpoints.get(resumed.checkpoint)).toMatchObject({ step: 9, parent_id: base, run_id: interrupted });
    // Checkpoints at steps 3, 4 (the stop), 6 and 9: only the last keeps optimizer state.
    const ofRun = project.checkpoints.list().filter((c) => c.run_id === interrupted);
    expect(ofRun.map((c) => [c.step, c.has_optimizer])).toEqual([[3, false], [4, false], [6, false], [9, true]]);
    await expect(runJobInProcess('train-sft', { resume: interrupted }, project)).rejects.toThrow(/already completed/);
  });
});

describe('train-sft job with LoRA', () => {
  it('resumes a stopped LoRA run exactly, every checkpoint an adapter on the run’s base', async () => {
    const lora = { ...config, lora_r: 4, lora_alpha: 8, lora_targets: 'c_attn,c_fc' };
    const full = await runJobInProcess<{ run: number }>('train-sft', { from: base, config: lora }, project);
    const fullLoss = project.runs.metricsFor(full.run, ['loss']).loss!.map((p) => p.value);
    expect(fullLoss.length).toBe(9);

    const ctrl = new AbortController();
    await expect(
      runJobInProcess('train-sft', { from: base, config: lora }, project, (p) => p.done === 4 && ctrl.abort(), { signal: ctrl.signal }),
    ).rejects.toThrow(JobCancelled);
    const stopped = project.runs.listRuns('sft')[0]!;
    const resumed = await runJobInProcess<{ run: number; checkpoint: number }>('train-sft', { resume: stopped.id }, project);
    const resumedLoss = project.runs.metricsFor(stopped.id, ['loss']).loss!.map((p) => p.value);
    resumedLoss.forEach((l, i) => expect(l).toBe(fullLoss[i]!));
    for (const c of project.checkpoints.list().filter((x) => x.run_id === stopped.id)) {
      expect(c.extra?.adapter).toEqual({ r: 4, alpha: 8, dropout: 0, targets: ['c_attn', 'c_fc'], base });
    }
    expect(project.checkpoints.get(resumed.checkpoint)).toMatchObject({ parent_id: base });
    // SFT on from the adapter with other LoRA settings is refused, saying why.
    await expect(runJobInProcess('train-sft', { from: resumed.checkpoint, config: { ...lora, lora_r: 2 } }, project)).rejects.toThrow(/holds a LoRA adapter/);
  });
});

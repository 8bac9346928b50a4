// LoRA in the reward-model and DPO stages, through their jobs on a tiny project: the reward model
// trains adapters on its backbone and its score head fully, DPO trains adapters against the same
// weights with them switched off; both learn, store adapter-only checkpoints pointing to their
// base, load back scoring the same, and resume a stopped run exactly.
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { loadModel, weightsFromBytes } from '../../../src-main/engine/io/checkpoint-io.js';
import { createNewModel } from '../../../src-main/engine/io/new-model.js';
import { loadRewardModel, rewardModelOf } from '../../../src-main/engine/io/reward-io.js';
import { textEncoder } from '../../../src-main/engine/train/sequences.js';
import { runJobInProcess } from '../../../src-main/jobs/run-in-process.js';
import { JobCancelled } from '../../../src-main/shared/errors.js';
import { Project } from '../../../src-main/store/project.js';

let dir: string;
let project: Project;
let base: number;
const animals = ['cat', 'dog', 'cow', 'owl', 'fox', 'bee', 'ant', 'elk', 'yak', 'eel', 'emu', 'gnu'];

beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'lora-rm-dpo-'));
  project = Project.open(join(dir, 'p.rlhf'), { create: true });
  const who = project.annotators.ensure('ann');
  animals.forEach((a, i) => {
    const prompt = project.prompts.upsert(`Tell me about the ${a}.`, { split: i < 10 ? 'train' : 'eval' }).id;
    const ids = [`The ${a} is good and good.`, `The ${a} is good.`, `The ${a} is small.`].map((text) => project.responses.upsert({ promptId: prompt, text, source: 'human' }).id);
    project.preferences.insertRanking({ uid: `r${i}`, promptId: prompt, annotatorId: who, ranking: [[ids[0]!], [ids[1]!], [ids[2]!]], source: 'human' });
  });
  base = createNewModel(project, { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 40, vocab_size: 512 }).checkpoint;
});
afterAll(() => {
  project.close();
  rmSync(dir, { recursive: true, force: true });
});

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const series = (run: number, key: string) => project.runs.metricsFor(run, [key])[key]!.map((p) => p.value);
const tensorNames = (checkpoint: number) => Object.keys(weightsFromBytes(project.checkpoints.load(checkpoint).weights)).sort();

/** The weights of the base model in bytes (float32). */
async function modelBytes(): Promise<number> {
  const m = loadModel(project, base).model;
  const n = m.parameterCount() * 4;
  m.dispose();
  return n;
}

/** The most tfjs memory a job's run held above what was held before it, read at every progress report. */
async function peakBytes(kind: string, config: Record<string, unknown>): Promise<number> {
  const before = tf.memory().numBytes;
  let most = 0;
  await runJobInProcess(kind, { from: base, config }, project, () => {
    most = Math.max(most, tf.memory().numBytes);
  });
  return most - before;
}

/** Stops a job after `step` steps and resumes it; returns the run. */
async function stopAndResume(kind: string, config: Record<string, unknown>, step: number): Promise<{ run: number; checkpoint: number }> {
  const ctrl = new AbortController();
  await expect(runJobInProcess(kind, { from: base, config }, project, (p) => p.done === step && ctrl.abort(), { signal: ctrl.signal })).rejects.toThrow(JobCancelled);
  const stopped = project.runs.listRuns(kind === 'train-rm' ? 'rm' : 'dpo')[0]!;
  expect(stopped).toMatchObject({ status: 'stopped', step });
  return runJobInProcess<{ run: number; checkpoint: number }>(kind, { resume: stopped.id }, project);
}

describe('reward model with LoRA', () => {
  const config = { epochs: 8, batch_prompts: 5, lr: 0.01, warmup_steps: 0, eval_every: 4, checkpoint_every: 4, norm_samples: 8, norm_max_new_tokens: 6, seed: 3, lora_r: 4, lora_alpha: 8, lora_targets: 'c_attn,c_fc' };
  let result: { run: number; checkpoint: number };

  it('learns with adapters on the backbone and the head trained fully; the checkpoint holds only those and points to its base', async () => {
    result = await runJobInProcess<{ run: number; checkpoint: number }>('train-rm', { from: base, config }, project);
    const accuracy = series(result.run, 'accuracy');
    expect(accuracy).toHaveLength(16);
    expect(mean(accuracy.slice(-4))).toBeGreaterThan(mean(accuracy.slice(0, 4)));
    expect(mean(series(result.run, 'loss').slice(-4))).toBeLessThan(mean(series(result.run, 'loss').slice(0, 4)));
    const info = project.checkpoints.get(result.checkpoint)!;
    expect(info).toMatchObject({ stage: 'rm', parent_id: base, extra: { adapter: { r: 4, alpha: 8, dropout: 0, targets: ['c_attn', 'c_fc'], base } } });
    expect(info.extra?.normalisation).toMatchObject({ gain: expect.any(Number), bias: expect.any(Number) });
    expect(tensorNames(result.checkpoint)).toEqual(['h.0.attn.c_attn.lora_A.weight', 'h.0.attn.c_attn.lora_B.weight', 'h.0.mlp.c_fc.lora_A.weight', 'h.0.mlp.c_fc.lora_B.weight', 'score.bias', 'score.weight']);
    // A fraction of a full checkpoint: the adapters (r 4) and a 16-wide head against the whole model.
    expect(info.weights_bytes).toBeLessThan(project.checkpoints.get(base)!.weights_bytes / 5);
  });

  it('loads back (merged, as PPO, best-of-N and Compare load it) scoring what the adapter on its base scores', () => {
    const merged = loadRewardModel(project, result.checkpoint);
    const attached = rewardModelOf(loadModel(project, result.checkpoint, 0, { adapter: 'attach' }));
    expect(merged.model.backbone.lora).toBeNull();
    expect(attached.model.backbone.lora?.modules()).toEqual(['h.0.attn.c_attn', 'h.0.mlp.c_fc']);
    expect([merged.model.gain, merged.model.bias]).toEqual([attached.model.gain, attached.model.bias]);
    const enc = textEncoder(merged.tokenizer);
    const prompts = animals.map((a) => enc.prompt(`Tell me about the ${a}.`));
    const responses = animals.map((a, i) => enc.response(i % 2 ? `The ${a} is good and good.` : `The ${a} is small.`));
    const a = merged.model.score(prompts, responses, merged.tokenizer.padId);
    const b = attached.model.score(prompts, responses, attached.tokenizer.padId);
    a.forEach((x, i) => expect(x).toBeCloseTo(b[i]!, 4));
    // It learned something: the good answers outscore the small ones.
    expect(mean(a.filter((_, i) => i % 2))).toBeGreaterThan(mean(a.filter((_, i) => !(i % 2))));
    merged.dispose();
    attached.dispose();
  });

  it('holds one copy of the weights where a full reward model holds two (the SFT sampler is the backbone, adapters off)', async () => {
    const bytes = await modelBytes();
    const lora = await peakBytes('train-rm', { ...config, epochs: 1 });
    const full = await peakBytes('train-rm', { ...config, epochs: 1, lora_r: 0 });
    expect(full - lora).toBeGreaterThan(0.9 * bytes);
    expect(lora).toBeLessThan(2 * bytes);
  });

  it('a stopped LoRA reward-model run resumes to the loss curve of the uninterrupted one', async () => {
    const resumed = await stopAndResume('train-rm', config, 6);
    expect(series(resumed.run, 'loss')).toEqual(series(result.run, 'loss'));
    expect(project.checkpoints.get(resumed.checkpoint)!.extra?.adapter).toMatchObject({ base });
  });
});

describe('DPO with LoRA', () => {
  const config = { epochs: 6, batch_size: 5, lr: 0.01, warmup_steps: 0, beta: 0.5, eval_every: 4, checkpoint_every: 4, seed: 5, lora_r: 4, lora_alpha: 8, lora_targets: 'c_attn,c_fc' };
  let result: { run: number; checkpoint: number };

  it('learns against its own weights with the adapters off; the checkpoint is adapter-only on its parent', async () => {
    result = await runJobInProcess<{ run: number; checkpoint: number }>('train-dpo', { from: base, config }, project);
    const margins = series(result.run, 'rewards/margins');
    expect(margins.length).toBeGreaterThanOrEqual(10);
    expect(mean(margins.slice(-3))).toBeGreaterThan(mean(margins.slice(0, 3)) + 0.05);
    const info = project.checkpoints.get(result.checkpoint)!;
    expect(info).toMatchObject({ stage: 'dpo', parent_id: base, extra: { adapter: { r: 4, targets: ['c_attn', 'c_fc'], base } } });
    expect(tensorNames(result.checkpoint).every((n) => /\.lora_[AB]\.weight$/.test(n))).toBe(true);
    // Loaded, the adapters off are exactly the parent: the reference the run compared against.
    const loaded = loadModel(project, result.checkpoint, 0, { adapter: 'attach' });
    const parent = loadModel(project, base);
    const ids = tf.tensor2d([[5, 17, 42, 99, 3, 250, 7]], [1, 7], 'int32');
    expect(Array.from(loaded.model.withAdaptersOff(() => loaded.model.tokenLogprobs(ids)).dataSync())).toEqual(Array.from(parent.model.tokenLogprobs(ids).dataSync()));
    ids.dispose();
    loaded.model.dispose();
    parent.model.dispose();
  });

  it('holds one copy of the weights where full DPO holds two', async () => {
    const bytes = await modelBytes();
    const lora = await peakBytes('train-dpo', { ...config, epochs: 1 });
    const full = await peakBytes('train-dpo', { ...config, epochs: 1, lora_r: 0 });
    expect(full - lora).toBeGreaterThan(0.9 * bytes);
    // The model's weights once, its small adapters and their optimizer state: short of a second copy.
    expect(lora).toBeLessThan(2 * bytes);
  });

  it('a stopped LoRA DPO run resumes to the loss curve of the uninterrupted one', async () => {
    const resumed = await stopAndResume('train-dpo', config, 5);
    expect(series(resumed.run, 'loss')).toEqual(series(result.run, 'loss'));
    expect(project.checkpoints.get(resumed.checkpoint)!.extra?.adapter).toMatchObject({ base });
  });
});

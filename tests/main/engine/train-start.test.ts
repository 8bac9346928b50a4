// The model every training job starts from (engine/io/train-start.ts): the run's LoRA settings on
// a full checkpoint or a LoRA one, for stages with and without a reference model, and the errors a
// user sees for settings that cannot apply — with no run row left behind by a job.
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, saveModel, weightsFromBytes } from '../../../src-main/engine/io/checkpoint-io.js';
import { createNewModel } from '../../../src-main/engine/io/new-model.js';
import { loadForTraining } from '../../../src-main/engine/io/train-start.js';
import type { GPT } from '../../../src-main/engine/models/model.js';
import { runJobInProcess } from '../../../src-main/jobs/run-in-process.js';
import { Project } from '../../../src-main/store/project.js';

let dir: string;
let project: Project;
let base: number;
let adapter: number;
const noLora = { lora_r: 0, lora_alpha: 16, lora_dropout: 0, lora_targets: '' };
const lora = { lora_r: 4, lora_alpha: 8, lora_dropout: 0, lora_targets: 'c_attn,c_fc' };
const ids = [3, 17, 42, 99, 5, 250, 7, 128];

function logprobs(m: GPT): number[] {
  return tf.tidy(() => Array.from(m.tokenLogprobs(tf.tensor2d([ids], [1, ids.length], 'int32')).dataSync()));
}

/** An adapter checkpoint whose adapter changes the model (B non-zero), on `base`. */
function adapterCheckpoint(): number {
  const s = loadForTraining(project, { checkpoint: base, resume: false, lora, seed: 1, reference: false });
  for (const v of Object.values(s.model.lora!.namedVariables())) v.assign(tf.randomNormal(v.shape, 0, 0.2, 'float32', 7));
  const id = saveModel(project, { name: 'LoRA SFT', stage: 'sft', model: s.model, tokenizer: s.tokenizer, parentId: base, adapterBase: s.adapterBase()! });
  s.model.dispose();
  return id;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'train-start-'));
  project = Project.open(join(dir, 'p.rlhf'), { create: true });
  for (const w of ['alpha', 'beta', 'gamma', 'delta']) project.sft.insert({ kind: 'completion', prompt: `Spell ${w}:`, completion: ` ${w.split('').join(' ')}` });
  base = createNewModel(project, { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 32, vocab_size: 512 }).checkpoint;
  adapter = adapterCheckpoint();
});
afterAll(() => {
  project.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('loadForTraining', () => {
  it('LoRA on a full checkpoint adds fresh adapters (the model unchanged) whose base is that checkpoint', () => {
    const s = loadForTraining(project, { checkpoint: base, resume: false, lora, seed: 1, reference: true });
    const plain = loadModel(project, base);
    expect(s.model.lora?.modules()).toEqual(['h.0.attn.c_attn', 'h.0.mlp.c_fc']);
    expect(s.adapterBase()).toBe(base);
    expect(logprobs(s.model)).toEqual(logprobs(plain.model));
    expect(s.describe()).toMatch(/^LoRA r=4 alpha=8 on 2 modules \(c_attn, c_fc\)/);
    s.model.dispose();
    plain.model.dispose();
  });

  it('full fine-tuning from a LoRA checkpoint trains its adapter merged into its base', () => {
    const s = loadForTraining(project, { checkpoint: adapter, resume: false, lora: noLora, seed: 1, reference: false });
    const merged = loadModel(project, adapter);
    expect(s.model.lora).toBeNull();
    expect(s.adapterBase()).toBeUndefined();
    expect(s.model.trainableParameterCount()).toBe(s.model.parameterCount());
    expect(logprobs(s.model)).toEqual(logprobs(merged.model));
    s.model.dispose();
    merged.model.dispose();
  });

  it('SFT and the reward model continue a LoRA checkpoint with the same settings on its base, and refuse others', () => {
    const s = loadForTraining(project, { checkpoint: adapter, resume: false, lora, seed: 1, reference: false });
    expect(s.adapterBase()).toBe(base);
    expect(Object.keys(s.model.lora!.getWeights()).sort()).toEqual(Object.keys(weightsFromBytes(project.checkpoints.load(adapter).weights)).sort());
    s.model.dispose();
    expect(() => loadForTraining(project, { checkpoint: adapter, resume: false, lora: { ...lora, lora_r: 2 }, seed: 1, reference: false })).toThrow(
      `checkpoint ${adapter} holds a LoRA adapter (r 4, alpha 8, targets c_attn,c_fc): continue it with those settings, or set lora_r 0`,
    );
  });

  it('a stage with a reference merges a LoRA checkpoint into a new full base: adapters off give exactly the start model', () => {
    const before = project.checkpoints.count();
    const s = loadForTraining(project, { checkpoint: adapter, resume: false, lora: { ...lora, lora_r: 2, lora_targets: 'c_proj' }, seed: 1, reference: true });
    const start = loadModel(project, adapter);
    expect(project.checkpoints.count()).toBe(before); // nothing stored until the run saves
    for (const v of Object.values(s.model.lora!.namedVariables())) v.assign(tf.onesLike(v));
    const off = s.model.withAdaptersOff(() => logprobs(s.model));
    const startLp = logprobs(start.model);
    off.forEach((x, i) => expect(x).toBeCloseTo(startLp[i]!, 5));
    expect(logprobs(s.model)).not.toEqual(off);
    const merged = s.adapterBase()!;
    expect(s.adapterBase()).toBe(merged); // stored once
    // A second run from the same LoRA checkpoint reuses that merged base.
    const again = loadForTraining(project, { checkpoint: adapter, resume: false, lora, seed: 2, reference: true });
    expect(again.adapterBase()).toBe(merged);
    expect(project.checkpoints.count()).toBe(before + 1);
    again.model.dispose();
    const info = project.checkpoints.get(merged)!;
    expect(info).toMatchObject({ name: 'LoRA SFT (merged)', stage: 'sft', parent_id: adapter, extra: { merged_from: adapter } });
    // The new base is a full checkpoint: an adapter saved on it loads without chaining.
    const id = saveModel(project, { name: 'DPO LoRA', stage: 'dpo', model: s.model, tokenizer: s.tokenizer, parentId: adapter, adapterBase: merged });
    const back = loadModel(project, id, 0, { adapter: 'attach' });
    const lp = logprobs(s.model);
    logprobs(back.model).forEach((x, i) => expect(x).toBeCloseTo(lp[i]!, 5));
    for (const m of [s.model, start.model, back.model]) m.dispose();
  });

  it('says which target matches nothing, and which base is missing', () => {
    expect(() => loadForTraining(project, { checkpoint: base, resume: false, lora: { ...lora, lora_targets: 'q_proj' }, seed: 1, reference: false })).toThrow(
      /LoRA target "q_proj" matches no linear module of this model/,
    );
    const s = loadForTraining(project, { checkpoint: base, resume: false, lora, seed: 1, reference: false });
    const orphan = saveModel(project, { name: 'orphan', stage: 'sft', model: s.model, tokenizer: s.tokenizer, adapterBase: 9999 });
    s.model.dispose();
    expect(() => loadForTraining(project, { checkpoint: orphan, resume: false, lora, seed: 1, reference: false })).toThrow(
      `checkpoint ${orphan} is a LoRA adapter on checkpoint 9999, which cannot be loaded`,
    );
  });
});

describe('a bad LoRA setting leaves no run behind', () => {
  it.each(['sft', 'rm', 'dpo'])('train-%s with a target that matches no module fails before its run row exists', async (stage) => {
    const runs = project.runs.listRuns().length;
    const checkpoints = project.checkpoints.count();
    await expect(runJobInProcess(`train-${stage}`, { from: base, config: { lora_r: 4, lora_targets: 'q_proj' } }, project)).rejects.toThrow(/LoRA target "q_proj" matches no linear module/);
    expect(project.runs.listRuns().length).toBe(runs);
    expect(project.checkpoints.count()).toBe(checkpoints);
  });
});

// `train rm --lora-r` and `train dpo --lora-r` through the CLI on a tiny project: adapter-only
// checkpoints on their base, a LoRA reward model that PPO then optimises against (loaded merged,
// its head with it), and DPO with LoRA from a LoRA SFT checkpoint, whose reference (the adapters
// off) is exactly that SFT model, merged into a stored base of its own.
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandIO } from '../../../src-main/cli/command.js';
import { modelCommand } from '../../../src-main/cli/commands/model.js';
import { trainCommand } from '../../../src-main/cli/commands/train.js';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { loadModel, weightsFromBytes } from '../../../src-main/engine/io/checkpoint-io.js';
import { Project } from '../../../src-main/store/project.js';

interface TrainOutput {
  run: number;
  checkpoint: number;
  metrics: Record<string, number>;
}

async function run<T = TrainOutput>(cmd: { run(argv: string[], io: CommandIO): Promise<number> }, argv: string[]): Promise<T> {
  const outputs: unknown[] = [];
  const io: CommandIO = { json: true, out: (v) => void outputs.push(v), progress: () => {}, err: () => {} };
  expect(await cmd.run([...argv, '--json'], io)).toBe(0);
  expect(outputs).toHaveLength(1);
  return outputs[0] as T;
}

let dir: string;
let file: string;
let base: number;

beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'cli-lora-rm-dpo-'));
  file = join(dir, 'tiny.rlhf');
  const p = Project.open(file, { create: true });
  const who = p.annotators.ensure('ann');
  ['cat', 'dog', 'cow', 'owl', 'fox', 'bee', 'ant', 'elk', 'yak', 'eel'].forEach((a, i) => {
    p.sft.insert({ kind: 'completion', prompt: `Tell me about the ${a}.`, completion: ` The ${a} is good and good.` });
    const prompt = p.prompts.upsert(`Tell me about the ${a}.`, { split: i < 8 ? 'train' : 'eval' }).id;
    const ids = [`The ${a} is good and good.`, `The ${a} is good.`, `The ${a} is small.`].map((text) => p.responses.upsert({ promptId: prompt, text, source: 'human' }).id);
    p.preferences.insertRanking({ uid: `r${i}`, promptId: prompt, annotatorId: who, ranking: [[ids[0]!], [ids[1]!], [ids[2]!]], source: 'human' });
  });
  p.close();
  base = (await run<{ checkpoint: number }>(modelCommand, ['new', file, '--layers', '1', '--heads', '2', '--embd', '16', '--ctx', '40', '--vocab', '512'])).checkpoint;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const withProject = <T>(f: (p: Project) => T): T => {
  const p = Project.open(file);
  try {
    return f(p);
  } finally {
    p.close();
  }
};
const small = ['--set', 'epochs=2', '--set', 'lr=0.01', '--set', 'warmup_steps=0'];

describe('train rm / dpo --lora-r', () => {
  let rm: number;

  it('train rm --lora-r 4 stores the adapter and the score head on its base, and PPO optimises against it', async () => {
    const r = await run(trainCommand, ['rm', file, '--from', String(base), '--lora-r', '4', '--lora-alpha', '8', ...small, '--set', 'batch_prompts=4', '--set', 'norm_samples=4', '--set', 'norm_max_new_tokens=4']);
    rm = r.checkpoint;
    expect(Number.isFinite(r.metrics.accuracy)).toBe(true);
    withProject((p) => {
      const c = p.checkpoints.load(rm);
      expect(c.extra?.adapter).toEqual({ r: 4, alpha: 8, dropout: 0, targets: ['c_attn'], base });
      expect(Object.keys(weightsFromBytes(c.weights)).sort()).toEqual(['h.0.attn.c_attn.lora_A.weight', 'h.0.attn.c_attn.lora_B.weight', 'score.bias', 'score.weight']);
      expect(p.runs.get(r.run)!.config).toMatchObject({ lora_r: 4, lora_alpha: 8, lora_targets: '' });
    });
    // The value model starts from the reward model (its backbone merged, its head): both load from the adapter checkpoint.
    const ppo = await run(trainCommand, ['ppo', file, '--from', String(base), '--set', `reward_model=${rm}`, '--set', 'value_init="reward"', '--set', 'steps=2', '--set', 'batch_size=4', '--set', 'max_new_tokens=4']);
    expect(Number.isFinite(ppo.metrics['objective/scores'])).toBe(true);
  });

  it('train dpo --lora-r 4 from a LoRA SFT checkpoint trains fresh adapters on that SFT model merged, which is its reference', async () => {
    const sft = (await run(trainCommand, ['sft', file, '--from', String(base), '--lora-r', '8', '--set', 'max_steps=4', '--set', 'batch_size=4', '--set', 'lr=0.02', '--set', 'eval_every=100'])).checkpoint;
    const d = await run(trainCommand, ['dpo', file, '--from', String(sft), '--lora-r', '4', '--lora-targets', 'c_attn,c_fc', ...small, '--set', 'batch_size=4']);
    expect(Number.isFinite(d.metrics['rewards/margins'])).toBe(true);
    withProject((p) => {
      const c = p.checkpoints.get(d.checkpoint)!;
      expect(c).toMatchObject({ stage: 'dpo', parent_id: sft });
      const adapterBase = (c.extra?.adapter as { base: number }).base;
      expect(c.extra?.adapter).toEqual({ r: 4, alpha: 16, dropout: 0, targets: ['c_attn', 'c_fc'], base: adapterBase });
      // The base is a full checkpoint: the SFT adapter merged, stored once for the run.
      const merged = p.checkpoints.get(adapterBase)!;
      expect(merged).toMatchObject({ stage: 'sft', parent_id: sft, extra: { merged_from: sft } });
      expect(merged.extra?.adapter).toBeUndefined();
      expect(p.checkpoints.list().filter((x) => x.extra?.merged_from === sft)).toHaveLength(1);
      // The DPO model with its adapters off computes the SFT model (base + SFT adapter).
      const policy = loadModel(p, d.checkpoint, 0, { adapter: 'attach' });
      const reference = loadModel(p, sft);
      const ids = tf.tensor2d([[5, 17, 42, 99, 3, 250, 7]], [1, 7], 'int32');
      const off = Array.from(policy.model.withAdaptersOff(() => policy.model.tokenLogprobs(ids)).dataSync());
      const ref = Array.from(reference.model.tokenLogprobs(ids).dataSync());
      off.forEach((x, i) => expect(x).toBeCloseTo(ref[i]!, 5));
      ids.dispose();
      policy.model.dispose();
      reference.model.dispose();
    });
  });
});

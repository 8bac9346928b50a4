// LoRA through the product, by the CLI on a tiny Llama-family project: `train sft --lora-r …`
// trains adapters only (the checkpoint stores just them and points to its base), loading it is
// base + adapter, `model export` writes a PEFT folder (or --merged a full model) and `model import
// --adapter` reads one back; a PEFT adapter written by the fixture script gives PyTorch's log-probs.
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandIO } from '../../../src-main/cli/command.js';
import { logprobsCommand } from '../../../src-main/cli/commands/logprobs.js';
import { modelCommand } from '../../../src-main/cli/commands/model.js';
import { trainCommand } from '../../../src-main/cli/commands/train.js';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { loadModel, weightsFromBytes } from '../../../src-main/engine/io/checkpoint-io.js';
import { Project } from '../../../src-main/store/project.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');

async function run<T>(cmd: { run(argv: string[], io: CommandIO): Promise<number> }, argv: string[]): Promise<T> {
  const outputs: unknown[] = [];
  const io: CommandIO = { json: true, out: (v) => void outputs.push(v), progress: () => {}, err: () => {} };
  expect(await cmd.run([...argv, '--json'], io)).toBe(0);
  expect(outputs).toHaveLength(1);
  return outputs[0] as T;
}

interface TrainOutput {
  run: number;
  checkpoint: number;
}

let dir: string;
let file: string;
const seq = [5, 17, 42, 99, 3, 250, 7, 128, 64, 1, 200, 12];

const logprobs = async (checkpoint: number) => (await run<{ logprobs: number[] }>(logprobsCommand, [file, '--checkpoint', String(checkpoint), '--ids', seq.join(',')])).logprobs;
const maxAbsDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));

beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'cli-lora-'));
  file = join(dir, 'tiny.rlhf');
  const p = Project.open(file, { create: true });
  for (const a of ['cat', 'dog', 'cow', 'owl', 'fox', 'bee', 'ant', 'elk']) p.sft.insert({ kind: 'completion', prompt: `What sound does a ${a} make?`, completion: ` A ${a} makes a ${a} sound.` });
  p.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('LoRA SFT, export and import through the CLI', () => {
  let base: number;
  let full: number;
  let adapter: number;

  it('train sft --lora-r trains an adapter that points to its base, and lowers the loss', async () => {
    base = (await run<{ checkpoint: number }>(modelCommand, ['new', file, '--family', 'llama', '--layers', '2', '--heads', '4', '--kv-heads', '2', '--embd', '32', '--mlp', '64', '--ctx', '48', '--vocab', '512'])).checkpoint;
    // A briefly trained base, so the adapters have a model to steer (a fresh one's outputs are near uniform).
    full = (await run<TrainOutput>(trainCommand, ['sft', file, '--from', String(base), '--set', 'max_steps=20', '--set', 'batch_size=4', '--set', 'lr=0.01', '--set', 'eval_every=100'])).checkpoint;
    const r = await run<TrainOutput>(trainCommand, [
      'sft', file, '--from', String(full), '--lora-r', '8', '--lora-alpha', '16', '--lora-targets', 'q_proj,v_proj,o_proj,down_proj', '--lora-dropout', '0.05',
      '--set', 'max_steps=20', '--set', 'batch_size=4', '--set', 'lr=0.02', '--set', 'warmup_steps=0', '--set', 'eval_every=100',
    ]);
    adapter = r.checkpoint;
    const p = Project.open(file);
    const loss = p.runs.metricsFor(r.run, ['loss']).loss!.map((m) => m.value);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(loss.slice(-5))).toBeLessThan(mean(loss.slice(0, 5)));
    const c = p.checkpoints.load(adapter);
    expect(c.parent_id).toBe(full);
    expect(c.extra?.adapter).toEqual({ r: 8, alpha: 16, dropout: 0.05, targets: ['q_proj', 'v_proj', 'o_proj', 'down_proj'], base: full });
    // Only the adapter's tensors: A [8, in] and B [out, 8] of 4 modules in each of 2 layers.
    const names = Object.keys(weightsFromBytes(c.weights));
    expect(names).toHaveLength(2 * 4 * 2);
    expect(names.every((n) => /^model\.layers\.\d\.(self_attn|mlp)\.\w+_proj\.lora_[AB]\.weight$/.test(n))).toBe(true);
    // Loading it is the base plus the adapter; the adapters switched off give the base exactly.
    const loaded = loadModel(p, adapter, 0, { adapter: 'attach' });
    const baseModel = loadModel(p, full);
    expect(loaded.model.lora?.modules()).toHaveLength(8);
    expect(loaded.model.getWeights()).toEqual(baseModel.model.getWeights());
    // What knows nothing of adapters (the RM, PPO, DPO, RLOO and GRPO stages, Compare) loads it merged.
    const merged = loadModel(p, adapter);
    expect(merged.model.lora).toBeNull();
    expect(Object.keys(merged.weights).sort()).toEqual(Object.keys(baseModel.weights).sort());
    const ids = tf.tensor2d([seq], [1, seq.length], 'int32');
    const lp = (m: typeof merged) => Array.from(m.model.tokenLogprobs(ids).dataSync());
    expect(maxAbsDiff(lp(merged), lp(loaded))).toBeLessThan(1e-5);
    ids.dispose();
    merged.model.dispose();
    loaded.model.dispose();
    baseModel.model.dispose();
    p.close();
    expect(maxAbsDiff(await logprobs(adapter), await logprobs(full))).toBeGreaterThan(1e-3);
  });

  it('model export writes a PEFT folder that imports back bit-identical, and --merged a full model of equal log-probs', async () => {
    const peftDir = join(dir, 'adapter');
    const exp = await run<{ files: string[] }>(modelCommand, ['export', file, String(adapter), peftDir]);
    expect(exp.files).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const cfg = JSON.parse(readFileSync(join(peftDir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg).toMatchObject({ peft_type: 'LORA', r: 8, lora_alpha: 16, lora_dropout: 0.05, target_modules: ['q_proj', 'v_proj', 'o_proj', 'down_proj'] });
    const st = readFileSync(join(peftDir, 'adapter_model.safetensors'));
    const header = JSON.parse(st.subarray(8, 8 + Number(st.readBigUInt64LE(0))).toString('utf8')) as Record<string, { shape: number[] }>;
    expect(header['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight']!.shape).toEqual([8, 32]);
    expect(header['base_model.model.model.layers.1.mlp.down_proj.lora_B.weight']!.shape).toEqual([32, 8]);

    const baseDir = join(dir, 'base');
    await run(modelCommand, ['export', file, String(full), baseDir]);
    const imp = await run<{ checkpoint: number; base: number }>(modelCommand, ['import', file, baseDir, '--adapter', peftDir]);
    const original = await logprobs(adapter);
    expect(await logprobs(imp.checkpoint)).toEqual(original);

    const mergedDir = join(dir, 'merged');
    const m = await run<{ files: string[] }>(modelCommand, ['export', file, String(adapter), mergedDir, '--merged']);
    expect(m.files).toContain('model.safetensors');
    expect(existsSync(join(mergedDir, 'adapter_config.json'))).toBe(false);
    const merged = (await run<{ checkpoint: number }>(modelCommand, ['import', file, mergedDir])).checkpoint;
    expect(maxAbsDiff(await logprobs(merged), original)).toBeLessThan(1e-5);
  });

  it('model import --adapter of a PEFT folder gives the PyTorch reference log-probs', async () => {
    const imp = await run<{ checkpoint: number }>(modelCommand, ['import', file, join(fixtures, 'llama-tiny'), '--adapter', join(fixtures, 'llama-tiny-lora')]);
    const ref = JSON.parse(readFileSync(join(fixtures, 'llama-tiny-lora', 'reference-logprobs.json'), 'utf8')) as { sequences: number[][]; logprobs: number[][] };
    const r = await run<{ logprobs: number[] }>(logprobsCommand, [file, '--checkpoint', String(imp.checkpoint), '--ids', ref.sequences[1]!.join(',')]);
    expect(maxAbsDiff(r.logprobs, ref.logprobs[1]!)).toBeLessThan(1e-4);
  });

  it('model import --adapter refuses an adapter that does not fit the base, storing nothing', async () => {
    const count = () => {
      const p = Project.open(file);
      const n = p.checkpoints.list().length;
      p.close();
      return n;
    };
    const before = count();
    await expect(run(modelCommand, ['import', file, join(fixtures, 'qwen2-tiny'), '--adapter', join(fixtures, 'llama-tiny-lora')])).rejects.toThrow(/LoRA weights of model\.layers\.0\.self_attn\.q_proj have the wrong size/);
    expect(count()).toBe(before);
  });
});

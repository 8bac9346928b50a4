import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandIO } from '../../../src-main/cli/command.js';
import { generateCommand } from '../../../src-main/cli/commands/generate.js';
import { logprobsCommand } from '../../../src-main/cli/commands/logprobs.js';
import { modelCommand } from '../../../src-main/cli/commands/model.js';
import { trainCommand } from '../../../src-main/cli/commands/train.js';
import { Project } from '../../../src-main/store/project.js';
import { InputError } from '../../../src-main/shared/errors.js';

/** Runs a command as the CLI would with --json and returns the one JSON object it printed. */
async function run<T>(cmd: { run(argv: string[], io: CommandIO): Promise<number> }, argv: string[]): Promise<T> {
  const outputs: unknown[] = [];
  const io: CommandIO = {
    json: true,
    out: (v) => void outputs.push(v),
    progress: () => {},
    err: () => {},
  };
  const status = await cmd.run([...argv, '--json'], io);
  expect(status).toBe(0);
  expect(outputs.length).toBe(1);
  return outputs[0] as T;
}

let dir: string;
let file: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-sft-'));
  file = join(dir, 'tiny.rlhf');
  const p = Project.open(file, { create: true });
  const animals = ['cat', 'dog', 'cow', 'owl', 'fox', 'bee', 'ant', 'elk'];
  for (const a of animals) {
    p.sft.insert({ kind: 'completion', prompt: `What sound does a ${a} make?`, completion: ` A ${a} makes a ${a} sound.` });
    p.prompts.upsert(`Tell me about the ${a}.`);
  }
  p.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rlhf-lab model / train sft / generate / logprobs', () => {
  let base: number;
  let sft: number;

  it('model new trains a tokenizer on the project and stores a base checkpoint', async () => {
    const r = await run<{ checkpoint: number; vocab_size: number; backend: string }>(modelCommand, ['new', file, '--layers', '1', '--heads', '2', '--embd', '16', '--ctx', '32', '--vocab', '512']);
    expect(r.checkpoint).toBeGreaterThan(0);
    expect(r.vocab_size).toBeLessThanOrEqual(512);
    expect(r.backend).toBeTruthy();
    base = r.checkpoint;
  });

  it('train sft --json runs to the end and prints run, checkpoint and final metrics', async () => {
    const cfg = join(dir, 'sft.json');
    writeFileSync(cfg, JSON.stringify({ batch_size: 4, lr: 0.003, warmup_steps: 1 }, null, 2));
    const r = await run<{ run: number; checkpoint: number; metrics: Record<string, number> }>(trainCommand, ['sft', file, '--from', String(base), '--config', cfg, '--set', 'max_steps=6', '--set', 'eval_every=3']);
    expect(r.run).toBeGreaterThan(0);
    expect(r.checkpoint).toBeGreaterThan(base);
    for (const k of ['loss', 'eval/loss', 'mean_token_accuracy', 'grad_norm', 'lr', 'tokens_per_second']) expect(Number.isFinite(r.metrics[k])).toBe(true);
    sft = r.checkpoint;
    const p = Project.open(file);
    expect(p.runs.get(r.run)).toMatchObject({ status: 'completed', step: 6, stage: 'sft' });
    expect(p.checkpoints.get(sft)).toMatchObject({ stage: 'sft', parent_id: base, run_id: r.run, step: 6 });
    expect(p.runs.metricsFor(r.run, ['loss']).loss!.length).toBe(6);
    // At each eval (steps 3 and 6) the model answers a held-out prompt; the answers are kept.
    const samples = p.runs.samplesFor(r.run);
    expect(samples.map((s) => s.step)).toEqual([3, 6]);
    expect(samples[0]!.prompt).toMatch(/What sound does a \w+ make\?/);
    p.close();
    const list = await run<{ checkpoints: { id: number }[] }>(modelCommand, ['list', file]);
    expect(list.checkpoints.find((c) => c.id === sft)).toMatchObject({ stage: 'sft', parent: base, lineage: [base] });
  });

  it('rejects bad config input naming the file, line and field (exit 2)', async () => {
    const cfg = join(dir, 'bad.json');
    writeFileSync(cfg, '{\n  "batch_size": 4,\n  "learning_rate": 0.1\n}\n');
    await expect(run(trainCommand, ['sft', file, '--from', String(base), '--config', cfg])).rejects.toThrow(InputError);
    await expect(run(trainCommand, ['sft', file, '--from', String(base), '--config', cfg])).rejects.toThrow(/bad\.json:3: field "learning_rate"/);
    await expect(run(trainCommand, ['sft', file, '--from', String(base), '--set', 'lr=-1'])).rejects.toThrow(/--set lr/);
    await expect(run(trainCommand, ['sft', file, '--from', '999'])).rejects.toThrow(/checkpoint 999 does not exist/);
    await expect(run(trainCommand, ['sft', file, '--resume', '1', '--set', 'lr=1'])).rejects.toThrow(/do not apply to --resume/);
  });

  it('generate gives the same text for the same seed', async () => {
    const args = ['--checkpoint', String(sft), '--prompt', 'What sound does a cat make?', '--seed', '7', '--max-tokens', '12', '--temperature', '1'];
    const a = await run<{ texts: string[] }>(generateCommand, [file, ...args]);
    const b = await run<{ texts: string[] }>(generateCommand, [file, ...args]);
    expect(a.texts).toEqual(b.texts);
    expect(a.texts.length).toBe(1);
    const chat = await run<{ texts: string[]; chat: boolean }>(generateCommand, [file, ...args, '--chat', '-n', '2']);
    expect(chat.chat).toBe(true);
    expect(chat.texts.length).toBe(2);
  });

  it('logprobs prints one log-prob per next token', async () => {
    const r = await run<{ ids: number[]; logprobs: number[] }>(logprobsCommand, [file, '--checkpoint', String(sft), '--text', 'A cat makes a cat sound.']);
    expect(r.logprobs.length).toBe(r.ids.length - 1);
    expect(r.logprobs.every((x) => x <= 0)).toBe(true);
    const byIds = await run<{ logprobs: number[] }>(logprobsCommand, [file, '--checkpoint', String(sft), '--ids', r.ids.join(',')]);
    expect(byIds.logprobs).toEqual(r.logprobs);
  });

  it('model import / export round-trip a Hugging Face folder; a non-GPT-2 folder is bad input', async () => {
    const fixture = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'gpt2-tiny');
    const imp = await run<{ checkpoint: number; model_config: { n_embd: number } }>(modelCommand, ['import', file, fixture, '--name', 'tiny gpt2']);
    expect(imp.model_config.n_embd).toBe(64);
    const out = join(dir, 'exported');
    const exp = await run<{ folder: string; files: string[] }>(modelCommand, ['export', file, String(imp.checkpoint), out]);
    expect(exp.files).toContain('model.safetensors');
    const again = await run<{ checkpoint: number }>(modelCommand, ['import', file, out]);
    const p = Project.open(file);
    expect(p.checkpoints.load(again.checkpoint).sha256).toBe(p.checkpoints.load(imp.checkpoint).sha256);
    p.close();
    await expect(run(modelCommand, ['import', file, dir])).rejects.toThrow(InputError);
  });

  it('through bin/rlhf-lab.js: train sft --json prints exactly one JSON object; bad input exits 2', () => {
    const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'rlhf-lab.js');
    const ok = spawnSync(process.execPath, [bin, 'train', 'sft', file, '--from', String(base), '--set', 'max_steps=2', '--json'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    const out = JSON.parse(ok.stdout);
    expect(Object.keys(out)).toEqual(expect.arrayContaining(['run', 'checkpoint', 'metrics']));
    expect(out.metrics.loss).toBeGreaterThan(0);
    const bad = spawnSync(process.execPath, [bin, 'train', 'sft', file, '--from', String(base), '--set', 'epochs=0', '--json'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/--set epochs/);
  });
});

// Every stage with a Llama-family model, end to end through the CLI on a tiny project: `model new
// --family llama` (GQA, untied) → SFT (the loss falls) → reward model → PPO → DPO → generate →
// logprobs, an imported Qwen2 folder giving the PyTorch reference's log-probs by `logprobs --ids`,
// and a model with a chat template trained on `messages` data and sampled as a chat.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  metrics: Record<string, number>;
}

let dir: string;
let file: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-llama-'));
  file = join(dir, 'tiny.rlhf');
  const p = Project.open(file, { create: true });
  const who = p.annotators.ensure('ann');
  const animals = ['cat', 'dog', 'cow', 'owl', 'fox', 'bee', 'ant', 'elk', 'yak', 'eel', 'emu', 'gnu'];
  animals.forEach((a, i) => {
    p.sft.insert({ kind: 'completion', prompt: `What sound does a ${a} make?`, completion: ` A ${a} makes a ${a} sound.` });
    const prompt = p.prompts.upsert(`Tell me about the ${a}.`, { split: i < 10 ? 'train' : 'eval' }).id;
    const ids = [`The ${a} is good and good.`, `The ${a} is good.`, `The ${a} is small.`].map((text) => p.responses.upsert({ promptId: prompt, text, source: 'human' }).id);
    p.preferences.insertRanking({ uid: `r${i}`, promptId: prompt, annotatorId: who, ranking: [[ids[0]!], [ids[1]!], [ids[2]!]], source: 'human' });
  });
  p.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a Llama-family model through every stage', () => {
  let base: number;
  let sft: number;
  let rm: number;

  it('model new --family llama makes a GQA model and says which engine path it takes', async () => {
    const r = await run<{ checkpoint: number; family: string; parameters: number; engine_path: { training: string; generation: string } }>(modelCommand, [
      'new', file, '--family', 'llama', '--layers', '2', '--heads', '4', '--kv-heads', '2', '--embd', '32', '--mlp', '64', '--untied', '--ctx', '48', '--vocab', '512',
    ]);
    expect(r.family).toBe('llama');
    expect(r.engine_path.generation).toMatch(/compiled decoder \(kernels\/decode\.c\) implements GPT-2 layers only/);
    const p = Project.open(file);
    expect(p.checkpoints.get(r.checkpoint)!.model_config).toMatchObject({ family: 'llama', n_head: 4, n_kv_head: 2, head_dim: 8, intermediate_size: 64, tie_word_embeddings: false });
    p.close();
    base = r.checkpoint;
    await expect(run(modelCommand, ['new', file, '--kv-heads', '2'])).rejects.toThrow(/--kv-heads needs --family llama/);
    await expect(run(modelCommand, ['new', file, '--family', 'llama', '--heads', '4', '--kv-heads', '3'])).rejects.toThrow(InputError);
  });

  it('SFT learns (loss falls)', async () => {
    const r = await run<TrainOutput>(trainCommand, ['sft', file, '--from', String(base), '--set', 'max_steps=30', '--set', 'batch_size=4', '--set', 'lr=0.01', '--set', 'warmup_steps=2', '--set', 'eval_every=30']);
    const p = Project.open(file);
    const loss = p.runs.metricsFor(r.run, ['loss']).loss!.map((m) => m.value);
    p.close();
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(loss.slice(-5))).toBeLessThan(0.6 * mean(loss.slice(0, 5)));
    sft = r.checkpoint;
  });

  it('reward model, PPO and DPO run to the end from it', async () => {
    const rmOut = await run<TrainOutput>(trainCommand, ['rm', file, '--from', String(sft), '--set', 'epochs=2', '--set', 'batch_prompts=5', '--set', 'lr=0.003', '--set', 'norm_samples=4', '--set', 'norm_max_new_tokens=4']);
    expect(Number.isFinite(rmOut.metrics['eval/accuracy'])).toBe(true);
    rm = rmOut.checkpoint;
    const ppo = await run<TrainOutput>(trainCommand, ['ppo', file, '--from', String(sft), '--set', `reward_model=${rm}`, '--set', 'steps=2', '--set', 'batch_size=4', '--set', 'num_mini_batches=2', '--set', 'max_new_tokens=6']);
    for (const k of ['objective/kl', 'objective/scores', 'loss/policy_avg', 'loss/value_avg']) expect(Number.isFinite(ppo.metrics[k]), k).toBe(true);
    const dpo = await run<TrainOutput>(trainCommand, ['dpo', file, '--from', String(sft), '--set', 'epochs=1', '--set', 'batch_size=10', '--set', 'lr=0.003']);
    expect(Number.isFinite(dpo.metrics['rewards/margins'])).toBe(true);
    const p = Project.open(file);
    expect([rm, ppo.checkpoint, dpo.checkpoint].map((id) => p.checkpoints.get(id)!.stage)).toEqual(['rm', 'ppo', 'dpo']);
    expect(p.checkpoints.get(ppo.checkpoint)!.model_config).toMatchObject({ family: 'llama', n_kv_head: 2 });
    p.close();
  });

  it('generate and logprobs work on the SFT model', async () => {
    const args = ['--checkpoint', String(sft), '--prompt', 'What sound does a cat make?', '--seed', '3', '--max-tokens', '8', '--temperature', '1'];
    const a = await run<{ texts: string[] }>(generateCommand, [file, ...args]);
    expect(a.texts).toEqual((await run<{ texts: string[] }>(generateCommand, [file, ...args])).texts);
    const lp = await run<{ ids: number[]; logprobs: number[] }>(logprobsCommand, [file, '--checkpoint', String(sft), '--text', ' A cat makes a cat sound.']);
    expect(lp.logprobs).toHaveLength(lp.ids.length - 1);
    expect(lp.logprobs.every((x) => x <= 0)).toBe(true);
  });

  it('an imported Qwen2 folder gives the PyTorch reference log-probs through logprobs --ids', async () => {
    const imp = await run<{ checkpoint: number; family: string }>(modelCommand, ['import', file, join(fixtures, 'qwen2-tiny')]);
    expect(imp.family).toBe('qwen2');
    const ref = JSON.parse(readFileSync(join(fixtures, 'qwen2-tiny', 'reference-logprobs.json'), 'utf8')) as { sequences: number[][]; logprobs: number[][] };
    const r = await run<{ logprobs: number[] }>(logprobsCommand, [file, '--checkpoint', String(imp.checkpoint), '--ids', ref.sequences[2]!.join(',')]);
    r.logprobs.forEach((x, i) => expect(Math.abs(x - ref.logprobs[2]![i]!)).toBeLessThan(1e-4));
  });

  it('a model with a chat template: SFT on messages data learns the assistant turns, generate --chat answers', async () => {
    // The base exported with a Zephyr-style template over the trained tokenizer's role tokens.
    const folder = join(dir, 'instruct');
    await run(modelCommand, ['export', file, String(base), folder]);
    const template =
      "{% for m in messages %}{{ '<|' + m['role'] + '|>' + m['content'] + eos_token }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}";
    const cfg = JSON.parse(readFileSync(join(folder, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify({ ...cfg, chat_template: template }));
    const instruct = (await run<{ checkpoint: number }>(modelCommand, ['import', file, folder, '--name', 'instruct'])).checkpoint;
    const p = Project.open(file);
    for (const a of ['cat', 'dog', 'cow', 'owl', 'fox', 'bee']) {
      p.sft.insert({ kind: 'messages', messages: [{ role: 'user', content: `Name the ${a}.` }, { role: 'assistant', content: `It is a ${a}.` }] });
    }
    p.close();
    const r = await run<TrainOutput>(trainCommand, ['sft', file, '--from', String(instruct), '--set', 'max_steps=30', '--set', 'batch_size=6', '--set', 'lr=0.01', '--set', 'warmup_steps=2', '--set', 'eval_every=30']);
    const q = Project.open(file);
    const loss = q.runs.metricsFor(r.run, ['loss']).loss!.map((m) => m.value);
    q.close();
    expect(loss.at(-1)!).toBeLessThan(0.6 * loss[0]!);
    // The template travels with the trained checkpoint: its export carries it.
    const out = join(dir, 'instruct-sft');
    await run(modelCommand, ['export', file, String(r.checkpoint), out]);
    expect(JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')).chat_template).toBe(template);
    const g = await run<{ texts: string[]; chat: boolean }>(generateCommand, [file, '--checkpoint', String(r.checkpoint), '--prompt', 'Name the cat.', '--chat', '--seed', '1', '--max-tokens', '8', '--temperature', '0']);
    expect(g.chat).toBe(true);
    expect(g.texts[0]).toMatch(/^It is a/);
  });
});

// The reward-model, PPO and DPO stages end to end through the CLI's `train` command on a tiny
// project: rankings in the store → reward model → PPO against it → DPO; runs, metrics, sample
// tables and checkpoints land in the project, and an interrupted PPO run resumes exactly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandIO } from '../../../src-main/cli/command.js';
import { modelCommand } from '../../../src-main/cli/commands/model.js';
import { trainCommand } from '../../../src-main/cli/commands/train.js';
import { runJobInProcess } from '../../../src-main/jobs/run-in-process.js';
import { Project } from '../../../src-main/store/project.js';

interface TrainOutput {
  run: number;
  checkpoint: number;
  metrics: Record<string, number>;
}

async function run(argv: string[]): Promise<TrainOutput> {
  const outputs: unknown[] = [];
  const io: CommandIO = { json: true, out: (v) => void outputs.push(v), progress: () => {}, err: () => {} };
  const cmd = argv[0] === 'model' ? modelCommand : trainCommand;
  const status = await cmd.run([...argv.slice(1), '--json'], io);
  expect(status).toBe(0);
  expect(outputs).toHaveLength(1);
  return outputs[0] as TrainOutput;
}

let dir: string;
let file: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rm-ppo-dpo-'));
  file = join(dir, 'tiny.rlhf');
  const p = Project.open(file, { create: true });
  const who = p.annotators.ensure('ann');
  const animals = ['cat', 'dog', 'cow', 'owl', 'fox', 'bee', 'ant', 'elk', 'yak', 'eel', 'emu', 'gnu'];
  animals.forEach((a, i) => {
    const prompt = p.prompts.upsert(`Tell me about the ${a}.`, { split: i < 10 ? 'train' : 'eval' }).id;
    const ids = [`The ${a} is good and good.`, `The ${a} is good.`, `The ${a} is small.`].map(
      (text) => p.responses.upsert({ promptId: prompt, text, source: 'human' }).id,
    );
    p.preferences.insertRanking({ uid: `r${i}`, promptId: prompt, annotatorId: who, ranking: [[ids[0]!], [ids[1]!], [ids[2]!]], source: 'human' });
  });
  p.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rlhf-lab train rm / ppo / dpo', () => {
  let base: number;
  let rm: number;

  it('trains a reward model from the stored rankings, normalised, with train and eval metrics', async () => {
    base = (await run(['model', 'new', file, '--layers', '1', '--heads', '2', '--embd', '16', '--ctx', '40', '--vocab', '512'])).checkpoint;
    const r = await run(['train', 'rm', file, '--from', String(base), '--set', 'epochs=4', '--set', 'batch_prompts=5', '--set', 'lr=0.003', '--set', 'norm_samples=8', '--set', 'norm_max_new_tokens=6']);
    expect(r.run).toBeGreaterThan(0);
    for (const k of ['loss', 'accuracy', 'margin', 'mean_reward', 'min_reward', 'max_reward', 'eval/loss', 'eval/accuracy', 'eval/margin']) {
      expect(Number.isFinite(r.metrics[k]), k).toBe(true);
    }
    const p = Project.open(file);
    const ckpt = p.checkpoints.get(r.checkpoint)!;
    expect(ckpt.stage).toBe('rm');
    expect(ckpt.parent_id).toBe(base);
    expect(ckpt.extra?.normalisation).toMatchObject({ gain: expect.any(Number), bias: expect.any(Number) });
    expect(p.runs.get(r.run)!.status).toBe('completed');
    p.close();
    rm = r.checkpoint;
  });

  it('train ppo --from <sft> --set reward_model=<rm> --json runs to the end and prints the final metrics', async () => {
    const r = await run(['train', 'ppo', file, '--from', String(base), '--set', `reward_model=${rm}`, '--set', 'steps=3', '--set', 'batch_size=4', '--set', 'num_mini_batches=2', '--set', 'max_new_tokens=6', '--set', 'sample_every=2', '--set', 'health={"min_response_len":100}']);
    for (const k of ['objective/kl', 'objective/kl_coef', 'objective/scores', 'objective/rlhf_reward', 'val/ratio', 'loss/policy_avg', 'tokens/response_len_mean']) {
      expect(Number.isFinite(r.metrics[k]), k).toBe(true);
    }
    const p = Project.open(file);
    expect(p.checkpoints.get(r.checkpoint)!.stage).toBe('ppo');
    expect(p.runs.get(r.run)!.config).toMatchObject({ reward_model: rm, kl_coef: 0.05, temperature: 0.7, cliprange: 0.2, vf_coef: 0.1 });
    // Sample tables at steps 1, 2 and 3, each kept.
    expect([...new Set(p.runs.samplesFor(r.run).map((s) => s.step))]).toEqual([1, 2, 3]);
    // A threshold no response can meet: the collapse warning is stored with its step and samples.
    const events = p.runs.eventsFor(r.run);
    expect(events.map((e) => [e.kind, e.step])).toEqual([['collapse_length', 1]]);
    expect((events[0]!.data as { samples: unknown[] }).samples).toHaveLength(4);
    p.close();
  });

  it('an interrupted PPO run resumes from its checkpoint to the same result as an uninterrupted one', async () => {
    const config = { reward_model: rm, steps: 4, batch_size: 4, num_mini_batches: 2, max_new_tokens: 6, checkpoint_every: 2, lr: 1e-3 };
    const p = Project.open(file);
    try {
      // As the Train view starts it: the reward model next to the config rather than inside.
      const { reward_model, ...rest } = config;
      const whole = await runJobInProcess<{ run: number; metrics: Record<string, number> }>('train-ppo', { from: base, config: rest, reward_model }, p);
      const controller = new AbortController();
      await expect(
        runJobInProcess('train-ppo', { from: base, config }, p, (pr) => pr.done >= 3 && controller.abort(), { signal: controller.signal }),
      ).rejects.toThrow(/cancelled/);
      const stopped = p.runs.listRuns('ppo')[0]!;
      expect(stopped.status).toBe('stopped');
      const resumed = await runJobInProcess<{ run: number; metrics: Record<string, number> }>('train-ppo', { resume: stopped.id }, p);
      expect(resumed.run).toBe(stopped.id);
      expect(p.runs.get(stopped.id)!.status).toBe('completed');
      for (const k of ['objective/kl', 'objective/scores', 'loss/policy_avg', 'loss/value_avg']) expect(resumed.metrics[k]).toBeCloseTo(whole.metrics[k]!, 4);
    } finally {
      p.close();
    }
  });

  it('train dpo on the same pairs reports the DPO metrics', async () => {
    const r = await run(['train', 'dpo', file, '--from', String(base), '--set', 'epochs=2', '--set', 'batch_size=10', '--set', 'lr=0.003']);
    for (const k of ['rewards/chosen', 'rewards/rejected', 'rewards/accuracies', 'rewards/margins', 'logps/chosen', 'logps/rejected', 'eval/rewards/accuracies']) {
      expect(Number.isFinite(r.metrics[k]), k).toBe(true);
    }
    const p = Project.open(file);
    expect(p.checkpoints.get(r.checkpoint)!.stage).toBe('dpo');
    p.close();
  });
});

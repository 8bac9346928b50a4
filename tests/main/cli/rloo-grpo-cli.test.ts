// RLOO and GRPO as stages, end to end through the CLI's `train` command on a tiny project:
// rankings → reward model → `train rloo` / `train grpo` against it. Each runs its iterations
// with TRL's metric names, the score it optimises rises, its sample tables hold whole groups
// with each completion's advantage, its checkpoint records its lineage (the SFT parent and the
// reward model), and an interrupted run resumes to the same result as an uninterrupted one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJobInProcess } from '../../../src-main/jobs/run-in-process.js';
import { Project } from '../../../src-main/store/project.js';
import type { CommandIO } from '../../../src-main/cli/command.js';
import { trainCommand } from '../../../src-main/cli/commands/train.js';
import { addRankedAnimals, curve, mean, run, sets, type TrainOutput } from './tiny-rl-project.js';

let dir: string;
let file: string;
let base: number;
let rm: number;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rloo-grpo-'));
  file = join(dir, 'tiny.rlhf');
  const p = Project.open(file, { create: true });
  addRankedAnimals(p);
  p.close();
  base = (await run(['model', 'new', file, '--layers', '1', '--heads', '2', '--embd', '16', '--ctx', '40', '--vocab', '512'])).checkpoint;
  rm = (await run(['train', 'rm', file, '--from', String(base), '--set', 'epochs=4', '--set', 'batch_prompts=5', '--set', 'lr=0.003', '--set', 'norm_samples=8', '--set', 'norm_max_new_tokens=6'])).checkpoint;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));


/** Settings under which the tiny policy learns within seconds: answers never finish in 6 tokens, so no EOS penalty. */
const learning = ['steps=30', 'prompts_per_step=8', 'max_new_tokens=6', 'lr=0.03', 'temperature=1', 'missing_eos_penalty=0', 'sample_every=10'];

describe('rlhf-lab train rloo / grpo', () => {
  it('train rloo --json runs its iterations, raises the score and checkpoints with its lineage', async () => {
    const r = await run(['train', 'rloo', file, '--from', String(base), ...sets([`reward_model=${rm}`, 'rloo_k=4', ...learning])]);
    for (const k of ['objective/kl', 'objective/scores', 'objective/rlhf_reward', 'objective/non_score_reward', 'policy/clipfrac_avg', 'loss/policy_avg', 'val/ratio', 'tokens/response_len_mean']) {
      expect(Number.isFinite(r.metrics[k]), k).toBe(true);
    }
    const p = Project.open(file);
    try {
      const runRow = p.runs.get(r.run)!;
      expect(runRow).toMatchObject({ stage: 'rloo', status: 'completed', step: 30, parent_checkpoint_id: base });
      expect(runRow.config).toMatchObject({ reward_model: rm, rloo_k: 4, kl_coef: 0.05, cliprange: 0.2 });
      // The reward model's score of the answers rises by more than one (normalised) unit.
      const scores = curve(p, r.run, 'objective/scores');
      expect(scores).toHaveLength(30);
      expect(mean(scores.slice(-5))).toBeGreaterThan(mean(scores.slice(0, 5)) + 1);
      const ckpt = p.checkpoints.get(r.checkpoint)!;
      expect(ckpt).toMatchObject({ stage: 'rloo', run_id: r.run, parent_id: base, step: 30 });
      expect(ckpt.extra).toMatchObject({ reward_model: rm });
      // The final checkpoint keeps no optimizer state: nothing is left to resume.
      expect(ckpt.has_optimizer).toBe(false);
      // Samples at steps 1, 10, 20 and 30, each a whole number of groups of 4, each group one prompt.
      const samples = p.runs.samplesFor(r.run);
      expect([...new Set(samples.map((s) => s.step))]).toEqual([1, 10, 20, 30]);
      for (const step of [1, 10, 20, 30]) {
        const rows = samples.filter((s) => s.step === step);
        const groups = new Map<number, typeof rows>();
        for (const s of rows) groups.set(s.extra!.group as number, [...(groups.get(s.extra!.group as number) ?? []), s]);
        for (const g of groups.values()) {
          expect(g).toHaveLength(4);
          expect(new Set(g.map((s) => s.prompt)).size).toBe(1);
          expect(g.every((s) => typeof s.extra!.advantage === 'number')).toBe(true);
        }
      }
    } finally {
      p.close();
    }
  });

  it('train grpo --json runs its iterations with TRL’s names, raises the reward and checkpoints with its lineage', async () => {
    const r = await run(['train', 'grpo', file, '--from', String(base), ...sets([`reward_model=${rm}`, 'num_generations=4', 'num_iterations=2', 'loss_type=dr_grpo', 'epsilon_high=0.28', ...learning])]);
    for (const k of ['reward', 'reward_std', 'kl', 'loss', 'clip_ratio/low_mean', 'clip_ratio/high_mean', 'clip_ratio/region_mean', 'completions/mean_length', 'completions/clipped_ratio', 'entropy', 'learning_rate']) {
      expect(Number.isFinite(r.metrics[k]), k).toBe(true);
    }
    const p = Project.open(file);
    try {
      expect(p.runs.get(r.run)).toMatchObject({ stage: 'grpo', status: 'completed', step: 30, parent_checkpoint_id: base });
      expect(p.runs.get(r.run)!.config).toMatchObject({ reward_model: rm, num_generations: 4, num_iterations: 2, loss_type: 'dr_grpo', epsilon_high: 0.28, beta: 0.04 });
      const reward = curve(p, r.run, 'reward');
      expect(reward).toHaveLength(30);
      expect(mean(reward.slice(-5))).toBeGreaterThan(mean(reward.slice(0, 5)) + 1);
      const ckpt = p.checkpoints.get(r.checkpoint)!;
      expect(ckpt).toMatchObject({ stage: 'grpo', run_id: r.run, parent_id: base, step: 30 });
      expect(ckpt.extra).toMatchObject({ reward_model: rm });
      // Within a group (scale_rewards on), the advantages sum to zero.
      const rows = p.runs.samplesFor(r.run).filter((s) => s.step === 30);
      const group0 = rows.filter((s) => s.extra!.group === 0);
      expect(group0).toHaveLength(4);
      expect(group0.reduce((a, s) => a + (s.extra!.advantage as number), 0)).toBeCloseTo(0, 5);
    } finally {
      p.close();
    }
  });

  it('Compare’s reward-model-vs-gold judgement takes an RLOO run’s checkpoints, and refuses a run with no reward model', async () => {
    const p = Project.open(file);
    try {
      const rloo = p.runs.listRuns('rloo').at(-1)!;
      const judged = await runJobInProcess<{ rm: number; sft: number; points: { step: number }[] }>('judge-checkpoints', { run: rloo.id, prompts: 4, seed: 1 }, p);
      expect(judged).toMatchObject({ rm, sft: base });
      expect(judged.points.map((x) => x.step)).toEqual([0, 30]);
      const rmRun = p.runs.listRuns('rm')[0]!;
      await expect(runJobInProcess('judge-checkpoints', { run: rmRun.id }, p)).rejects.toThrow(`run ${rmRun.id} is not a PPO run (nor RLOO or GRPO): it has no reward model to check`);
    } finally {
      p.close();
    }
  });

  it('train <stage> --fields lists the stage’s config fields with their defaults', async () => {
    const outputs: unknown[] = [];
    const io: CommandIO = { json: true, out: (v) => void outputs.push(v), progress: () => {}, err: () => {} };
    expect(await trainCommand.run(['grpo', '--fields', '--json'], io)).toBe(0);
    const { fields } = outputs[0] as { fields: { key: string; default: unknown; options?: string[] }[] };
    expect(fields.find((f) => f.key === 'loss_type')).toMatchObject({ default: 'bnpo', options: ['grpo', 'bnpo', 'dr_grpo'] });
    expect(fields.find((f) => f.key === 'num_generations')).toMatchObject({ default: 4 });
    expect(fields.map((f) => f.key)).not.toContain('rloo_k');
  });

  it('rejects a config the stage does not know, naming the flag', async () => {
    const io: CommandIO = { json: true, out: () => {}, progress: () => {}, err: () => {} };
    await expect(trainCommand.run(['grpo', file, '--from', String(base), '--set', `reward_model=${rm}`, '--set', 'rloo_k=3'], io)).rejects.toThrow(/rloo_k/);
    await expect(trainCommand.run(['grpo', file, '--from', String(base), '--set', `reward_model=${rm}`, '--set', 'loss_type=mean'], io)).rejects.toThrow(/--set loss_type/);
  });

  for (const stage of ['rloo', 'grpo'] as const) {
    it(`an interrupted ${stage.toUpperCase()} run resumes from its checkpoint to the same result as an uninterrupted one`, async () => {
      const k = stage === 'rloo' ? { rloo_k: 2 } : { num_generations: 2 };
      const config = { ...k, steps: 4, prompts_per_step: 3, max_new_tokens: 6, checkpoint_every: 2, lr: 1e-2 };
      const p = Project.open(file);
      try {
        // As the Train view starts it: the reward model next to the config rather than inside.
        const whole = await runJobInProcess<TrainOutput>(`train-${stage}`, { from: base, config, reward_model: rm }, p);
        const controller = new AbortController();
        await expect(
          runJobInProcess(`train-${stage}`, { from: base, config: { ...config, reward_model: rm } }, p, (pr) => pr.done >= 3 && controller.abort(), { signal: controller.signal }),
        ).rejects.toThrow(/cancelled/);
        const stopped = p.runs.listRuns(stage)[0]!;
        expect(stopped.status).toBe('stopped');
        // Stopping checkpoints where it stopped, with what a resume needs.
        const mid = p.checkpoints.lastOfRun(stopped.id)!;
        expect(mid.step).toBe(3);
        expect(p.checkpoints.get(mid.id)).toMatchObject({ has_optimizer: true, extra: expect.objectContaining({ resume: { step: 3 } }) });
        const resumed = await runJobInProcess<TrainOutput>(`train-${stage}`, { resume: stopped.id }, p);
        expect(resumed.run).toBe(stopped.id);
        expect(p.runs.get(stopped.id)).toMatchObject({ status: 'completed', step: 4 });
        expect(p.checkpoints.get(resumed.checkpoint)).toMatchObject({ parent_id: base, extra: expect.objectContaining({ reward_model: rm }) });
        const keys = stage === 'rloo' ? ['objective/kl', 'objective/scores', 'loss/policy_avg'] : ['reward', 'kl', 'loss'];
        for (const key of keys) expect(resumed.metrics[key], key).toBeCloseTo(whole.metrics[key]!, 4);
        // The resumed run logged each step once.
        expect(curve(p, stopped.id, keys[0]!)).toHaveLength(4);
      } finally {
        p.close();
      }
    });
  }
});

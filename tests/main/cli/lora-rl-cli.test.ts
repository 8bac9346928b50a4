// LoRA in PPO, RLOO and GRPO through the CLI's `train` command on a tiny project (rankings →
// reward model, a briefly trained SFT model): `--lora-r 4` trains adapters whose score rises, the
// checkpoints hold only adapters (PPO's resume points also the value model's adapter and head) and
// point to the SFT checkpoint as their base, Compare judges such a checkpoint, and an interrupted
// LoRA run resumes to the same result as an uninterrupted one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJobInProcess } from '../../../src-main/jobs/run-in-process.js';
import { Project } from '../../../src-main/store/project.js';
import { addRankedAnimals, animals, curve, mean, run, sets, type TrainOutput } from './tiny-rl-project.js';
import { loadModel, weightsFromBytes } from '../../../src-main/engine/io/checkpoint-io.js';

let dir: string;
let file: string;
let base: number;
let fresh: number;
let rm: number;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-rl-'));
  file = join(dir, 'tiny.rlhf');
  const p = Project.open(file, { create: true });
  addRankedAnimals(p);
  for (const a of animals) p.sft.insert({ kind: 'completion', prompt: `Tell me about the ${a}.`, completion: ` The ${a} is small.` });
  p.close();
  fresh = (await run(['model', 'new', file, '--layers', '1', '--heads', '2', '--embd', '16', '--ctx', '40', '--vocab', '512'])).checkpoint;
  // A briefly trained SFT model: adapters steer a model whose logits span a few nats (a fresh one's are near uniform).
  base = (await run(['train', 'sft', file, '--from', String(fresh), '--set', 'max_steps=30', '--set', 'batch_size=4', '--set', 'lr=0.01', '--set', 'eval_every=100'])).checkpoint;
  rm = (await run(['train', 'rm', file, '--from', String(fresh), '--set', 'epochs=4', '--set', 'batch_prompts=5', '--set', 'lr=0.003', '--set', 'norm_samples=8', '--set', 'norm_max_new_tokens=6'])).checkpoint;
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));


/** Settings under which the tiny policy's adapters learn within seconds; no EOS penalty (answers rarely finish in 6 tokens). */
const learning = ['steps=30', 'max_new_tokens=6', 'lr=0.03', 'temperature=1', 'missing_eos_penalty=0', 'sample_every=10'];
const lora = ['--lora-r', '4', '--lora-targets', 'c_attn,c_fc,c_proj'];


/** The checkpoint holds only the policy's adapter tensors (and, when resumable, the value model's) and points to its base. */
function expectAdapterCheckpoint(p: Project, id: number, baseId: number): string[] {
  const c = p.checkpoints.load(id);
  expect(c.extra?.adapter).toMatchObject({ r: 4, targets: ['c_attn', 'c_fc', 'c_proj'], base: baseId });
  const names = Object.keys(weightsFromBytes(c.weights));
  expect(names.filter((n) => !n.startsWith('value.')).every((n) => /\.lora_[AB]\.weight$/.test(n))).toBe(true);
  return names;
}

describe('LoRA in the RL stages through the CLI', () => {
  it('train ppo --lora-r 4 raises the score, stores adapters on the SFT base, and Compare judges its checkpoints', async () => {
    const r = await run(['train', 'ppo', file, '--from', String(base), ...lora, ...sets([`reward_model=${rm}`, 'batch_size=8', 'num_mini_batches=2', 'num_ppo_epochs=2', 'value_init=policy', ...learning.map((x) => (x === 'lr=0.03' ? 'lr=0.003' : x))])]);
    const p = Project.open(file);
    try {
      const scores = curve(p, r.run, 'objective/scores');
      expect(scores).toHaveLength(30);
      expect(mean(scores.slice(-5))).toBeGreaterThan(mean(scores.slice(0, 5)) + 0.5);
      // The final checkpoint: the policy's adapter alone, on the SFT checkpoint.
      const names = expectAdapterCheckpoint(p, r.checkpoint, base);
      expect(names.some((n) => n.startsWith('value.'))).toBe(false);
      // Loaded (base + adapter, merged) it generates and is judged like any checkpoint.
      const judged = await runJobInProcess<{ points: { step: number }[] }>('judge-checkpoints', { run: r.run, prompts: 4, seed: 1 }, p);
      expect(judged.points.map((x) => x.step)).toEqual([0, 30]);
      const merged = loadModel(p, r.checkpoint);
      const sft = loadModel(p, base);
      expect(merged.model.getWeights()['h.0.attn.c_attn.weight']).not.toEqual(sft.model.getWeights()['h.0.attn.c_attn.weight']);
      expect(merged.model.getWeights()['wte.weight']).toEqual(sft.model.getWeights()['wte.weight']);
      merged.model.dispose();
      sft.model.dispose();
      // Compare: the SFT model (the reference) against the LoRA PPO checkpoint, generated and scored.
      const setId = p.comparisonSets.create('LoRA PPO vs SFT', {});
      const promptIds = [...p.prompts.iterate()].slice(0, 3).map((x) => x.id);
      const cmp = { setId, checkpoints: [base, r.checkpoint], promptIds, temperature: 0.7, top_p: 1, max_tokens: 6, seed: 1, best_of_n: 1, reward_model: rm };
      expect(await runJobInProcess<{ rows: number }>('compare', cmp, p)).toMatchObject({ rows: 6 });
      const rows = p.comparisonSets.rows(setId).filter((x) => x.checkpoint_id === r.checkpoint);
      expect(rows).toHaveLength(3);
      expect(rows.every((x) => Number.isFinite(x.score) && Number.isFinite(x.kl))).toBe(true);
      // The adapter checkpoint generates as its base + adapter: its answers score higher than the SFT model's.
      const sftRows = p.comparisonSets.rows(setId).filter((x) => x.checkpoint_id === base);
      expect(mean(rows.map((x) => x.score!))).toBeGreaterThan(mean(sftRows.map((x) => x.score!)));
    } finally {
      p.close();
    }
  });

  for (const stage of ['rloo', 'grpo'] as const) {
    it(`train ${stage} --lora-r 4 raises the score training adapters on the SFT base`, async () => {
      const k = stage === 'rloo' ? 'rloo_k=4' : 'num_generations=4';
      const r = await run(['train', stage, file, '--from', String(base), ...lora, ...sets([`reward_model=${rm}`, k, 'prompts_per_step=8', ...learning.map((x) => (x === 'lr=0.03' && stage === 'grpo' ? 'lr=0.003' : x))])]);
      const p = Project.open(file);
      try {
        const scores = curve(p, r.run, stage === 'rloo' ? 'objective/scores' : 'reward');
        expect(mean(scores.slice(-5))).toBeGreaterThan(mean(scores.slice(0, 5)) + 0.5);
        expect(expectAdapterCheckpoint(p, r.checkpoint, base).length).toBe(3 * 2 + 2);
      } finally {
        p.close();
      }
    });
  }

  for (const stage of ['ppo', 'grpo'] as const) {
    it(`an interrupted LoRA ${stage.toUpperCase()} run resumes from its adapter checkpoint to the same result as an uninterrupted one`, async () => {
      const config =
        stage === 'ppo'
          ? { steps: 4, batch_size: 4, num_mini_batches: 2, max_new_tokens: 6, checkpoint_every: 2, lr: 1e-2, value_init: 'reward', lora_r: 4, lora_targets: 'c_attn,c_fc,c_proj' }
          : { steps: 4, num_generations: 2, prompts_per_step: 3, max_new_tokens: 6, checkpoint_every: 2, lr: 1e-2, lora_r: 4, lora_targets: 'c_attn,c_fc,c_proj' };
      const p = Project.open(file);
      try {
        const whole = await runJobInProcess<TrainOutput>(`train-${stage}`, { from: base, config, reward_model: rm }, p);
        const controller = new AbortController();
        await expect(
          runJobInProcess(`train-${stage}`, { from: base, config: { ...config, reward_model: rm } }, p, (pr) => pr.done >= 3 && controller.abort(), { signal: controller.signal }),
        ).rejects.toThrow(/cancelled/);
        const stopped = p.runs.listRuns(stage)[0]!;
        const mid = p.checkpoints.lastOfRun(stopped.id)!;
        expect(mid.step).toBe(3);
        const names = expectAdapterCheckpoint(p, mid.id, base);
        // PPO's resume point also holds the value model: its adapter and head, never a copy of a base.
        if (stage === 'ppo') {
          const value = names.filter((n) => n.startsWith('value.'));
          expect(value.sort()).toEqual([...names.filter((n) => !n.startsWith('value.')).map((n) => `value.${n}`), 'value.score.bias', 'value.score.weight'].sort());
        }
        const resumed = await runJobInProcess<TrainOutput>(`train-${stage}`, { resume: stopped.id }, p);
        expect(p.runs.get(stopped.id)).toMatchObject({ status: 'completed', step: 4 });
        expectAdapterCheckpoint(p, resumed.checkpoint, base);
        const keys = stage === 'ppo' ? ['objective/kl', 'objective/scores', 'loss/policy_avg', 'loss/value_avg'] : ['reward', 'kl', 'loss'];
        for (const key of keys) expect(resumed.metrics[key], key).toBeCloseTo(whole.metrics[key]!, 4);
      } finally {
        p.close();
      }
    });
  }
});

// The engine's side of each bench row (engine/bench/bench.ts): one model, one kind of work, timed
// after two warm-ups. runBenchRow is what a bench row's child process (bench-row-child.ts) runs,
// so each row's peak RSS is its own.
import * as tf from '@tensorflow/tfjs';
import { GPT, parseModelConfig, ScalarHead, type ModelConfig } from '../models/model.js';
import { AdamW } from '../train/optim.js';
import { Replicas } from '../parallel/data-parallel.js';
import { generateOnReplicas } from '../parallel/generate-task.js';
import { ppoConfigSchema, trainPpo } from '../train/ppo.js';
import { RewardModel, rewardStep, type TokenGroup } from '../train/reward.js';
import { Rng } from '../rng.js';
import { makeSftBatch, sftStep } from '../train/sft.js';
import type { BenchRowName, BenchSize } from './bench.js';

/** One SFT step under tf.profile: its kernels by name, with their count and measured time. */
export interface StepProfile {
  size: string;
  /** Wall-clock ms of the profiled step (profiling itself slows it). */
  wall_ms: number;
  /** tfjs kernel calls in the step. */
  kernels: number;
  by_kernel: Array<{ kernel: string; count: number; ms: number }>;
}


async function profileStep(size: string, step: () => Promise<unknown>): Promise<StepProfile> {
  const t0 = performance.now();
  const info = await tf.profile(async () => void (await step()));
  const wall = performance.now() - t0;
  const by = new Map<string, { count: number; ms: number }>();
  for (const k of info.kernels) {
    const e = by.get(k.name) ?? { count: 0, ms: 0 };
    e.count++;
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    by.set(k.name, e);
  }
  const byKernel = [...by].map(([kernel, e]) => ({ kernel, count: e.count, ms: round(e.ms) })).sort((a, b) => b.ms - a.ms);
  return { size, wall_ms: round(wall), kernels: info.kernels.length, by_kernel: byKernel };
}

const profiles: StepProfile[] = [];

/** LoRA of the `lora_sft_step` row: rank 8, alpha 16 (the run form's default lora_alpha). */
export const BENCH_LORA = { r: 8, alpha: 16 } as const;

/** The row's LoRA targets: the family's usual attention projections (as the run form's default). */
export function benchLoraTargets(size: BenchSize): string[] {
  return size.config.family === 'llama' ? ['q_proj', 'v_proj'] : ['c_attn'];
}

function gptConfig(size: BenchSize): ModelConfig {
  const { family, n_kv_head, head_dim, intermediate_size, ...common } = size.config;
  if (family !== 'llama') return { ...common, layer_norm_epsilon: 1e-5, dropout: 0 };
  return parseModelConfig({ ...common, family, n_kv_head, head_dim: head_dim ?? common.n_embd / common.n_head, intermediate_size, rms_norm_eps: 1e-5, tie_word_embeddings: true, dropout: 0 });
}

function randomIds(rng: Rng, rows: number, cols: number, vocab: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.int(vocab)));
}

/** Wall-clock and process CPU seconds per call (the mean of `reps` calls after two warm-ups). */
export interface Timing {
  wall: number;
  cpu: number;
}

export async function timed(fn: () => unknown, reps: number): Promise<Timing> {
  // Two warm-up calls: JIT compilation and wasm heap growth settle in the first steps.
  await fn();
  await fn();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) await fn();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000 / reps, cpu: (c.user + c.system) / 1e6 / reps };
}

/** Tokens per second from a timing: by wall clock and by CPU time. */
function rate(tokens: number, t: Timing): Rate {
  return { wall: tokens / t.wall, cpu: tokens / t.cpu };
}

export interface Rate {
  wall: number;
  cpu: number;
}

/** An SFT step; with `lora`, of LoRA adapters on a frozen base (only A and B train). */
async function sftRow(size: BenchSize, rng: Rng, lora = false): Promise<Rate> {
  const model = GPT.create(gptConfig(size), rng.seed());
  if (lora) model.addLora({ ...BENCH_LORA, targets: benchLoraTargets(size) }, rng.seed());
  const opt = new AdamW(model.namedVariables(), { lr: 3e-4 });
  // Every token after the first is a target: −mean log-prob over the batch, as in the reference.
  const seqs = randomIds(rng, size.batch, size.seq, size.config.vocab_size).map((ids) => ({ ids, targets: ids.map(() => true) }));
  const batch = makeSftBatch(seqs, 0);
  // The step trainSft takes, on every core (engine/parallel/).
  const replicas = await Replicas.start({ policy: model }, ['policy']);
  try {
    const t = await timed(() => sftStep(replicas, opt, batch), size.reps);
    if (process.env.RLHF_BENCH_PROFILE === '1') profiles.push(await profileStep(lora ? `${size.name} (LoRA)` : size.name, () => sftStep(replicas, opt, batch)));
    return rate(size.batch * size.seq, t);
  } finally {
    await replicas.dispose();
    opt.dispose();
    model.dispose();
  }
}

async function rewardRow(size: BenchSize, rng: Rng): Promise<Rate> {
  const model = new RewardModel(GPT.create(gptConfig(size), rng.seed()), ScalarHead.create(size.config.n_embd, rng.seed()));
  const opt = new AdamW(model.namedVariables(), { lr: 1e-5 });
  // batch/2 prompts with two responses each: batch rows of `seq` tokens, one pair per prompt,
  // the pairwise loss −log σ(r_chosen − r_rejected) scored at the last token, as in the reference.
  const half = Math.floor(size.seq / 2);
  const groups: TokenGroup[] = Array.from({ length: size.batch / 2 }, () => {
    const [prompt, a, b] = randomIds(rng, 3, size.seq, size.config.vocab_size);
    return { prompt: prompt!.slice(0, half), responses: [a!.slice(half), b!.slice(half)], pairs: [{ chosen: 0, rejected: 1, margin: 0 }] };
  });
  // The step trainRewardModel takes, on every core (engine/parallel/).
  const replicas = await Replicas.start({ reward: model }, ['reward']);
  try {
    const t = await timed(() => rewardStep(replicas, opt, groups, { centering: 0 }, 0), size.reps);
    return rate(size.batch * size.seq, t);
  } finally {
    await replicas.dispose();
    opt.dispose();
    model.dispose();
  }
}

async function generationRow(size: BenchSize, batch: number, rng: Rng): Promise<Rate> {
  const model = GPT.create(gptConfig(size), rng.seed());
  const prompts = randomIds(rng, batch, size.gen_prompt, size.config.vocab_size);
  // The rows split over every core, as the app generates a batch (engine/parallel/generate-task.ts).
  const replicas = await Replicas.start({ policy: model }, []);
  try {
    // No EOS: every sequence runs the full length, as in the reference.
    const t = await timed(() => generateOnReplicas(replicas, 'policy', prompts, { maxNewTokens: size.gen_new, temperature: 1, seed: rng.seed(), padId: 0 }), size.gen_reps);
    return rate(batch * size.gen_new, t);
  } finally {
    await replicas.dispose();
    model.dispose();
  }
}

async function ppoRow(size: BenchSize, rng: Rng): Promise<Rate> {
  const cfg = gptConfig(size);
  const policy = GPT.create(cfg, rng.seed());
  const ref = GPT.fromWeights(cfg, policy.getWeights());
  const reward = new RewardModel(GPT.create(cfg, rng.seed()), ScalarHead.create(cfg.n_embd, rng.seed()));
  const value = { backbone: GPT.fromWeights(cfg, reward.backbone.getWeights()), head: ScalarHead.fromWeights(reward.head.getWeights()) };
  const p = size.ppo;
  const prompts = randomIds(rng, 64, p.prompt_len, cfg.vocab_size).map((ids) => ({ text: '', ids }));
  // Two warm-up iterations, then the timed ones, in one run: starting a run (replica workers,
  // optimizer) is a per-run cost, not part of an iteration.
  const config = ppoConfigSchema.parse({
    steps: 2 + size.ppo_reps,
    batch_size: p.batch_size,
    num_mini_batches: p.num_mini_batches,
    num_ppo_epochs: p.num_ppo_epochs,
    max_new_tokens: p.max_new_tokens,
    temperature: p.temperature,
    // Every minibatch is updated, as in the reference (no guard may skip work).
    early_stopping: false,
    ratio_threshold: 1e9,
  });
  // An EOS id outside the vocabulary: every response runs to max_new_tokens, as in the reference.
  const tok = { eosId: cfg.vocab_size, padId: 0, decode: () => '' };
  let start: { wall: number; cpu: NodeJS.CpuUsage } | null = null;
  let t: Timing | null = null;
  await trainPpo({ policy, ref, value, reward }, prompts, config, tok, {
    onStep: (step) => {
      if (step === 2) start = { wall: performance.now(), cpu: process.cpuUsage() };
      else if (step === config.steps && start) {
        const c = process.cpuUsage(start.cpu);
        t = { wall: (performance.now() - start.wall) / 1000 / size.ppo_reps, cpu: (c.user + c.system) / 1e6 / size.ppo_reps };
      }
    },
  });
  [policy, ref, value.backbone, value.head, reward].forEach((m) => m.dispose());
  if (!t) throw new Error('the PPO run ended before its timed iterations');
  return rate(p.batch_size * p.max_new_tokens, t);
}

/** One row in this process: its rate, and the SFT steps' profiles with RLHF_BENCH_PROFILE=1. */
export async function runBenchRow(size: BenchSize, name: BenchRowName, seed: number): Promise<{ rate: Rate; profiles: StepProfile[] }> {
  const rng = new Rng(seed);
  const r =
    name === 'sft_step'
      ? await sftRow(size, rng)
      : name === 'lora_sft_step'
        ? await sftRow(size, rng, true)
        : name === 'reward_step'
          ? await rewardRow(size, rng)
          : name === 'generate_b1'
            ? await generationRow(size, 1, rng)
            : name === 'generate_b16'
              ? await generationRow(size, 16, rng)
              : await ppoRow(size, rng);
  return { rate: r, profiles: profiles.splice(0) };
}

export function round(x: number): number {
  return Math.round(x * 10) / 10;
}

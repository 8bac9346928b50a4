// The engine benchmark: tokens/s of an SFT step (full and LoRA), a reward-model step, KV-cache
// generation at batch 1 and 16, and one PPO iteration (engine/train/ppo.ts), per model size, next
// to a PyTorch reference of the same model and work (bench/reference.py) run in the same
// invocation, so the ratio engine/PyTorch is measured on the same machine at the same time. Each
// row runs in its own process on both sides (bench-row-child.ts; one reference process per row),
// so each row's peak RSS is that row's alone.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { initBackend } from '../backend/backend.js';
import type { Backend } from '../../shared/vocabulary.js';
import type { AdapterSummary } from '../backend/webgpu-device.js';
import { trainingThreads } from '../parallel/data-parallel.js';
import { siblingModule } from '../parallel/spawn-worker.js';
import { Rng } from '../rng.js';
import { round, timed, type Rate, type StepProfile } from './bench-rows.js';

export type { StepProfile } from './bench-rows.js';

export const BENCH_ROWS = ['sft_step', 'lora_sft_step', 'reward_step', 'generate_b1', 'generate_b16', 'ppo_iteration'] as const;
export type BenchRowName = (typeof BENCH_ROWS)[number];

export const benchSizeSchema = z
  .object({
    name: z.string(),
    config: z
      .object({
        vocab_size: z.number().int().min(2),
        n_positions: z.number().int().min(8),
        n_embd: z.number().int().min(1),
        n_layer: z.number().int().min(1),
        n_head: z.number().int().min(1),
        /** A Llama-family model (models/llama.ts: tied embeddings, rope_theta 10000) instead of GPT-2. */
        family: z.literal('llama').optional(),
        n_kv_head: z.number().int().min(1).optional(),
        head_dim: z.number().int().min(2).optional(),
        intermediate_size: z.number().int().min(1).optional(),
      })
      .strict(),
    /** Sequences per SFT / reward step, each `seq` tokens long. */
    batch: z.number().int().min(2),
    seq: z.number().int().min(2),
    gen_prompt: z.number().int().min(1),
    gen_new: z.number().int().min(1),
    ppo: z.object({
      batch_size: z.number().int().min(1),
      num_mini_batches: z.number().int().min(1),
      num_ppo_epochs: z.number().int().min(1),
      prompt_len: z.number().int().min(1),
      max_new_tokens: z.number().int().min(1),
      temperature: z.number().positive(),
    }),
    /** Timed repetitions after two warm-ups. */
    reps: z.number().int().min(1),
    gen_reps: z.number().int().min(1),
    ppo_reps: z.number().int().min(1),
  })
  .refine((s) => s.config.n_embd % s.config.n_head === 0, 'n_embd must be divisible by n_head')
  .refine((s) => s.seq <= s.config.n_positions && s.gen_prompt + s.gen_new <= s.config.n_positions, 'sequences must fit n_positions')
  .refine((s) => s.ppo.prompt_len + s.ppo.max_new_tokens < s.config.n_positions, 'PPO prompt + response must fit n_positions')
  .refine((s) => s.batch % 2 === 0, 'batch must be even (the reward step scores pairs)')
  .refine((s) => s.config.family !== 'llama' || (s.config.n_kv_head !== undefined && s.config.intermediate_size !== undefined && s.config.n_head % s.config.n_kv_head === 0), 'a llama size needs n_kv_head (dividing n_head) and intermediate_size');
export type BenchSize = z.infer<typeof benchSizeSchema>;

/** tiny and small (CPU-sized), GPT-2 124M (for a GPU backend), and a SmolLM2-135M-shaped Llama. */
export const BENCH_SIZES: Record<'tiny' | 'small' | 'gpt2' | 'smollm2', BenchSize> = {
  tiny: {
    name: 'tiny',
    config: { vocab_size: 256, n_positions: 64, n_embd: 128, n_layer: 2, n_head: 4 },
    batch: 8,
    seq: 64,
    gen_prompt: 16,
    gen_new: 48,
    ppo: { batch_size: 16, num_mini_batches: 4, num_ppo_epochs: 4, prompt_len: 16, max_new_tokens: 32, temperature: 0.7 },
    reps: 10,
    gen_reps: 3,
    ppo_reps: 2,
  },
  small: {
    name: 'small',
    config: { vocab_size: 8192, n_positions: 256, n_embd: 384, n_layer: 6, n_head: 6 },
    batch: 4,
    seq: 256,
    gen_prompt: 32,
    gen_new: 96,
    ppo: { batch_size: 8, num_mini_batches: 4, num_ppo_epochs: 4, prompt_len: 32, max_new_tokens: 32, temperature: 0.7 },
    reps: 2,
    gen_reps: 1,
    ppo_reps: 1,
  },
  // SmolLM2-135M's shape (HuggingFaceTB/SmolLM2-135M config.json): random weights, 256-token rows.
  smollm2: {
    name: 'smollm2',
    config: { family: 'llama', vocab_size: 49152, n_positions: 256, n_embd: 576, n_layer: 30, n_head: 9, n_kv_head: 3, head_dim: 64, intermediate_size: 1536 },
    batch: 2,
    seq: 256,
    gen_prompt: 32,
    gen_new: 64,
    ppo: { batch_size: 8, num_mini_batches: 4, num_ppo_epochs: 4, prompt_len: 32, max_new_tokens: 32, temperature: 0.7 },
    reps: 1,
    gen_reps: 1,
    ppo_reps: 1,
  },
  gpt2: {
    name: 'gpt2',
    config: { vocab_size: 50257, n_positions: 256, n_embd: 768, n_layer: 12, n_head: 12 },
    batch: 8,
    seq: 256,
    gen_prompt: 32,
    gen_new: 64,
    ppo: { batch_size: 8, num_mini_batches: 2, num_ppo_epochs: 2, prompt_len: 32, max_new_tokens: 32, temperature: 0.7 },
    reps: 5,
    gen_reps: 1,
    ppo_reps: 1,
  },
};

/** A size's Llama-family twin: the same widths and work, n_kv_head = n_head / 2 where even, SwiGLU width 8/3·n_embd. */
export function llamaVariant(size: BenchSize): BenchSize {
  if (size.config.family === 'llama') return size;
  const { n_head: H, n_embd: C } = size.config;
  return {
    ...size,
    name: `${size.name}-llama`,
    config: { ...size.config, family: 'llama', n_kv_head: H % 2 === 0 ? H / 2 : H, head_dim: C / H, intermediate_size: Math.ceil((8 * C) / 3 / 8) * 8 },
  };
}

export interface BenchRow {
  name: BenchRowName;
  size: string;
  config: BenchSize['config'] & { batch: number; seq: number };
  /** Wall-clock throughput (what a user waits for); null when the engine's row failed (`error`). */
  tokens_per_second: number | null;
  reference_tokens_per_second: number | null;
  /** engine / PyTorch by wall clock; null without a reference. */
  ratio: number | null;
  /** A GPU reference (CUDA) again with TF32 matmuls and with bf16 autocast; null on the CPU. */
  reference_tf32_tokens_per_second: number | null;
  reference_bf16_tokens_per_second: number | null;
  /** The same by process CPU time: robust when other processes share the cores. */
  cpu_tokens_per_second: number | null;
  reference_cpu_tokens_per_second: number | null;
  cpu_ratio: number | null;
  /** Peak RSS (MB) of the process that ran this row alone: the engine's (its replica threads included) and PyTorch's. */
  peak_rss_mb: number | null;
  reference_peak_rss_mb: number | null;
  /** Why the engine's row has no figures (e.g. out of memory), as the row's process said it. */
  error?: string;
  /** Why the reference's row has none. */
  reference_error?: string;
}

/** One matrix multiplication of the model's shapes: the ceiling the training rows run against. */
export interface GemmRow {
  size: string;
  /** What the product is in a training step. */
  op: string;
  /** [m, k, n]: an [m,k]×[k,n] product. */
  shape: [number, number, number];
  /** One engine thread (tfjs matMul on the backend in use). */
  gflops: number;
  reference_gflops: number | null;
  ratio: number | null;
}

export interface BenchReport {
  backend: string;
  /** The GPU adapter of the webgpu backend, else null. */
  adapter: AdapterSummary | null;
  backend_reason: string;
  reference: { torch: string; threads: number; device: string } | { error: string } | null;
  rows: BenchRow[];
  gemm: GemmRow[];
  /** Threads the training rows ran on (engine/parallel/: data-parallel replicas). */
  threads: number;
  /** With RLHF_BENCH_PROFILE=1: where one SFT step's time goes, per size (tf.profile). */
  profiles?: StepProfile[];
  /** The largest peak RSS (MB) of any row's process and of the bench's own (the matMul table). */
  peak_rss_mb: number;
}

export interface BenchOptions {
  sizes: BenchSize[];
  rows?: readonly BenchRowName[];
  backend?: Backend;
  /** Run bench/reference.py with this Python (default RLHF_PYTHON or /usr/bin/python3); false = skip. */
  python?: string | false;
  seed?: number;
  onProgress?: (message: string) => void;
}

export function referenceScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // This file runs three levels below the root: src-main/engine/bench/bench.ts under tsx, and its compiled copy in dist-main.
  return path.resolve(here, '..', '..', '..', 'bench', 'reference.py');
}

interface ReferenceOutput {
  torch: string;
  threads: number;
  device?: string;
  rows: Array<{ name: string; size: string; tokens_per_second: number; cpu_tokens_per_second: number; peak_rss_mb?: number; tf32_tokens_per_second?: number; bf16_tokens_per_second?: number }>;
  gemm?: Array<{ shape: [number, number, number]; gflops: number }>;
}

/** The four matMul shapes of a training step's forward pass at one size (backward has their transposes). */
function gemmShapes(size: BenchSize): Array<{ op: string; shape: [number, number, number] }> {
  const n = size.batch * size.seq;
  const C = size.config.n_embd;
  const { family, n_head: H, n_kv_head: KV, intermediate_size: I } = size.config;
  if (family === 'llama') {
    const hd = size.config.head_dim ?? C / H;
    return [
      { op: 'attention in (q, k, v)', shape: [n, C, (H + 2 * KV!) * hd] },
      { op: 'MLP gate+up (each)', shape: [n, C, I!] },
      { op: 'MLP down', shape: [n, I!, C] },
      { op: 'output logits', shape: [n, C, size.config.vocab_size] },
    ];
  }
  return [
    { op: 'attention in (c_attn)', shape: [n, C, 3 * C] },
    { op: 'MLP up (c_fc)', shape: [n, C, 4 * C] },
    { op: 'MLP down (c_proj)', shape: [n, 4 * C, C] },
    { op: 'output logits', shape: [n, C, size.config.vocab_size] },
  ];
}

/**
 * Seconds per call of `op` on a GPU backend, which runs it asynchronously: k calls queued, then one
 * element of the last result read back, k chosen from a first timing so the batch takes ~0.5 s.
 */
async function gpuSeconds(op: () => tf.Tensor): Promise<number> {
  const batch = (k: number) => {
    const t0 = performance.now();
    const outs = Array.from({ length: k }, op);
    tf.tidy(() => tf.slice(outs.at(-1)!, new Array(outs.at(-1)!.rank).fill(0), new Array(outs.at(-1)!.rank).fill(1)).dataSync());
    tf.dispose(outs);
    return (performance.now() - t0) / 1000;
  };
  batch(1); // pipeline compilation
  const k = Math.max(1, Math.min(200, Math.round(0.5 / batch(1))));
  return batch(k) / k;
}

/** GFLOP/s of tf.matMul for one shape on the current backend (wall clock, after warm-up). */
async function engineGemm([m, k, n]: [number, number, number]): Promise<number> {
  const a = tf.randomNormal([m, k]) as tf.Tensor2D;
  const b = tf.randomNormal([k, n]) as tf.Tensor2D;
  if (tf.getBackend() === 'webgpu') {
    const wall = await gpuSeconds(() => tf.matMul(a, b));
    tf.dispose([a, b]);
    return (2 * m * k * n) / wall / 1e9;
  }
  const reps = Math.max(3, Math.floor(2e9 / (2 * m * k * n)));
  const t = await timed(() => tf.matMul(a, b).dispose(), reps);
  tf.dispose([a, b]);
  return (2 * m * k * n) / t.wall / 1e9;
}

function runReference(python: string, sizes: BenchSize[], rows: readonly BenchRowName[], seed: number, gemm: Array<[number, number, number]>, gpu: boolean): Promise<ReferenceOutput> {
  const script = referenceScript();
  if (!existsSync(script)) return Promise.reject(new Error(`reference script not found at ${script}`));
  return new Promise((resolve, reject) => {
    const child = spawn(python, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${python} ${script} exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as ReferenceOutput);
      } catch (e) {
        reject(new Error(`reference output is not JSON: ${(e as Error).message}`));
      }
    });
    child.stdin.end(JSON.stringify({ sizes, rows, seed, gemm, gpu }));
  });
}

/** What a row's child process (bench-row-child.ts) prints as its last stdout line. */
interface ChildResult {
  rate: Rate;
  profiles: StepProfile[];
  peak_rss_mb: number;
}

/**
 * Runs one engine row in a fresh Node process on `backend`: its peak RSS is the row's alone (tfjs's
 * wasm heap never shrinks, so in one process every row would report the largest row before it).
 */
function runEngineRow(size: BenchSize, name: BenchRowName, seed: number, backend: Backend): Promise<ChildResult> {
  const entry = siblingModule(import.meta.url, 'bench-row-child');
  // From the sources the child registers tsx's loader first, as spawn-worker.ts does for workers.
  const args = entry.pathname.endsWith('.ts')
    ? ['--input-type=module', '-e', `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`]
    : [fileURLToPath(entry)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0) {
        try {
          return resolve(JSON.parse(last) as ChildResult);
        } catch {
          // falls through to the error below
        }
      }
      const why = signal ? `killed by ${signal}${signal === 'SIGKILL' ? ' (out of memory?)' : ''}` : `exited with ${code}`;
      // The child's own one-line report (bench-row-child.ts), else an error line (a crash before
      // it could report: a stack trace follows), else the last lines.
      const lines = err.trim().split('\n').filter(Boolean);
      const own = lines.filter((l) => l.startsWith('bench row failed: ')).map((l) => l.slice('bench row failed: '.length));
      const cause = lines.filter((l) => /^\s*(Uncaught )?(\w*Error\b|Aborted|FATAL|#\s*Fatal|.*out of memory)/i.test(l)).slice(0, 2);
      const tail = (own.length ? own : cause.length ? cause : lines.slice(-3)).map((l) => l.trim()).join(' | ');
      reject(new Error(`the ${name} row's process ${why}${tail ? `: ${tail}` : ''}`));
    });
    child.stdin.end(JSON.stringify({ size, row: name, seed, backend }));
  });
}

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const backend = await initBackend(opts.backend);
  const rows = opts.rows ?? BENCH_ROWS;
  const rng = new Rng(opts.seed ?? 0);
  const say = opts.onProgress ?? (() => {});
  const python = opts.python === undefined ? (process.env.RLHF_PYTHON ?? '/usr/bin/python3') : opts.python;
  let reference: BenchReport['reference'] = null;
  let referenceError: string | null = null;
  // Each row's reference runs right after the engine's (never beside it: both would share the same
  // two cores), so both meet the same machine: on a shared host the speed of both drifts over minutes.
  const referenceOf = async (size: BenchSize, row: BenchRowName | null, gemm: Array<[number, number, number]>): Promise<ReferenceOutput | { error: string } | null> => {
    if (python === false) return null;
    try {
      // A GPU engine is measured against PyTorch on the GPU (CUDA) where there is one.
      const ref = await runReference(python, [size], row ? [row] : [], opts.seed ?? 0, gemm, backend.name === 'webgpu');
      reference = { torch: ref.torch, threads: ref.threads, device: ref.device ?? 'cpu' };
      return ref;
    } catch (e) {
      referenceError = (e as Error).message;
      return { error: referenceError };
    }
  };
  const ratio = (a: number | null, b: number | undefined) => (a !== null && b ? Math.round((a / b) * 1000) / 1000 : null);
  const out: BenchRow[] = [];
  const gemm: GemmRow[] = [];
  const profiles: StepProfile[] = [];
  for (const size of opts.sizes) {
    for (const name of rows) {
      say(`engine ${size.name} ${name}…`);
      let engine: ChildResult | null = null;
      let error: string | undefined;
      try {
        engine = await runEngineRow(size, name, rng.seed(), backend.name as Backend);
        profiles.push(...engine.profiles);
        say(`engine ${size.name} ${name}: ${engine.rate.wall.toFixed(0)} tokens/s (${engine.rate.cpu.toFixed(0)} per CPU-second), peak RSS ${engine.peak_rss_mb} MB; PyTorch…`);
      } catch (e) {
        error = (e as Error).message;
        say(`engine ${size.name} ${name} failed: ${error}; PyTorch…`);
      }
      const res = await referenceOf(size, name, []);
      const ref = res && 'rows' in res ? (res.rows[0] ?? null) : null;
      const tps = engine?.rate ?? null;
      out.push({
        name,
        size: size.name,
        config: { ...size.config, batch: size.batch, seq: size.seq },
        tokens_per_second: tps ? round(tps.wall) : null,
        reference_tokens_per_second: ref ? round(ref.tokens_per_second) : null,
        ratio: ratio(tps?.wall ?? null, ref?.tokens_per_second),
        reference_tf32_tokens_per_second: ref?.tf32_tokens_per_second ? round(ref.tf32_tokens_per_second) : null,
        reference_bf16_tokens_per_second: ref?.bf16_tokens_per_second ? round(ref.bf16_tokens_per_second) : null,
        cpu_tokens_per_second: tps ? round(tps.cpu) : null,
        reference_cpu_tokens_per_second: ref ? round(ref.cpu_tokens_per_second) : null,
        cpu_ratio: ratio(tps?.cpu ?? null, ref?.cpu_tokens_per_second),
        peak_rss_mb: engine?.peak_rss_mb ?? null,
        reference_peak_rss_mb: ref?.peak_rss_mb ?? null,
        ...(error ? { error } : {}),
        ...(res && 'error' in res ? { reference_error: res.error } : {}),
      });
    }
    const shapes = gemmShapes(size);
    const engineGflops: number[] = [];
    for (const { shape } of shapes) {
      say(`engine ${size.name} matMul ${shape.join('×')}…`);
      engineGflops.push(round(await engineGemm(shape)));
    }
    const res = await referenceOf(size, null, shapes.map((g) => g.shape));
    const refGemm = res && 'gemm' in res ? (res.gemm ?? []) : [];
    shapes.forEach(({ op, shape }, i) => {
      const r = refGemm[i]?.gflops ?? null;
      gemm.push({ size: size.name, op, shape, gflops: engineGflops[i]!, reference_gflops: r === null ? null : round(r), ratio: r ? ratio(engineGflops[i]!, r) : null });
    });
  }
  const rowPeaks = out.map((r) => r.peak_rss_mb ?? 0);
  return {
    backend: backend.name,
    adapter: backend.adapter,
    backend_reason: backend.reason,
    // The reference's version where any row ran, else why none did.
    reference: reference ?? (referenceError ? { error: referenceError } : null),
    peak_rss_mb: Math.max(Math.round(process.resourceUsage().maxRSS / 1024), ...rowPeaks),
    threads: trainingThreads(),
    ...(profiles.length ? { profiles } : {}),
    gemm,
    rows: out,
  };
}

/** The report as a Markdown table (the CLI's human output and the README's table). */
export function benchTable(report: BenchReport): string {
  const n = (x: number | null, d = 0) => (x === null ? '–' : x.toFixed(d));
  const lines = [
    '| size | row | engine tokens/s | PyTorch tokens/s | ratio | engine tok/CPU-s | PyTorch tok/CPU-s | CPU ratio | engine peak RSS MB | PyTorch peak RSS MB |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...report.rows.map(
      (r) =>
        `| ${r.size} | ${r.name} | ${n(r.tokens_per_second)} | ${n(r.reference_tokens_per_second)} | ${n(r.ratio, 2)} | ${n(r.cpu_tokens_per_second)} | ${n(r.reference_cpu_tokens_per_second)} | ${n(r.cpu_ratio, 2)} | ${n(r.peak_rss_mb)} | ${n(r.reference_peak_rss_mb)} |`,
    ),
  ];
  // A GPU reference: float32, TF32 and bf16 columns instead of the CPU-time ones.
  if (report.rows.some((r) => r.reference_tf32_tokens_per_second !== null)) {
    const q = (a: number | null, b: number | null) => (a !== null && b ? (a / b).toFixed(3) : '–');
    lines.splice(
      0,
      lines.length,
      '| size | row | engine tokens/s | PyTorch fp32 | ratio | PyTorch TF32 | ratio | PyTorch bf16 | ratio | engine peak RSS MB | PyTorch peak RSS MB |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...report.rows.map(
        (r) =>
          `| ${r.size} | ${r.name} | ${n(r.tokens_per_second)} | ${n(r.reference_tokens_per_second)} | ${q(r.tokens_per_second, r.reference_tokens_per_second)} | ${n(r.reference_tf32_tokens_per_second)} | ${q(r.tokens_per_second, r.reference_tf32_tokens_per_second)} | ${n(r.reference_bf16_tokens_per_second)} | ${q(r.tokens_per_second, r.reference_bf16_tokens_per_second)} | ${n(r.peak_rss_mb)} | ${n(r.reference_peak_rss_mb)} |`,
      ),
    );
  }
  const gemm = [
    '| size | matMul (one engine thread) | [m, k, n] | engine GFLOP/s | PyTorch GFLOP/s | ratio |',
    '|---|---|---|---:|---:|---:|',
    ...report.gemm.map((g) => `| ${g.size} | ${g.op} | ${g.shape.join(', ')} | ${n(g.gflops, 1)} | ${n(g.reference_gflops, 1)} | ${n(g.ratio, 2)} |`),
  ];
  const failures = report.rows.flatMap((r) => [
    ...(r.error ? [`${r.size} ${r.name} (engine): ${r.error}`] : []),
    ...(r.reference_error ? [`${r.size} ${r.name} (PyTorch): ${r.reference_error}`] : []),
  ]);
  const ref = report.reference === null ? 'skipped' : 'error' in report.reference ? `failed: ${report.reference.error}` : `torch ${report.reference.torch} on ${report.reference.device}, ${report.reference.threads} thread(s)`;
  return `${lines.join('\n')}\n${failures.map((f) => `\nfailed: ${f}`).join('')}\n\n${gemm.join('\n')}\n\nbackend: ${report.backend_reason}, training rows on ${report.threads} thread(s)\nreference: ${ref}\npeak RSS: ${report.peak_rss_mb} MB`;
}

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { benchSizeSchema, benchTable, llamaVariant, referenceScript, runBench, type BenchSize } from '../../../src-main/engine/bench/bench.js';

const micro: BenchSize = benchSizeSchema.parse({
  name: 'micro',
  config: { vocab_size: 32, n_positions: 16, n_embd: 16, n_layer: 1, n_head: 2 },
  batch: 2,
  seq: 8,
  gen_prompt: 3,
  gen_new: 4,
  ppo: { batch_size: 2, num_mini_batches: 1, num_ppo_epochs: 1, prompt_len: 3, max_new_tokens: 4, temperature: 0.7 },
  reps: 1,
  gen_reps: 1,
  ppo_reps: 1,
});

function hasTorch(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('rlhf-lab bench', () => {
  it('reports every row with tokens/s, backend and the peak RSS of its own process', { timeout: 300_000 }, async () => {
    const report = await runBench({ sizes: [micro], python: false });
    expect(report.backend).toBe('wasm');
    expect(report.rows.map((r) => r.name)).toEqual(['sft_step', 'lora_sft_step', 'reward_step', 'generate_b1', 'generate_b16', 'ppo_iteration']);
    for (const r of report.rows) {
      expect(r.error).toBeUndefined();
      expect(r.tokens_per_second).toBeGreaterThan(0);
      expect(r.cpu_tokens_per_second).toBeGreaterThan(0);
      expect(r.ratio).toBeNull();
      expect(r.config).toMatchObject({ n_embd: 16, batch: 2, seq: 8 });
      // Node + tfjs + the row's models in a child process: tens of MB at least.
      expect(r.peak_rss_mb).toBeGreaterThan(30);
      expect(r.reference_peak_rss_mb).toBeNull();
    }
    expect(report.peak_rss_mb).toBeGreaterThanOrEqual(Math.max(...report.rows.map((r) => r.peak_rss_mb!)));
    expect(report.threads).toBeGreaterThanOrEqual(1);
    // The matMul ceiling of the size's four GEMM shapes, measured on the engine's backend.
    expect(report.gemm.map((g) => g.shape)).toEqual([
      [16, 16, 48],
      [16, 16, 64],
      [16, 64, 16],
      [16, 16, 32],
    ]);
    for (const g of report.gemm) expect(g.gflops).toBeGreaterThan(0);
    expect(benchTable(report)).toMatch(/\| micro \| sft_step \|/);
    expect(benchTable(report)).toMatch(/\| micro \| MLP up \(c_fc\) \| 16, 16, 64 \|/);
  });

  it.runIf(hasTorch())('runs the PyTorch reference in the same invocation and reports ratios', { timeout: 300_000 }, async () => {
    const report = await runBench({ sizes: [micro], rows: ['sft_step', 'lora_sft_step', 'generate_b1'] });
    expect(report.reference).toMatchObject({ threads: expect.any(Number) });
    for (const r of report.rows) {
      expect(r.reference_tokens_per_second).toBeGreaterThan(0);
      expect(r.ratio).toBeCloseTo(r.tokens_per_second! / r.reference_tokens_per_second!, 2);
      // PyTorch's process: the interpreter and torch alone take ~100 MB.
      expect(r.reference_peak_rss_mb).toBeGreaterThan(50);
    }
    expect(benchTable(report)).toMatch(/\| micro \| lora_sft_step \| [\d.]+ \| [\d.]+ \|/);
    for (const g of report.gemm) expect(g.ratio).toBeCloseTo(g.gflops / g.reference_gflops!, 2);
    expect(referenceScript()).toMatch(/bench\/reference\.py$/);
  });

  it.runIf(hasTorch())('--family llama: every row on the Llama twin of a size, next to the PyTorch Llama reference', { timeout: 300_000 }, async () => {
    const llama = llamaVariant(micro);
    expect(llama.config).toMatchObject({ family: 'llama', n_kv_head: 1, head_dim: 8, intermediate_size: 48 });
    const report = await runBench({ sizes: [llama] });
    expect(report.rows.map((r) => [r.size, r.name])).toEqual(['sft_step', 'lora_sft_step', 'reward_step', 'generate_b1', 'generate_b16', 'ppo_iteration'].map((n) => ['micro-llama', n]));
    for (const r of report.rows) {
      expect(r.tokens_per_second).toBeGreaterThan(0);
      expect(r.reference_tokens_per_second).toBeGreaterThan(0);
    }
    expect(report.gemm.map((g) => g.op)).toEqual(['attention in (q, k, v)', 'MLP gate+up (each)', 'MLP down', 'output logits']);
  });
});

describe('rlhf-lab bench with a row that fails', () => {
  it('reports the failing row with its process\'s error, no figures, and runs the other rows', { timeout: 300_000 }, async () => {
    // The engine refuses an odd Llama head size (RoPE rotates pairs) in the row's own process.
    const odd = { ...llamaVariant(micro), name: 'odd' };
    odd.config = { ...odd.config, head_dim: 3 };
    const report = await runBench({ sizes: [odd, micro], rows: ['sft_step'], python: false });
    const [bad, good] = report.rows;
    expect(bad).toMatchObject({ size: 'odd', tokens_per_second: null, cpu_tokens_per_second: null, peak_rss_mb: null });
    expect(bad!.error).toMatch(/the sft_step row's process exited with 1: .*head_dim/);
    expect(good!.error).toBeUndefined();
    expect(good!.tokens_per_second).toBeGreaterThan(0);
    expect(benchTable(report)).toMatch(/failed: odd sft_step \(engine\): .*head_dim/);
  });
});

describe('rlhf-lab bench arguments', () => {
  const io = { json: true, out: () => {}, progress: () => {}, err: () => {} };
  it('rejects unknown sizes, rows and bad numbers with a usage message', async () => {
    const { benchCommand } = await import('../../../src-main/cli/commands/bench.js');
    const { InputError } = await import('../../../src-main/shared/errors.js');
    await expect(benchCommand.run(['--sizes', 'huge'], io)).rejects.toThrow(InputError);
    await expect(benchCommand.run(['--rows', 'sft_step,nope'], io)).rejects.toThrow(/unknown row "nope"/);
    await expect(benchCommand.run(['--layers', '0'], io)).rejects.toThrow(/--layers must be a positive integer/);
    await expect(benchCommand.run(['--embd', '30', '--heads', '4'], io)).rejects.toThrow(/divisible/);
  });
});

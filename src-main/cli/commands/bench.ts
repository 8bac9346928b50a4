// `rlhf-lab bench [--sizes tiny,small,gpt2,smollm2] [--family llama] [--layers N --heads N --embd N --ctx N --vocab N --batch N]
// [--rows sft_step,…] [--backend webgpu|wasm|cpu|tensorflow] [--no-reference] [--json]`: engine throughput
// next to the PyTorch reference of the same model and work, measured in the same run.
import { parseArgs } from 'node:util';
import { BENCH_ROWS, BENCH_SIZES, benchSizeSchema, benchTable, llamaVariant, runBench, type BenchRowName, type BenchSize } from '../../engine/bench/bench.js';
import type { Command } from '../command.js';
import { InputError } from '../../shared/errors.js';
import { isBackend } from '../../shared/vocabulary.js';

const USAGE =
  'bench [--sizes tiny,small,gpt2,smollm2] [--family gpt2|llama] [--layers N] [--heads N] [--embd N] [--ctx N] [--vocab N] [--batch N] ' +
  '[--rows ' + BENCH_ROWS.join(',') + '] [--backend webgpu|wasm|cpu|tensorflow] [--no-reference] [--seed S] [--json]';

function fail(message: string): never {
  throw new InputError(`bench: ${message}\nusage: rlhf-lab ${USAGE}`);
}

function intFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got "${v}"`);
  return n;
}

/** A custom size from --layers/--heads/…: starts from tiny and overrides what is given. */
function customSize(values: { layers?: string; heads?: string; embd?: string; ctx?: string; vocab?: string; batch?: string }): BenchSize | null {
  const o = {
    layers: intFlag('layers', values.layers),
    heads: intFlag('heads', values.heads),
    embd: intFlag('embd', values.embd),
    ctx: intFlag('ctx', values.ctx),
    vocab: intFlag('vocab', values.vocab),
    batch: intFlag('batch', values.batch),
  };
  if (Object.values(o).every((v) => v === undefined)) return null;
  const base = BENCH_SIZES.tiny;
  const ctx = o.ctx ?? base.config.n_positions;
  const size = {
    ...base,
    name: 'custom',
    config: {
      vocab_size: o.vocab ?? base.config.vocab_size,
      n_positions: ctx,
      n_embd: o.embd ?? base.config.n_embd,
      n_layer: o.layers ?? base.config.n_layer,
      n_head: o.heads ?? base.config.n_head,
    },
    batch: o.batch ?? base.batch,
    seq: ctx,
    gen_prompt: Math.max(1, Math.floor(ctx / 4)),
    gen_new: Math.max(1, Math.floor(ctx / 2)),
    ppo: { ...base.ppo, prompt_len: Math.max(1, Math.floor(ctx / 4)), max_new_tokens: Math.max(1, Math.floor(ctx / 2)) },
  };
  const parsed = benchSizeSchema.safeParse(size);
  if (!parsed.success) fail(parsed.error.issues.map((i) => `${i.path.join('.') || 'size'}: ${i.message}`).join('; '));
  return parsed.data;
}

export const benchCommand: Command = {
  name: 'bench',
  usage: USAGE,
  summary: 'Measure engine tokens/s and peak RSS per row (SFT, LoRA SFT, reward, generation, PPO) next to a PyTorch reference in the same run.',
  async run(argv, io) {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        options: {
          sizes: { type: 'string' },
          layers: { type: 'string' },
          heads: { type: 'string' },
          embd: { type: 'string' },
          ctx: { type: 'string' },
          vocab: { type: 'string' },
          batch: { type: 'string' },
          family: { type: 'string' },
          rows: { type: 'string' },
          backend: { type: 'string' },
          seed: { type: 'string' },
          'no-reference': { type: 'boolean', default: false },
          json: { type: 'boolean', default: false },
        },
      });
    } catch (e) {
      fail((e as Error).message);
    }
    const { values } = parsed;
    const family = values.family ?? 'gpt2';
    if (family !== 'gpt2' && family !== 'llama') fail(`--family must be gpt2 or llama, got "${family}"`);
    let sizes: BenchSize[] = [];
    const custom = customSize(values);
    if (custom) sizes.push(custom);
    if (values.sizes !== undefined || !custom) {
      // --family llama alone: the SmolLM2-135M-shaped model.
      const names = values.sizes ?? (family === 'llama' ? 'smollm2' : 'tiny,small');
      for (const name of names.split(',').filter(Boolean)) {
        if (name !== 'tiny' && name !== 'small' && name !== 'gpt2' && name !== 'smollm2') fail(`--sizes: unknown size "${name}" (tiny, small, gpt2, smollm2)`);
        sizes.push(BENCH_SIZES[name]);
      }
    }
    // --family llama turns GPT-2 sizes into their Llama twins (same widths, GQA, SwiGLU).
    if (family === 'llama') sizes = sizes.map(llamaVariant);
    let rows: BenchRowName[] | undefined;
    if (values.rows !== undefined) {
      rows = values.rows.split(',').filter(Boolean) as BenchRowName[];
      const bad = rows.find((r) => !(BENCH_ROWS as readonly string[]).includes(r));
      if (bad) fail(`--rows: unknown row "${bad}" (${BENCH_ROWS.join(', ')})`);
    }
    const backend = values.backend;
    if (backend !== undefined && !isBackend(backend)) fail(`--backend must be webgpu, wasm, cpu or tensorflow, got "${backend}"`);
    const report = await runBench({
      sizes,
      ...(rows ? { rows } : {}),
      ...(backend ? { backend } : {}),
      ...(values['no-reference'] ? { python: false as const } : {}),
      seed: values.seed === undefined ? 0 : (intFlag('seed', String(Number(values.seed) + 1)) ?? 1) - 1,
      onProgress: (m) => io.err(m),
    });
    io.out(report, benchTable(report));
    return 0;
  },
};

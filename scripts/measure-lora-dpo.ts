// Peak RSS and step time of DPO, full (policy + a frozen reference copy) vs LoRA (one model: the
// reference is the policy with its adapters off), on a random model of a bench size
// (engine/bench/bench.ts BENCH_SIZES), through engine/train/dpo.ts trainDpo in this process alone:
//   npx tsx scripts/measure-lora-dpo.ts SIZE full|lora [r] [steps]
// One mode per process, so each peak RSS is its own. Prints one JSON line.
import { initBackend } from '../src-main/engine/backend/backend.js';
import { BENCH_SIZES } from '../src-main/engine/bench/bench.js';
import { GPT, parseModelConfig } from '../src-main/engine/models/model.js';
import { Rng } from '../src-main/engine/rng.js';
import { dpoConfigSchema, trainDpo, type DpoPair } from '../src-main/engine/train/dpo.js';

const [sizeName = 'small', mode = 'full', r = '8', stepsArg = '3'] = process.argv.slice(2);
const size = BENCH_SIZES[sizeName as keyof typeof BENCH_SIZES];
if (!size) throw new Error(`unknown size ${sizeName}`);
if (mode !== 'full' && mode !== 'lora') throw new Error('mode is full or lora');
await initBackend();
const config = parseModelConfig('family' in size.config ? size.config : { layer_norm_epsilon: 1e-5, dropout: 0, ...size.config });
const policy = GPT.create(config, 1);
// Full DPO holds the reference as a second model of the same weights, as the train-dpo job does.
const ref = mode === 'full' ? GPT.fromWeights(config, policy.getWeights(), 1) : null;
if (mode === 'lora') policy.addLora({ r: Number(r), alpha: 2 * Number(r), targets: sizeName === 'smollm2' ? ['q_proj', 'v_proj'] : ['c_attn'] }, 2);
const rng = new Rng(3);
const ids = (n: number) => Array.from({ length: n }, () => 1 + Math.floor(rng.next() * (config.vocab_size - 1)));
// Pairs of a prompt and two answers filling half the context each way: batch × 2 rows of ≤ seq tokens.
const half = Math.floor(size.seq / 2);
const steps = Number(stepsArg);
const pairs: DpoPair[] = Array.from({ length: size.batch * steps }, () => ({ prompt: ids(half), chosen: ids(half), rejected: ids(half) }));
const dpo = dpoConfigSchema.parse({ epochs: 1, batch_size: size.batch, lr: 1e-4, warmup_steps: 0, eval_every: 1_000_000, checkpoint_every: 1_000_000 });
const times: number[] = [];
let t0 = performance.now();
const result = await trainDpo(policy, ref, { train: pairs, eval: [] }, dpo, 0, {
  onStep: () => {
    const t = performance.now();
    times.push((t - t0) / 1000);
    t0 = t;
  },
});
console.log(JSON.stringify({
  size: sizeName, mode, pairs_per_step: size.batch, tokens_per_row: 2 * half,
  parameters: policy.parameterCount(), trainable: policy.trainableParameterCount(),
  step_seconds: times.map((s) => Number(s.toFixed(2))), loss: Number(result.metrics.loss!.toFixed(4)),
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
}));
process.exit(0);

// Trainable parameters, step time and peak RSS of one SFT step, full fine-tuning vs LoRA, on a
// random model of a bench size (engine/bench/bench.ts BENCH_SIZES), in this process alone:
//   npx tsx scripts/measure-lora-step.ts SIZE full|lora [r] [targets]
// One mode per process, so each peak RSS is its own. Prints one JSON line.
import { initBackend } from '../src-main/engine/backend/backend.js';
import { BENCH_SIZES } from '../src-main/engine/bench/bench.js';
import { GPT, parseModelConfig } from '../src-main/engine/models/model.js';
import { Replicas } from '../src-main/engine/parallel/data-parallel.js';
import { Rng } from '../src-main/engine/rng.js';
import { AdamW } from '../src-main/engine/train/optim.js';
import { makeSftBatch, sftStep } from '../src-main/engine/train/sft.js';

const [sizeName = 'small', mode = 'full', r = '8', targets] = process.argv.slice(2);
const size = BENCH_SIZES[sizeName as keyof typeof BENCH_SIZES];
if (!size) throw new Error(`unknown size ${sizeName}`);
await initBackend();
const config = parseModelConfig('family' in size.config ? size.config : { layer_norm_epsilon: 1e-5, dropout: 0, ...size.config });
const model = GPT.create(config, 1);
if (mode === 'lora') model.addLora({ r: Number(r), alpha: 2 * Number(r), targets: (targets ?? (sizeName === 'smollm2' ? 'q_proj,v_proj' : 'c_attn')).split(',') }, 2);
const rng = new Rng(3);
const seqs = Array.from({ length: size.batch }, () => {
  const ids = Array.from({ length: size.seq }, () => Math.floor(rng.next() * config.vocab_size));
  return { ids, targets: ids.map(() => true) };
});
const batch = makeSftBatch(seqs, 0);
const opt = new AdamW(model.namedVariables(), { lr: 1e-3 });
const replicas = await Replicas.start({ policy: model }, ['policy']);
const steps: number[] = [];
// Process CPU seconds per step too: on a shared host the wall clock follows the other load.
const cpu: number[] = [];
let loss = 0;
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  loss = (await sftStep(replicas, opt, batch)).loss;
  steps.push((performance.now() - t0) / 1000);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1e6);
}
await replicas.dispose();
console.log(JSON.stringify({
  size: sizeName, mode, tokens: size.batch * size.seq,
  parameters: model.parameterCount(), trainable: model.trainableParameterCount(),
  step_seconds: steps.map((s) => Number(s.toFixed(2))), cpu_seconds: cpu.map((s) => Number(s.toFixed(2))), loss: Number(loss.toFixed(4)),
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
}));
process.exit(0);

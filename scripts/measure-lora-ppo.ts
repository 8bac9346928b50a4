// Memory of PPO, full (policy, reference, value model and reward model: four sets of weights) vs
// LoRA (the policy and value model as adapters on the start model's weights, the reference those
// weights with no adapter: engine/train/lora-views.ts), on random GPT-2 models of a bench size
// (engine/bench/bench.ts BENCH_SIZES), through engine/train/ppo.ts trainPpo on one thread:
//   npx tsx scripts/measure-lora-ppo.ts SIZE full|lora [r] [steps]
// One mode per process, so each peak RSS is its own. Prints one JSON line: the tfjs bytes held
// between iterations as copies of the policy's base weights, and the peak RSS.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src-main/engine/backend/backend.js';
import { BENCH_SIZES } from '../src-main/engine/bench/bench.js';
import { GPT, ScalarHead, parseModelConfig } from '../src-main/engine/models/model.js';
import { Rng } from '../src-main/engine/rng.js';
import { adaptedView } from '../src-main/engine/train/lora-views.js';
import { ppoConfigSchema, trainPpo, type PpoModels } from '../src-main/engine/train/ppo.js';
import { RewardModel } from '../src-main/engine/train/reward.js';

const [sizeName = 'tiny', mode = 'full', r = '8', stepsArg = '2'] = process.argv.slice(2);
const size = BENCH_SIZES[sizeName as keyof typeof BENCH_SIZES];
if (!size || 'family' in size.config) throw new Error(`unknown GPT-2 size ${sizeName}`);
if (mode !== 'full' && mode !== 'lora') throw new Error('mode is full or lora');
await initBackend();
const config = parseModelConfig({ layer_norm_epsilon: 1e-5, dropout: 0, ...size.config });
const before = tf.memory().numBytes;
const start = GPT.create(config, 1);
const reward = new RewardModel(GPT.create(config, 2), ScalarHead.create(config.n_embd, 3));
const lora = { r: Number(r), alpha: 2 * Number(r), dropout: 0, targets: ['c_attn'] };
const models: PpoModels =
  mode === 'lora'
    ? { policy: adaptedView(start, lora, 4, 'the policy'), ref: start, value: { backbone: adaptedView(start, lora, 5, 'the value model'), head: ScalarHead.create(config.n_embd, 6) }, reward }
    : { policy: start, ref: GPT.fromWeights(config, start.getWeights()), value: { backbone: GPT.fromWeights(config, start.getWeights()), head: ScalarHead.create(config.n_embd, 6) }, reward };
const rng = new Rng(7);
const prompts = Array.from({ length: 16 }, () => ({ text: '', ids: Array.from({ length: 16 }, () => 2 + rng.int(config.vocab_size - 2)) }));
const ppo = ppoConfigSchema.parse({ steps: Number(stepsArg), batch_size: size.batch, num_mini_batches: 2, num_ppo_epochs: 1, max_new_tokens: 16, lr: 1e-4, value_init: 'policy' });
let peakBytes = 0;
await trainPpo(models, prompts, ppo, { eosId: 1, padId: 0, decode: (ids) => ids.join(' ') }, { onStep: () => void (peakBytes = Math.max(peakBytes, tf.memory().numBytes - before)) }, undefined, { threads: 1 });
const baseBytes = start.parameterCount() * 4;
console.log(JSON.stringify({
  size: sizeName, mode, parameters: start.parameterCount(), trainable: models.policy.trainableParameterCount() + models.value.backbone.trainableParameterCount(),
  tf_mb: Math.round(peakBytes / 1e6), base_copies: Number((peakBytes / baseBytes).toFixed(2)),
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
}));
process.exit(0);

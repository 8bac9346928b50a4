// Memory of one PPO iteration with all four models (policy, reference, value, reward) resident:
// peak RSS of the process and tfjs's own count of tensors and bytes, before and at the peak of
// the iteration. Run: `npx tsx bench/ppo-memory.ts [--embd 256 --layers 4 --heads 4 --ctx 256
// --vocab 2048 --batch 16 --new 48]`; prints one JSON object.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src-main/engine/backend/backend.js';
import { GPT, ScalarHead, defaultGPTConfig } from '../src-main/engine/models/model.js';
import { ppoConfigSchema, trainPpo } from '../src-main/engine/train/ppo.js';
import { RewardModel } from '../src-main/engine/train/reward.js';
import { Rng } from '../src-main/engine/rng.js';

const { values } = parseArgs({
  options: {
    embd: { type: 'string' },
    layers: { type: 'string' },
    heads: { type: 'string' },
    ctx: { type: 'string' },
    vocab: { type: 'string' },
    batch: { type: 'string', default: '16' },
    new: { type: 'string', default: '48' },
    prompt: { type: 'string', default: '32' },
  },
});
const d = defaultGPTConfig();
const config = {
  ...d,
  n_embd: Number(values.embd ?? d.n_embd),
  n_layer: Number(values.layers ?? d.n_layer),
  n_head: Number(values.heads ?? d.n_head),
  n_positions: Number(values.ctx ?? d.n_positions),
  vocab_size: Number(values.vocab ?? d.vocab_size),
};
const backend = await initBackend();
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const rssBefore = process.memoryUsage().rss;

const policy = GPT.create(config, 1);
const weights = policy.getWeights();
const ref = GPT.fromWeights(config, weights);
const value = { backbone: GPT.fromWeights(config, weights), head: ScalarHead.create(config.n_embd, 2) };
const reward = new RewardModel(GPT.fromWeights(config, weights), ScalarHead.create(config.n_embd, 3));
const loaded = tf.memory();
const rng = new Rng(4);
const promptLen = Number(values.prompt);
const prompts = Array.from({ length: 64 }, () => {
  const ids = Array.from({ length: promptLen }, () => 3 + rng.int(config.vocab_size - 3));
  return { text: '', ids };
});
const ppo = ppoConfigSchema.parse({ steps: 1, batch_size: Number(values.batch), max_new_tokens: Number(values.new), value_init: 'policy' });
let metrics: Record<string, number> = {};
const t0 = performance.now();
const profile = await tf.profile(async () => {
  await trainPpo({ policy, ref, value, reward }, prompts, ppo, { eosId: 0, padId: 1, decode: (ids) => ids.join(' ') }, { onStep: (_s, m) => void (metrics = m) });
  return tf.scalar(0);
});
const seconds = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    backend: backend.name,
    config,
    batch_size: ppo.batch_size,
    max_new_tokens: ppo.max_new_tokens,
    parameters_per_model: policy.parameterCount(),
    tensors_with_four_models: loaded.numTensors,
    tensor_mb_with_four_models: mb(loaded.numBytes),
    // tf.profile's peakBytes is the highest total of live tensor bytes while the iteration ran.
    peak_tensor_mb_during_iteration: mb(profile.peakBytes),
    tensors_after_iteration: tf.memory().numTensors,
    rss_mb_before_models: mb(rssBefore),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    iteration_seconds: Math.round(seconds * 10) / 10,
    rollout_seconds: metrics['time/rollout_s'],
    update_seconds: metrics['time/update_s'],
    response_tokens_per_second: metrics.tokens_per_second,
  }),
);

// LoRA adapters (src-main/engine/models/lora.ts) on both families: they start as the identity (B = 0), compute
// PyTorch's LoRA forward (scripts/make-lora-fixture.py, a PEFT folder on the llama-tiny fixture),
// switch off to give the base back, merge into the base weights, train alone (the optimizer sees
// only A and B) and leave the base weights bit-identical through an SFT run.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { readHfFolder } from '../../../src-main/engine/io/hf.js';
import { readPeftAdapter } from '../../../src-main/engine/io/peft.js';
import { GPT, type GPTConfig, type ModelConfig } from '../../../src-main/engine/models/model.js';
import { linearModules, targetedModules } from '../../../src-main/engine/models/lora.js';
import { modelParameterShapes } from '../../../src-main/engine/models/model.js';
import { llamaConfigSchema } from '../../../src-main/engine/models/llama-config.js';
import { defaultSftConfig, makeSftBatch, prepareSftData, sftGradTask, trainSft } from '../../../src-main/engine/train/sft.js';
import { computeGrads } from '../../../src-main/engine/parallel/grad-task.js';
import { trainedGrads } from '../../../src-main/engine/kernels/fast-ops.js';
import { TextTokenizer } from '../../../src-main/engine/models/tokenizer.js';
import type { SftRecord } from '../../../src-main/shared/records.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const gpt2Config: GPTConfig = { vocab_size: 64, n_positions: 16, n_embd: 16, n_layer: 2, n_head: 2, layer_norm_epsilon: 1e-5, dropout: 0 };
const llamaConfig = llamaConfigSchema.parse({
  family: 'llama', vocab_size: 64, n_positions: 16, n_embd: 16, n_layer: 2, n_head: 4, n_kv_head: 2, head_dim: 4,
  intermediate_size: 24, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, qkv_bias: true, o_bias: false,
});
const families: Array<[string, ModelConfig, string[]]> = [
  ['GPT-2', gpt2Config, ['c_attn', 'c_proj', 'c_fc']],
  ['Llama', llamaConfig, ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']],
];
const seq = [3, 9, 14, 27, 1, 40, 2, 63, 11, 5];

function logprobsOf(model: GPT, ids: number[]): Float32Array {
  return tf.tidy(() => model.tokenLogprobs(tf.tensor2d([ids], [1, ids.length], 'int32')).dataSync() as Float32Array);
}
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
/** Gives every B random values, so the adapters change the model (fresh ones start at zero). */
function randomiseB(model: GPT, seed: number): void {
  for (const [name, v] of Object.entries(model.namedVariables())) {
    if (name.endsWith('lora_B.weight')) v.assign(tf.randomNormal(v.shape, 0, 0.2, 'float32', seed++));
  }
}

beforeAll(async () => {
  await initBackend();
});

describe.each(families)('LoRA on %s', (_name, config, targets) => {
  it('targets every linear module the brief names, by PEFT suffix matching', () => {
    const shapes = modelParameterShapes(config);
    const modules = targetedModules(shapes, targets);
    expect(modules.length).toBe(linearModules(shapes).length);
    expect(modules.length).toBe(config.n_layer * targets.length + (targets.includes('c_proj') ? config.n_layer : 0));
    expect(() => targetedModules(shapes, ['no_such_proj'])).toThrow(/matches no linear module/);
  });

  it('starts equal to the base exactly, and the switch gives the base back', () => {
    const model = GPT.create(config, 1);
    const base = logprobsOf(model, seq);
    model.addLora({ r: 4, alpha: 8, targets }, 2);
    expect(Array.from(logprobsOf(model, seq))).toEqual(Array.from(base));
    randomiseB(model, 10);
    const adapted = logprobsOf(model, seq);
    expect(maxAbsDiff(adapted, base)).toBeGreaterThan(1e-3);
    expect(Array.from(model.withAdaptersOff(() => logprobsOf(model, seq)))).toEqual(Array.from(base));
    expect(Array.from(logprobsOf(model, seq))).toEqual(Array.from(adapted));
    model.dispose();
  });

  it('merges into the base weights: W + (alpha/r)·(B·A)ᵀ gives the adapted log-probs', () => {
    const model = GPT.create(config, 3);
    model.addLora({ r: 2, alpha: 6, targets: targets.slice(0, 2) }, 4);
    randomiseB(model, 20);
    const merged = GPT.fromWeights(config, model.lora!.merge(model.getWeights()));
    expect(maxAbsDiff(logprobsOf(merged, seq), logprobsOf(model, seq))).toBeLessThan(1e-5);
    merged.dispose();
    model.dispose();
  });

  it('trains only the adapters: the optimizer and the gradients see A and B alone', () => {
    const model = GPT.create(config, 5);
    const r = 4;
    model.addLora({ r, alpha: 8, targets }, 6);
    const names = Object.keys(model.namedVariables());
    expect(names.every((n) => /\.lora_[AB]\.weight$/.test(n))).toBe(true);
    const modules = targetedModules(modelParameterShapes(config), targets);
    expect(model.trainableParameterCount()).toBe(modules.reduce((n, m) => n + r * (m.in + m.out), 0));
    const ids = tf.tensor2d([seq], [1, seq.length], 'int32');
    const { grads } = tf.variableGrads(() => tf.neg(tf.sum(model.tokenLogprobs(ids))) as tf.Scalar, model.variables());
    // With B = 0 the loss depends on B only: A's gradient is zero, B's is not.
    const norm = (pattern: RegExp) => Object.entries(grads).filter(([k]) => pattern.test(k)).reduce((s, [, g]) => s + tf.sum(tf.square(g)).dataSync()[0]!, 0);
    expect(Object.keys(grads).length).toBe(names.length);
    expect(norm(/lora_B/)).toBeGreaterThan(0);
    expect(norm(/lora_A/)).toBe(0);
    tf.dispose([ids, ...Object.values(grads)]);
    model.dispose();
  });

  it('skips the frozen base weights\' gradients: the same adapter gradients from fewer matMuls and less memory', async () => {
    const model = GPT.create(config, 7);
    model.addLora({ r: 4, alpha: 8, targets }, 8);
    randomiseB(model, 30);
    const ids = tf.tensor2d([seq, seq.slice().reverse()], [2, seq.length], 'int32');
    const loss = () => tf.neg(tf.sum(model.tokenLogprobs(ids))) as tf.Scalar;
    // trainedGrads (what training calls) tells the kernels which variables train; plain
    // tf.variableGrads computes every matrix's weight gradient and drops the base's.
    const pass = async (grad: typeof trainedGrads) => {
      let grads: tf.NamedTensorMap = {};
      const info = await tf.profile(() => {
        grads = grad(loss, model.variables()).grads;
      });
      const out = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync() as Float32Array]));
      tf.dispose(Object.values(grads));
      return { out, matMuls: info.kernels.filter((k) => k.name === 'BatchMatMul').length, peak: info.peakBytes };
    };
    const frozen = await pass(trainedGrads);
    const full = await pass((f, vars) => tf.variableGrads(f, vars));
    expect(Object.keys(frozen.out).sort()).toEqual(Object.keys(full.out).sort());
    for (const [k, g] of Object.entries(frozen.out)) expect(maxAbsDiff(g, full.out[k]!)).toBeLessThan(1e-6);
    expect(frozen.matMuls).toBeLessThan(full.matMuls);
    expect(frozen.peak).toBeLessThan(full.peak);
    // Training's own gradient pass (computeGrads, as the SFT step runs it) skips them too.
    const batch = { ...makeSftBatch([{ ids: seq, targets: seq.map(() => true) }], 0), denominator: seq.length - 1 };
    const one = async (grad: typeof trainedGrads | null) => {
      const info = await tf.profile(() => {
        const r = grad ? { grads: grad(() => sftGradTask.loss({ policy: model }, batch, {}).loss, model.variables()).grads } : computeGrads({ policy: model }, ['policy'], sftGradTask, batch);
        tf.dispose(Object.values(r.grads));
      });
      return info.kernels.filter((k) => k.name === 'BatchMatMul').length;
    };
    expect(await one(null)).toBe(await one(trainedGrads));
    expect(await one(null)).toBeLessThan(await one((f, vars) => tf.variableGrads(f, vars)));
    // Merged, every weight trains: trainedGrads computes them all.
    model.mergeLora();
    const merged = trainedGrads(loss, model.variables());
    expect(Object.keys(merged.grads).length).toBe(Object.keys(model.weightVariables()).length);
    expect(Object.values(merged.grads).every((g) => tf.sum(tf.square(g)).dataSync()[0]! > 0)).toBe(true);
    tf.dispose([merged.value, ...Object.values(merged.grads)]);
    ids.dispose();
    model.dispose();
  });
});

describe('LoRA parity with PyTorch', () => {
  it('a PEFT adapter on llama-tiny gives the reference log-probabilities to 1e-4', () => {
    const { config, weights } = readHfFolder(join(root, 'tests', 'fixtures', 'llama-tiny'));
    const adapterDir = join(root, 'tests', 'fixtures', 'llama-tiny-lora');
    const adapter = readPeftAdapter(adapterDir, config);
    expect(adapter.config).toEqual({ r: 4, alpha: 8, dropout: 0.05, targets: ['q_proj', 'v_proj', 'down_proj'] });
    const model = GPT.fromWeights(config, weights);
    model.loadLora(adapter.config, adapter.weights);
    const ref = JSON.parse(readFileSync(join(adapterDir, 'reference-logprobs.json'), 'utf8')) as { sequences: number[][]; logprobs: number[][] };
    for (let i = 0; i < ref.sequences.length; i++) expect(maxAbsDiff(logprobsOf(model, ref.sequences[i]!), ref.logprobs[i]!)).toBeLessThan(1e-4);
    // The KV-cached forward (generation's) applies the adapters too: last-position logits agree.
    const ids = ref.sequences[0]!;
    const { logits, cache } = model.forwardCached(tf.tensor2d([ids], [1, ids.length], 'int32'), null);
    const full = tf.tidy(() => model.logits(model.hidden(tf.tensor2d([ids], [1, ids.length], 'int32'))).slice([0, ids.length - 1, 0], [1, 1, -1]).dataSync());
    expect(maxAbsDiff(logits.dataSync(), full)).toBeLessThan(1e-4);
    logits.dispose();
    tf.dispose([...cache.keys, ...cache.values, cache.keyMaskAdd, cache.wteT]);
    model.dispose();
  });
});

describe('SFT with LoRA', () => {
  it('lowers the loss while the base weights stay bit-identical', async () => {
    const records: Array<SftRecord & { split: 'train' }> = ['red', 'green', 'blue', 'yellow'].map((c) => ({ kind: 'completion', prompt: `The ${c} ball is`, completion: ` ${c}.`, split: 'train' }));
    const tok = TextTokenizer.train(records.map((r) => (r.kind === 'completion' ? r.prompt + r.completion : '')), 512);
    const cfg: GPTConfig = { ...gpt2Config, vocab_size: tok.vocabSize, n_positions: 32 };
    const sft = { ...defaultSftConfig(), batch_size: 4, lr: 3e-2, warmup_steps: 0, max_steps: 40, eval_every: 1000, checkpoint_every: 1000, seed: 1 };
    const data = prepareSftData(records, tok, sft, 32);
    const model = GPT.create(cfg, 7);
    // A fresh model's embeddings (std 0.02, rows of norm 0.08 at this width) cap every logit near 0:
    // no update of the blocks could move the output far from uniform. Rows of norm ≈ 4, as a
    // trained GPT-2's are, give the adapters a base they can steer.
    const init = model.getWeights();
    model.setWeights({ ...init, 'wte.weight': init['wte.weight']!.map((x) => x * 50) });
    const before = model.getWeights();
    model.addLora({ r: 4, alpha: 8, targets: ['c_attn', 'c_proj', 'c_fc'] }, 8);
    const losses: number[] = [];
    await trainSft(model, data, sft, tok.padId, { onStep: (_s, m) => void losses.push(m.loss!) });
    expect(losses.length).toBe(40);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.7);
    const after = model.getWeights();
    for (const [name, w] of Object.entries(before)) expect(Buffer.from(after[name]!.buffer).equals(Buffer.from(w.buffer))).toBe(true);
    expect(Object.values(model.lora!.getWeights()).some((w) => w.some((x) => x !== 0))).toBe(true);
    model.dispose();
  });
});

describe('gradient accumulation with LoRA', () => {
  it('splits a pass by the whole model it runs through, not by the adapters it trains', () => {
    if (tf.getBackend() !== 'wasm') return; // passes are split on the wasm heap only
    const model = GPT.create(gpt2Config, 9);
    model.addLora({ r: 2, alpha: 4, targets: ['c_attn'] }, 10);
    const seqs = [seq, seq.slice(2), seq.slice(1), seq.slice(3)].map((ids) => ({ ids, targets: ids.map(() => true) }));
    const batch = { ...makeSftBatch(seqs, 0), denominator: 30 };
    const parts: number[] = [];
    const task = { ...sftGradTask, split: (b: typeof batch, n: number) => (parts.push(n), sftGradTask.split(b, n)) };
    // A budget the adapters alone (r·(in+out) per module) would fit in one pass, the model does not.
    const budget = (batch.B * batch.T * (model.parameterCount() + model.trainableParameterCount())) / 2;
    expect(batch.B * batch.T * model.trainableParameterCount()).toBeLessThan(budget);
    const split = computeGrads({ policy: model }, ['policy'], task, batch, budget);
    expect(parts).toEqual([2]);
    const whole = computeGrads({ policy: model }, ['policy'], sftGradTask, batch);
    for (const [k, g] of Object.entries(whole.grads)) expect(maxAbsDiff(split.grads[k]!.dataSync(), g.dataSync())).toBeLessThan(1e-6);
    tf.dispose([...Object.values(split.grads), ...Object.values(whole.grads)]);
    model.dispose();
  });
});

// Llama-family parity with the PyTorch reference of scripts/make-llama-fixtures.py: Llama with
// tied embeddings and GQA (BF16 weights), Qwen2 untied with q/k/v biases, head_dim and sharded F16
// weights, Llama-3 rope scaling with attention_bias. Forward log-probs and KV-cached greedy
// generation (plain and batched with left padding) must match to 1e-4; export → import is exact.
import * as tf from '@tensorflow/tfjs';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { loadModel } from '../../../src-main/engine/io/checkpoint-io.js';
import { generate } from '../../../src-main/engine/models/generate.js';
import { exportHfModel, importHfModel, readHfFolder } from '../../../src-main/engine/io/hf.js';
import { GPT, isLlamaConfig } from '../../../src-main/engine/models/model.js';
import { Project } from '../../../src-main/store/project.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FIXTURES = ['llama-tiny', 'qwen2-tiny', 'llama3-tiny'] as const;

interface Reference {
  sequences: number[][];
  logprobs: number[][];
  greedy: { prompt: number[]; tokens: number[]; logprobs: number[] };
}
const reference = (name: string) => JSON.parse(readFileSync(join(root, 'tests', 'fixtures', name, 'reference-logprobs.json'), 'utf8')) as Reference;

function logprobsOf(model: GPT, seq: number[]): number[] {
  return tf.tidy(() => Array.from(model.tokenLogprobs(tf.tensor2d([seq], [1, seq.length], 'int32')).dataSync()));
}

function maxAbsDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
}

let dir: string;
let project: Project;
beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'hf-llama-'));
  project = Project.open(join(dir, 'p.rlhf'), { create: true });
});
afterAll(() => {
  project.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(FIXTURES)('%s from a Hugging Face folder', (name) => {
  const folder = join(root, 'tests', 'fixtures', name);
  const ref = reference(name);

  it('gives the PyTorch reference log-probabilities to 1e-4', () => {
    const { config, weights } = readHfFolder(folder);
    expect(isLlamaConfig(config)).toBe(true);
    const model = GPT.fromWeights(config, weights);
    for (let i = 0; i < ref.sequences.length; i++) expect(maxAbsDiff(logprobsOf(model, ref.sequences[i]!), ref.logprobs[i]!)).toBeLessThan(1e-4);
    model.dispose();
  });

  it('generates the reference greedy continuation with the KV cache, alone and left-padded in a batch', () => {
    const { config, weights, tokenizer } = readHfFolder(folder);
    const model = GPT.fromWeights(config, weights);
    const g = ref.greedy;
    const alone = generate(model, [g.prompt], { maxNewTokens: g.tokens.length, temperature: 0, seed: 1, padId: tokenizer.padId });
    expect(alone.tokens[0]).toEqual(g.tokens);
    expect(maxAbsDiff(alone.logprobs[0]!, g.logprobs)).toBeLessThan(1e-4);
    // A longer prompt next to it pads this one on the left: same tokens and log-probs.
    const other = ref.sequences[1]!;
    const batch = generate(model, [other, g.prompt], { maxNewTokens: g.tokens.length, temperature: 0, seed: 1, padId: tokenizer.padId });
    expect(batch.tokens[1]).toEqual(g.tokens);
    expect(maxAbsDiff(batch.logprobs[1]!, g.logprobs)).toBeLessThan(1e-4);
    // And the cache gives what recomputing every step gives.
    const uncached = generate(model, [other, g.prompt], { maxNewTokens: 8, temperature: 0, seed: 1, padId: tokenizer.padId, useCache: false });
    expect(uncached.tokens).toEqual(batch.tokens.map((t) => t.slice(0, 8)));
    model.dispose();
  });

  it('imports as a checkpoint and exports a folder that re-imports identical weights', () => {
    const id = importHfModel(project, folder, name);
    const loaded = loadModel(project, id);
    expect(maxAbsDiff(logprobsOf(loaded.model, ref.sequences[2]!), ref.logprobs[2]!)).toBeLessThan(1e-4);
    const out = join(dir, `export-${name}`);
    exportHfModel(project, id, out);
    const hfConfig = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    const original = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
    for (const k of ['model_type', 'hidden_size', 'num_key_value_heads', 'tie_word_embeddings', 'rope_theta', 'rope_scaling']) expect(hfConfig[k] ?? null).toEqual(original[k] ?? null);
    const again = readHfFolder(out);
    const first = readHfFolder(folder);
    expect(again.config).toEqual(first.config);
    for (const [n, w] of Object.entries(first.weights)) expect(again.weights[n]).toEqual(w);
    loaded.model.dispose();
  });
});

describe('folders it cannot import', () => {
  const withConfig = (sub: string, cfg: Record<string, unknown>) => {
    const d = join(dir, sub);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'config.json'), JSON.stringify(cfg));
    return d;
  };
  const llamaConfig = JSON.parse(readFileSync(join(root, 'tests', 'fixtures', 'llama-tiny', 'config.json'), 'utf8')) as Record<string, unknown>;

  it('names the supported model types', () => {
    expect(() => readHfFolder(withConfig('phi', { model_type: 'phi3', hidden_size: 8 }))).toThrow(/model_type "phi3" is not supported \(supported: gpt2, llama, qwen2, mistral\)/);
  });

  it('says which field is wrong or unsupported', () => {
    expect(() => readHfFolder(withConfig('no-heads', { ...llamaConfig, num_attention_heads: undefined }))).toThrow(/config.json: field num_attention_heads/);
    expect(() => readHfFolder(withConfig('yarn', { ...llamaConfig, rope_scaling: { rope_type: 'yarn', factor: 4 } }))).toThrow(/unsupported rope_scaling type "yarn" \(default and llama3 are\)/);
    expect(() => readHfFolder(withConfig('gelu', { ...llamaConfig, hidden_act: 'gelu' }))).toThrow(/unsupported hidden_act "gelu"/);
    expect(() => readHfFolder(withConfig('no-weights', llamaConfig))).toThrow(/no model.safetensors or model.safetensors.index.json/);
  });

  it('reports a shard listed in the index but missing', () => {
    const d = withConfig('missing-shard', JSON.parse(readFileSync(join(root, 'tests', 'fixtures', 'qwen2-tiny', 'config.json'), 'utf8')));
    writeFileSync(join(d, 'model.safetensors.index.json'), readFileSync(join(root, 'tests', 'fixtures', 'qwen2-tiny', 'model.safetensors.index.json')));
    expect(() => readHfFolder(d)).toThrow(/shard model-00001-of-00002.safetensors is missing/);
    expect(existsSync(join(d, 'model-00001-of-00002.safetensors'))).toBe(false);
  });
});

// The exported folders in the Python reference (Debian's PyTorch) give the same log-probs as here.
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
describe.runIf(hasTorch)('exported Llama-family folders in the PyTorch reference', () => {
  it.each(FIXTURES)('%s: same log-probs there as here', (name) => {
    const id = importHfModel(project, join(root, 'tests', 'fixtures', name));
    const out = join(dir, `export-py-${name}`);
    exportHfModel(project, id, out);
    const seqs = reference(name).sequences.slice(1, 3);
    const py = JSON.parse(
      execFileSync('/usr/bin/python3', [join(root, 'scripts', 'make-llama-fixtures.py'), '--check', out], { input: JSON.stringify({ sequences: seqs }) }).toString(),
    ) as { logprobs: number[][] };
    const { model } = loadModel(project, id);
    seqs.forEach((s, i) => expect(maxAbsDiff(logprobsOf(model, s), py.logprobs[i]!)).toBeLessThan(1e-4));
    model.dispose();
  });
});

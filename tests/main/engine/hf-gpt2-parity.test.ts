import * as tf from '@tensorflow/tfjs';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { loadModel } from '../../../src-main/engine/io/checkpoint-io.js';
import { exportHfModel, importHfModel, readHfFolder } from '../../../src-main/engine/io/hf.js';
import { GPT } from '../../../src-main/engine/models/model.js';
import { Project } from '../../../src-main/store/project.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const fixture = join(root, 'tests', 'fixtures', 'gpt2-tiny');
const reference = JSON.parse(readFileSync(join(fixture, 'reference-logprobs.json'), 'utf8')) as {
  sequences: number[][];
  logprobs: number[][];
};

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
  dir = mkdtempSync(join(tmpdir(), 'hf-'));
  project = Project.open(join(dir, 'p.rlhf'), { create: true });
});
afterAll(() => {
  project.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('GPT-2 import from a Hugging Face folder', () => {
  it('gives the PyTorch reference log-probabilities to 1e-4', () => {
    const { config, weights, tokenizer } = readHfFolder(fixture);
    expect(config).toMatchObject({ vocab_size: 300, n_layer: 2, n_head: 4, n_embd: 64, n_positions: 64 });
    expect(tokenizer.vocabSize).toBe(300);
    const model = GPT.fromWeights(config, weights);
    for (let i = 0; i < reference.sequences.length; i++) {
      expect(maxAbsDiff(logprobsOf(model, reference.sequences[i]!), reference.logprobs[i]!)).toBeLessThan(1e-4);
    }
    model.dispose();
  });

  it('builds the tokenizer from vocab.json + merges.txt, with <|endoftext|> as EOS', () => {
    const { tokenizer } = readHfFolder(fixture);
    expect(tokenizer.eosId).toBe(299);
    const text = 'the cat sat on the mat — 日本 🤖\n';
    expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    expect(tokenizer.encode(' the').length).toBe(1); // a learnt merge
  });

  it('imports as a checkpoint, exports, and re-imports identical weights', () => {
    const id = importHfModel(project, fixture, 'tiny');
    const info = project.checkpoints.get(id)!;
    expect(info).toMatchObject({ stage: 'base', name: 'tiny', parent_id: null });
    const loaded = loadModel(project, id);
    expect(maxAbsDiff(logprobsOf(loaded.model, reference.sequences[1]!), reference.logprobs[1]!)).toBeLessThan(1e-4);

    const out = join(dir, 'export');
    exportHfModel(project, id, out);
    for (const f of ['model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json']) expect(existsSync(join(out, f))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ architectures: ['GPT2LMHeadModel'], n_embd: 64 });
    const again = readHfFolder(out);
    const original = readHfFolder(fixture);
    expect(Object.keys(again.weights).sort()).toEqual(Object.keys(original.weights).sort());
    for (const [name, w] of Object.entries(original.weights)) expect(again.weights[name]).toEqual(w);
    expect(again.tokenizer.encode('the oat cake')).toEqual(original.tokenizer.encode('the oat cake'));
    loaded.model.dispose();
  });

  it('explains what is wrong with a folder it cannot import', () => {
    expect(() => readHfFolder(dir)).toThrow(/no config.json/);
  });
});

// An extra check when Debian's PyTorch is present: the exported folder loads in the Python
// reference and gives the same log-probs there.
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
describe.runIf(hasTorch)('exported folder in the PyTorch reference', () => {
  it('gives the same log-probs as here', () => {
    const id = importHfModel(project, fixture);
    const out = join(dir, 'export-py');
    exportHfModel(project, id, out);
    const seqs = reference.sequences.slice(0, 3);
    const py = JSON.parse(
      execFileSync('/usr/bin/python3', [join(root, 'scripts', 'make-gpt2-fixture.py'), '--check', out], {
        input: JSON.stringify({ sequences: seqs }),
      }).toString(),
    ) as { logprobs: number[][] };
    const { model } = loadModel(project, id);
    seqs.forEach((s, i) => expect(maxAbsDiff(logprobsOf(model, s), py.logprobs[i]!)).toBeLessThan(1e-4));
    model.dispose();
  });
});

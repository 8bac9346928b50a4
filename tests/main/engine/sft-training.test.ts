import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { GPT, type GPTConfig } from '../../../src-main/engine/models/model.js';
import {
  defaultSftConfig,
  encodeSftExample,
  prepareSftData,
  sftConfigSchema,
  trainSft,
  type SftConfig,
  type SftResumeState,
} from '../../../src-main/engine/train/sft.js';
import type { AdamWState } from '../../../src-main/engine/train/optim.js';
import { TextTokenizer } from '../../../src-main/engine/models/tokenizer.js';
import type { SftRecord } from '../../../src-main/store/sft.js';

const colours = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'];
const examples: (SftRecord & { split: 'train' | 'eval' })[] = colours.flatMap((c, i) => [
  { kind: 'completion' as const, prompt: `What colour is the ${c} ball?`, completion: ` The ball is ${c}.`, split: 'train' as const },
  { kind: 'text' as const, text: `A ${c} sky at dawn, number ${i}.`, split: 'train' as const },
]);
examples.push({
  kind: 'messages',
  messages: [
    { role: 'user', content: 'Say hi' },
    { role: 'assistant', content: 'Hi there!' },
  ],
  split: 'eval',
});

const tok = TextTokenizer.train(
  examples.map((e) => (e.kind === 'completion' ? e.prompt + e.completion : e.kind === 'text' ? e.text : 'Say hi Hi there!')),
  512,
);
const modelConfig: GPTConfig = { vocab_size: tok.vocabSize, n_positions: 32, n_embd: 32, n_layer: 2, n_head: 2, layer_norm_epsilon: 1e-5, dropout: 0 };
const config: SftConfig = { ...defaultSftConfig(), batch_size: 4, lr: 3e-3, warmup_steps: 2, max_steps: 24, eval_every: 8, checkpoint_every: 8, seed: 3 };

beforeAll(async () => {
  await initBackend();
});

describe('SFT data', () => {
  it('trains on the completion only, with EOS appended', () => {
    const seq = encodeSftExample({ kind: 'completion', prompt: 'Q?', completion: ' A.' }, tok, 64)!;
    const nPrompt = tok.encode('Q?').length;
    expect(seq.ids).toEqual([...tok.encode('Q?'), ...tok.encode(' A.'), tok.eosId]);
    expect(seq.targets).toEqual([...Array(nPrompt).fill(false), ...Array(seq.ids.length - nPrompt).fill(true)]);
  });

  it('trains on assistant turns of a chat, with role tokens', () => {
    const seq = encodeSftExample({ kind: 'messages', messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Yo' }] }, tok, 64)!;
    const r = tok.roleIds!;
    expect(seq.ids).toEqual([r.user, ...tok.encode('Hi'), r.assistant, ...tok.encode('Yo'), tok.eosId]);
    expect(seq.ids.filter((_, i) => seq.targets[i])).toEqual([...tok.encode('Yo'), tok.eosId]);
  });

  it('keeps eval-marked examples as the eval set and rejects unknown config keys', () => {
    const data = prepareSftData(examples, tok, config, 32);
    expect(data.eval.length).toBe(1);
    expect(data.train.length).toBe(12);
    expect(() => sftConfigSchema.parse({ lr: 1e-3, learning_rate: 1 })).toThrow();
  });
});

describe('SFT training', () => {
  it('loss falls and every parameter changes, in seconds', async () => {
    const model = GPT.create(modelConfig, 1);
    const before = model.getWeights();
    const data = prepareSftData(examples, tok, config, modelConfig.n_positions);
    const losses: number[] = [];
    const evals: number[] = [];
    const seen = new Set<string>();
    const result = await trainSft(model, data, { ...config, max_steps: 48, lr: 5e-3 }, tok.padId, {
      onStep: (_s, m) => {
        losses.push(m.loss!);
        Object.keys(m).forEach((k) => seen.add(k));
      },
      onEval: (_s, m) => void evals.push(m['eval/loss']!),
    });
    expect(result.step).toBe(48);
    expect(losses.every(Number.isFinite)).toBe(true);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(mean(losses.slice(-4))).toBeLessThan(mean(losses.slice(0, 4)) * 0.6);
    expect(evals.length).toBe(6);
    for (const k of ['loss', 'mean_token_accuracy', 'grad_norm', 'lr', 'tokens_per_second']) expect(seen.has(k)).toBe(true);
    const after = model.getWeights();
    for (const [name, w] of Object.entries(before)) {
      const changed = w.some((v, i) => v !== after[name]![i]);
      expect(changed, `${name} changed`).toBe(true);
    }
    model.dispose();
  });

  it('resumed from a checkpoint, gives the same loss curve as an uninterrupted run', async () => {
    const data = prepareSftData(examples, tok, config, modelConfig.n_positions);
    const full: number[] = [];
    const m1 = GPT.create(modelConfig, 5);
    await trainSft(m1, data, config, tok.padId, { onStep: (_s, m) => void full.push(m.loss!) });

    // Interrupted: stop after step 10 (a cancel), saving the state as a checkpoint would.
    const m2 = GPT.create(modelConfig, 5);
    const ctrl = new AbortController();
    const part: number[] = [];
    let saved: { weights: Record<string, Float32Array>; optimizer: AdamWState; state: SftResumeState } | null = null;
    const r2 = await trainSft(m2, data, config, tok.padId, {
      signal: ctrl.signal,
      onStep: (s, m) => {
        part.push(m.loss!);
        if (s === 10) ctrl.abort();
      },
      onCheckpoint: (_s, optimizer, state) => {
        saved = { weights: m2.getWeights(), optimizer, state: structuredClone(state) };
      },
    });
    expect(r2.stopped).toBe(true);
    expect(saved!.state.step).toBe(10);
    m2.dispose();

    const m3 = GPT.fromWeights(modelConfig, saved!.weights);
    const rest: number[] = [];
    const r3 = await trainSft(m3, data, config, tok.padId, { onStep: (_s, m) => void rest.push(m.loss!) }, saved!);
    expect(r3.step).toBe(24);
    const resumed = [...part, ...rest];
    expect(resumed.length).toBe(full.length);
    resumed.forEach((l, i) => expect(l).toBe(full[i]!));
    m1.dispose();
    m3.dispose();
  });
});

// Supervised fine-tuning (docs/algorithms.md, "SFT"), nanoGPT-style: one config, data preparation, one
// training loop that reports through callbacks and knows nothing about the store or the UI.
//
// Loss: mean next-token cross-entropy over the tokens that are trained on — the completion of a
// prompt/completion pair, the assistant turns of a chat, the whole of a plain text — each ending
// in EOS so the model learns to stop. AdamW, linear warmup then cosine decay, grad-norm clipping.
// Exact resume: the optimizer moments, the step and the data-order RNG state are checkpointed,
// so a resumed run takes exactly the steps an uninterrupted run of the same seed takes.
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { targetLogprobs } from '../kernels/fast-ops.js';
import type { GPT } from '../models/model.js';
import { AdamW, type AdamWState } from './optim.js';
import { Replicas } from '../parallel/data-parallel.js';
import { defineGradTask, shardRanges } from '../parallel/grad-task.js';
import { Rng, type RngState } from '../rng.js';
import type { ChatRole, TextTokenizer } from '../models/tokenizer.js';
import { loraRunFields } from '../models/lora.js';
import type { SftRecord } from '../../shared/records.js';
import type { Split } from '../../shared/vocabulary.js';

export const sftConfigSchema = z
  .object({
    seed: z.number().int().min(0).default(0),
    /** Passes over the training examples (ignored when max_steps > 0). */
    epochs: z.number().int().min(1).max(1000).default(3),
    /** Stop after this many optimizer steps; 0 = run `epochs` epochs. */
    max_steps: z.number().int().min(0).default(0),
    batch_size: z.number().int().min(1).max(512).default(8),
    lr: z.number().positive().max(1).default(3e-4),
    warmup_steps: z.number().int().min(0).default(10),
    /** Cosine decay ends at lr · min_lr_ratio. */
    min_lr_ratio: z.number().min(0).max(1).default(0.1),
    weight_decay: z.number().min(0).default(0),
    grad_clip: z.number().positive().default(1.0),
    /** Tokens per example, capped at the model's context (n_positions). */
    max_length: z.number().int().min(2).default(256),
    /** Share of examples held out for eval when none is marked `eval`. */
    eval_fraction: z.number().min(0).max(0.9).default(0.1),
    eval_every: z.number().int().min(1).default(50),
    /** Upper bound on eval examples, so an eval pass stays short. */
    eval_max_examples: z.number().int().min(1).default(256),
    checkpoint_every: z.number().int().min(1).default(200),
    /** At every eval, this many eval prompts are answered by the model and kept as samples (0 = none). */
    sample_count: z.number().int().min(0).max(32).default(3),
    sample_max_tokens: z.number().int().min(1).max(1024).default(48),
    ...loraRunFields,
  })
  .strict();

export type SftConfig = z.infer<typeof sftConfigSchema>;
export const defaultSftConfig = (): SftConfig => sftConfigSchema.parse({});

/** Token ids and, per position, whether that token is a training target. */
export interface SftSequence {
  ids: number[];
  targets: boolean[];
}

export interface SftData {
  train: SftSequence[];
  eval: SftSequence[];
}

// ---------- data ----------

/** One example as ids + target mask (EOS appended); null when nothing in it is trainable. */
export function encodeSftExample(rec: SftRecord, tok: TextTokenizer, maxLength: number, onLong?: (tokens: number) => void): SftSequence | null {
  let ids: number[] = [];
  let targets: boolean[] = [];
  const push = (part: number[], train: boolean) => {
    for (const id of part) {
      ids.push(id);
      targets.push(train);
    }
  };
  if (tok.chat && rec.kind !== 'text') {
    // An Instruct model's chat template: a completion is a user turn and the assistant's answer.
    const messages = rec.kind === 'messages' ? rec.messages : [{ role: 'user', content: rec.prompt }, { role: 'assistant', content: rec.completion }];
    ({ ids, targets } = tok.conversation(messages));
  } else if (rec.kind === 'completion') {
    const prompt = tok.encode(rec.prompt);
    const completion = [...tok.encode(rec.completion), tok.eosId];
    // Too long: keep the whole completion and the end of the prompt (its most relevant part).
    const keep = Math.max(0, Math.min(prompt.length, maxLength - completion.length));
    if (prompt.length + completion.length > maxLength) onLong?.(prompt.length + completion.length);
    push(prompt.slice(prompt.length - keep), false);
    push(completion, true);
  } else if (rec.kind === 'messages') {
    for (const m of rec.messages) {
      const role = (['system', 'user', 'assistant'].includes(m.role) ? m.role : 'user') as ChatRole;
      push(tok.roleHeader(role), false);
      if (role === 'assistant') push([...tok.encode(m.content), tok.eosId], true);
      else push(tok.encode(m.content), false);
    }
  } else {
    push([...tok.encode(rec.text), tok.eosId], true);
  }
  if (rec.kind !== 'completion' && ids.length > maxLength) onLong?.(ids.length);
  ids = ids.slice(0, maxLength);
  targets = targets.slice(0, maxLength);
  // Position 0 is never predicted; an example needs a target after it.
  return targets.slice(1).some(Boolean) ? { ids, targets } : null;
}

/**
 * Encodes the examples and splits them: `eval`-marked examples are the eval set; when there are
 * none, a seeded `eval_fraction` of the training examples is held out.
 */
export function prepareSftData(
  examples: Iterable<SftRecord & { split: Split; id?: number }>,
  tok: TextTokenizer,
  config: SftConfig,
  nPositions: number,
): SftData & { skipped: number; long: { id: number | undefined; tokens: number }[]; maxLength: number } {
  const maxLength = Math.min(config.max_length, nPositions);
  let train: SftSequence[] = [];
  let evalSet: SftSequence[] = [];
  let skipped = 0;
  // Examples cut to maxLength, so the run can name them.
  const long: { id: number | undefined; tokens: number }[] = [];
  for (const ex of examples) {
    const seq = encodeSftExample(ex, tok, maxLength, (tokens) => long.push({ id: ex.id, tokens }));
    if (!seq) skipped++;
    else (ex.split === 'eval' ? evalSet : train).push(seq);
  }
  if (evalSet.length === 0 && config.eval_fraction > 0 && train.length >= 2) {
    const order = new Rng(config.seed).fork('eval-split').shuffle(train.map((_, i) => i));
    const nEval = Math.max(1, Math.floor(train.length * config.eval_fraction));
    const held = new Set(order.slice(0, nEval));
    evalSet = train.filter((_, i) => held.has(i));
    train = train.filter((_, i) => !held.has(i));
  }
  return { train, eval: evalSet.slice(0, config.eval_max_examples), skipped, long, maxLength };
}

/** The prompt part (everything before the first trained token) of up to `n` sequences that have one. */
export function samplePrompts(seqs: SftSequence[], n: number): number[][] {
  const out: number[][] = [];
  for (const s of seqs) {
    if (out.length >= n) break;
    const first = s.targets.indexOf(true);
    if (first > 0) out.push(s.ids.slice(0, first));
  }
  return out;
}

/** A right-padded batch of token ids and the mask of positions trained on. */
export interface SftBatch {
  ids: Int32Array;
  /** mask[b, t] = 1 when ids[b, t+1] is a target ([B, T−1]). */
  mask: Float32Array;
  B: number;
  T: number;
  /** Real (unpadded) tokens. */
  tokens: number;
}

/** Right-padded batch: no attention mask needed, since causal attention never looks right. */
export function makeSftBatch(seqs: SftSequence[], padId: number): SftBatch {
  const T = Math.max(2, ...seqs.map((s) => s.ids.length));
  const B = seqs.length;
  const ids = new Int32Array(B * T).fill(padId);
  const mask = new Float32Array(B * (T - 1)); // mask[b, t] = 1 when ids[b, t+1] is a target
  let tokens = 0;
  seqs.forEach((s, b) => {
    ids.set(s.ids, b * T);
    tokens += s.ids.length;
    for (let t = 1; t < s.ids.length; t++) if (s.targets[t]) mask[b * (T - 1) + t - 1] = 1;
  });
  return { ids, mask, B, T, tokens };
}

/**
 * Masked mean cross-entropy and, kept outside the gradient, the number of targets the model
 * ranks first. Logits come from the model's own tied head; `targetLogprobs` avoids the gather
 * gradient that tfjs-wasm lacks.
 */
function lossAndCorrect(model: GPT, batch: SftBatch, training: boolean, denominator?: number) {
  const { B, T } = batch;
  const nTargets = batch.mask.reduce((a, b) => a + b, 0);
  const ids = tf.tensor2d(batch.ids, [B, T], 'int32');
  const mask = tf.tensor1d(batch.mask);
  const h = model.hidden(ids, { training });
  const logits = tf.reshape(tf.slice(model.logits(h), [0, 0, 0], [B, T - 1, -1]), [B * (T - 1), -1]) as tf.Tensor2D;
  const targets = tf.reshape(tf.slice(ids, [0, 1], [B, T - 1]), [-1]) as tf.Tensor1D;
  const logp = targetLogprobs(logits, targets);
  const loss = tf.div(tf.neg(tf.sum(tf.mul(logp, mask))), denominator ?? Math.max(nTargets, 1)) as tf.Scalar;
  const correct = tf.sum(tf.mul(tf.cast(tf.equal(tf.argMax(logits, -1), targets), 'float32'), mask));
  return { loss, correct, nTargets };
}

/** A shard of an SFT batch; its loss is divided by the whole batch's target count. */
interface SftShard extends SftBatch {
  denominator: number;
}

/** The SFT loss as a data-parallel gradient task (shards = rows of the batch). */
export const sftGradTask = defineGradTask<SftShard>({
  name: 'sft',
  module: import.meta.url,
  split: (b, parts) =>
    shardRanges(b.B, parts).map(([r0, r1]) => {
      const mask = b.mask.slice(r0 * (b.T - 1), r1 * (b.T - 1));
      return { ids: b.ids.slice(r0 * b.T, r1 * b.T), mask, B: r1 - r0, T: b.T, tokens: b.tokens, denominator: b.denominator };
    }),
  tokens: (b) => b.B * b.T,
  loss: (models, s) => {
    const r = lossAndCorrect(models.policy as GPT, s, true, s.denominator);
    return { loss: r.loss, extras: { correct: tf.reshape(r.correct, [1]) } };
  },
});

/** One optimizer step of SFT on `batch`, its gradient computed on every core `replicas` has. */
export async function sftStep(replicas: Replicas, optimizer: AdamW, batch: SftBatch): Promise<{ loss: number; gradNorm: number; lr: number; accuracy: number }> {
  const nTargets = batch.mask.reduce((a, b) => a + b, 0);
  const r = await replicas.grads(sftGradTask, { ...batch, denominator: Math.max(nTargets, 1) });
  try {
    const { gradNorm, lr } = optimizer.applyGradients(r.grads);
    replicas.syncWeights();
    const correct = r.extras.correct!.reduce((a, b) => a + b, 0);
    return { loss: r.loss, gradNorm, lr, accuracy: correct / Math.max(nTargets, 1) };
  } finally {
    tf.dispose(Object.values(r.grads));
  }
}

/** Token-weighted eval loss and accuracy over the whole eval set. */
export function evaluateSft(model: GPT, data: SftSequence[], batchSize: number, padId: number): Record<string, number> {
  let lossSum = 0;
  let correct = 0;
  let n = 0;
  for (let i = 0; i < data.length; i += batchSize) {
    const batch = makeSftBatch(data.slice(i, i + batchSize), padId);
    const [l, c, k] = tf.tidy(() => {
      const r = lossAndCorrect(model, batch, false);
      return [r.loss.dataSync()[0]!, r.correct.dataSync()[0]!, r.nTargets];
    });
    lossSum += l * k;
    correct += c;
    n += k;
  }
  return n === 0 ? {} : { 'eval/loss': lossSum / n, 'eval/mean_token_accuracy': correct / n };
}

// ---------- training ----------

/** Where an interrupted run continues: stored in the checkpoint's `extra.resume`. */
export interface SftResumeState {
  step: number;
  epoch: number;
  /** Batches of the current epoch already taken. */
  batch_in_epoch: number;
  /** The data-order RNG as it was before the current epoch's shuffle. */
  data_rng: RngState;
}

export interface SftHooks {
  signal?: AbortSignal;
  onStep?(step: number, metrics: Record<string, number>): void | Promise<void>;
  onEval?(step: number, metrics: Record<string, number>): void | Promise<void>;
  /** Every `checkpoint_every` steps, at the end, and when stopped: what a resume needs. */
  onCheckpoint?(step: number, optimizer: AdamWState, resume: SftResumeState): void | Promise<void>;
}

export interface SftResult {
  step: number;
  totalSteps: number;
  stopped: boolean;
  /** The last value of every metric. */
  metrics: Record<string, number>;
}

export function sftTotalSteps(config: SftConfig, nTrain: number): number {
  return config.max_steps > 0 ? config.max_steps : config.epochs * Math.ceil(nTrain / config.batch_size);
}

/** Trains `model` in place. With `resume`, continues exactly where that checkpoint left off. */
export async function trainSft(
  model: GPT,
  data: SftData,
  config: SftConfig,
  padId: number,
  hooks: SftHooks = {},
  resume?: { optimizer: AdamWState; state: SftResumeState },
): Promise<SftResult> {
  if (data.train.length === 0) throw new Error('no SFT examples to train on: import some (prompt/completion, messages or text) first');
  const totalSteps = sftTotalSteps(config, data.train.length);
  const batchesPerEpoch = Math.ceil(data.train.length / config.batch_size);
  const optimizer = new AdamW(model.namedVariables(), {
    lr: config.lr,
    warmupSteps: config.warmup_steps,
    totalSteps,
    minLrRatio: config.min_lr_ratio,
    weightDecay: config.weight_decay,
    clipNorm: config.grad_clip,
  });
  const dataRng = new Rng(config.seed).fork('data-order');
  let step = 0;
  let epoch = 0;
  let batchInEpoch = 0;
  if (resume) {
    optimizer.setState(resume.optimizer);
    dataRng.setState(resume.state.data_rng);
    ({ step, epoch, batch_in_epoch: batchInEpoch } = resume.state);
  }
  let epochRngState = dataRng.getState();
  let order = dataRng.shuffle(data.train.map((_, i) => i));
  const resumeState = (): SftResumeState => ({ step, epoch, batch_in_epoch: batchInEpoch, data_rng: epochRngState });

  let last: Record<string, number> = {};
  let lastCheckpoint = step;
  let stopped = false;
  const replicas = await Replicas.start({ policy: model }, ['policy']);
  try {
    while (step < totalSteps) {
      if (hooks.signal?.aborted) {
        stopped = true;
        break;
      }
      if (batchInEpoch >= batchesPerEpoch) {
        epoch++;
        batchInEpoch = 0;
        epochRngState = dataRng.getState();
        order = dataRng.shuffle(data.train.map((_, i) => i));
      }
      const idx = order.slice(batchInEpoch * config.batch_size, (batchInEpoch + 1) * config.batch_size);
      const batch = makeSftBatch(idx.map((i) => data.train[i]!), padId);
      const started = performance.now();
      const { loss, gradNorm, lr, accuracy } = await sftStep(replicas, optimizer, batch);
      step++;
      batchInEpoch++;
      const seconds = (performance.now() - started) / 1000;
      const metrics = {
        loss,
        mean_token_accuracy: accuracy,
        grad_norm: gradNorm,
        lr,
        tokens_per_second: batch.tokens / seconds,
        epoch: epoch + batchInEpoch / batchesPerEpoch,
      };
      last = { ...last, ...metrics };
      await hooks.onStep?.(step, metrics);
      const done = step === totalSteps;
      if ((step % config.eval_every === 0 || done) && data.eval.length > 0) {
        const ev = evaluateSft(model, data.eval, config.batch_size, padId);
        last = { ...last, ...ev };
        await hooks.onEval?.(step, ev);
      }
      if (step % config.checkpoint_every === 0 && !done) {
        await hooks.onCheckpoint?.(step, optimizer.getState(), resumeState());
        lastCheckpoint = step;
      }
      // Let the event loop deliver a cancel between steps.
      await new Promise((r) => setImmediate(r));
    }
    if (step > lastCheckpoint) await hooks.onCheckpoint?.(step, optimizer.getState(), resumeState());
  } finally {
    optimizer.dispose();
    await replicas.dispose();
  }
  return { step, totalSteps, stopped, metrics: last };
}

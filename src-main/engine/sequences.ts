// Prompt + response sequences as the reward model, PPO and DPO feed them to a GPT: left-padded so
// every sequence ends at the last column. Then the reward model's score is read at column T−1
// for every row (the last real token), and the log-probs of the response tokens are the last
// `len` columns of the [B, T−1] log-prob matrix, for every row alike.
import * as tf from '@tensorflow/tfjs';
import { targetLogprobs } from './fast-ops.js';
import type { GPT } from './model.js';

/**
 * Prompt and response tokens exactly as SFT's prompt/completion examples are laid out
 * (engine/sft.ts): the prompt's tokens, then the response's tokens and EOS. The reward model,
 * PPO, DPO and best-of-N all encode through this, so they see what SFT trained on.
 */
export function textEncoder(tok: { encode(text: string): number[]; eosId: number; padId: number }): {
  prompt(text: string): number[];
  response(text: string): number[];
  eosId: number;
  padId: number;
} {
  return {
    prompt: (text) => tok.encode(text),
    response: (text) => [...tok.encode(text), tok.eosId],
    eosId: tok.eosId,
    padId: tok.padId,
  };
}

export interface SequenceBatch {
  /** int32 [B, T], left-padded with padId */
  ids: tf.Tensor2D;
  /** [B, T]: 1 on real tokens, 0 on padding */
  attentionMask: tf.Tensor2D;
  /** float32 [B, T−1]: 1 where position t predicts a response token (ids[t+1]) */
  responseMask: tf.Tensor2D;
  responseLengths: number[];
  width: number;
}

/**
 * Packs prompt/response pairs into one left-padded batch. A sequence longer than `maxLength`
 * loses prompt tokens from the left (the response and the end of the prompt matter most); a
 * response that alone does not fit keeps its first `maxLength − 1` tokens. A response token at
 * position 0 has nothing to be predicted from, so `responseLengths` counts only the ones after it.
 */
export function packBatch(prompts: number[][], responses: number[][], padId: number, maxLength: number): SequenceBatch {
  const lengths: number[] = [];
  const rows = prompts.map((p, i) => {
    const r = responses[i]!.slice(0, maxLength - 1);
    const keep = Math.min(p.length, maxLength - r.length);
    const row = [...p.slice(p.length - keep), ...r];
    lengths.push(Math.min(r.length, row.length - 1));
    return row;
  });
  const width = Math.max(2, ...rows.map((r) => r.length));
  const B = rows.length;
  const ids = new Int32Array(B * width).fill(padId);
  const attention = new Float32Array(B * width);
  const response = new Float32Array(B * (width - 1));
  rows.forEach((row, b) => {
    const offset = width - row.length;
    ids.set(row, b * width + offset);
    attention.fill(1, b * width + offset, (b + 1) * width);
    response.fill(1, b * (width - 1) + (width - 1 - lengths[b]!), (b + 1) * (width - 1));
  });
  return {
    ids: tf.tensor2d(ids, [B, width], 'int32'),
    attentionMask: tf.tensor2d(attention, [B, width], 'float32'),
    responseMask: tf.tensor2d(response, [B, width - 1], 'float32'),
    responseLengths: lengths,
    width,
  };
}

export function disposeBatch(b: SequenceBatch): void {
  tf.dispose([b.ids, b.attentionMask, b.responseMask]);
}

/**
 * Log-probability of each next token at the sampling temperature, log softmax(logits/T)[ids[t+1]],
 * shape [B, T−1]; with `entropy`, also the entropy of that distribution per position (from the
 * same forward pass, for the `policy/entropy_avg` metric).
 */
export function tokenLogprobsAt(
  model: GPT,
  batch: SequenceBatch,
  temperature: number,
  opts: { training?: boolean; entropy?: boolean } = {},
): { logp: tf.Tensor2D; entropy?: tf.Tensor2D } {
  if (!opts.entropy) {
    return { logp: model.tokenLogprobs(batch.ids, { attentionMask: batch.attentionMask, training: opts.training ?? false, temperature }) };
  }
  return tf.tidy(() => {
    const [B, T] = batch.ids.shape;
    const hidden = model.hidden(batch.ids, { attentionMask: batch.attentionMask, training: opts.training ?? false });
    const C = hidden.shape[2];
    const V = model.config.vocab_size;
    const h = tf.reshape(tf.slice(hidden, [0, 0, 0], [B, T - 1, C]), [B, T - 1, C]) as tf.Tensor3D;
    const logits = tf.div(tf.reshape(model.logits(h), [B * (T - 1), V]), temperature) as tf.Tensor2D;
    const targets = tf.reshape(tf.slice(batch.ids, [0, 1], [B, T - 1]), [-1]) as tf.Tensor1D;
    const logp = tf.reshape(targetLogprobs(logits, targets), [B, T - 1]) as tf.Tensor2D;
    const logSoftmax = tf.logSoftmax(logits);
    const entropy = tf.reshape(tf.neg(tf.sum(tf.mul(tf.exp(logSoftmax), logSoftmax), -1)), [B, T - 1]) as tf.Tensor2D;
    return { logp, entropy };
  });
}

/** The response part of each row of a [B, T−1] matrix, as ragged arrays (last `len` columns). */
export function responseRows(matrix: tf.Tensor2D, lengths: number[]): number[][] {
  const [B, W] = matrix.shape;
  const data = matrix.dataSync();
  const out: number[][] = [];
  for (let b = 0; b < B; b++) {
    const len = lengths[b]!;
    out.push(Array.from(data.subarray(b * W + W - len, (b + 1) * W)));
  }
  return out;
}

/** Ragged per-response-token arrays back into a right-aligned [B, width] matrix (zeros elsewhere). */
export function alignRows(rows: number[][], width: number): tf.Tensor2D {
  const data = new Float32Array(rows.length * width);
  rows.forEach((r, b) => data.set(r, b * width + width - r.length));
  return tf.tensor2d(data, [rows.length, width]);
}

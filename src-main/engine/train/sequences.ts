// Prompt + response sequences as the reward model, PPO and DPO feed them to a GPT: left-padded so
// every sequence ends at the last column. Then the reward model's score is read at column T−1
// for every row (the last real token), and the log-probs of the response tokens are the last
// `len` columns of the [B, T−1] log-prob matrix, for every row alike.
import * as tf from '@tensorflow/tfjs';
import type { GPT } from '../models/model.js';
import { isFrozen } from '../kernels/fast-ops.js';

/**
 * Prompt and response tokens exactly as SFT's prompt/completion examples are laid out
 * (engine/train/sft.ts): the prompt's tokens, then the response's tokens and EOS; with an Instruct
 * model's chat template, the prompt as a user turn with the generation prompt and the response
 * as the assistant's turn with its end-of-turn tokens. The reward model, PPO, DPO and best-of-N
 * all encode through this, so they see what SFT trained on.
 */
export function textEncoder(tok: {
  encode(text: string): number[];
  eosId: number;
  padId: number;
  chat?: unknown;
  chatPromptIds?(text: string): number[];
  chatResponseIds?(text: string): number[];
}): {
  prompt(text: string): number[];
  response(text: string): number[];
  eosId: number;
  padId: number;
} {
  if (tok.chat && tok.chatPromptIds && tok.chatResponseIds) {
    return { prompt: (text) => tok.chatPromptIds!(text), response: (text) => tok.chatResponseIds!(text), eosId: tok.eosId, padId: tok.padId };
  }
  return {
    prompt: (text) => tok.encode(text),
    response: (text) => [...tok.encode(text), tok.eosId],
    eosId: tok.eosId,
    padId: tok.padId,
  };
}

/**
 * The end of a prompt that leaves `maxNew` positions for generation in a context of `nPositions`
 * (at least one prompt token is kept). Every pass that samples after a prompt (PPO rollouts, the
 * reward model's normalisation, Compare, best-of-N) cuts long prompts this way, as `packBatch` does.
 */
export function promptTail(ids: number[], nPositions: number, maxNew: number): number[] {
  const room = Math.max(1, nPositions - Math.min(maxNew, nPositions - 1));
  return ids.length > room ? ids.slice(ids.length - room) : ids;
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
 * at the positions that predict response tokens: shape [B, T−1] like `responseMask`, 0 before the
 * last max(responseLengths) columns (prompt positions are never read, so their vocabulary-wide
 * logits are not computed). With `entropy`, also the entropy of each such position's distribution,
 * from the same pass and outside any gradient (it is a metric, `policy/entropy_avg`).
 */
export function tokenLogprobsAt(
  model: GPT,
  batch: SequenceBatch,
  temperature: number,
  opts: { training?: boolean; entropy?: boolean } = {},
): { logp: tf.Tensor2D; entropy?: tf.Tensor2D } {
  const [B, T] = batch.ids.shape;
  const L = Math.max(0, ...batch.responseLengths);
  let rawEntropy: tf.Tensor1D | undefined;
  try {
    return tf.tidy(() => {
      // Right-aligned [B, L] → [B, T−1], zeros in front.
      const widen = (x: tf.Tensor) => tf.pad(tf.reshape(x, [B, L]), [[0, 0], [T - 1 - L, 0]]) as tf.Tensor2D;
      if (L === 0) return { logp: tf.zeros([B, T - 1]) as tf.Tensor2D, ...(opts.entropy ? { entropy: tf.zeros([B, T - 1]) as tf.Tensor2D } : {}) };
      const hidden = model.hidden(batch.ids, { attentionMask: batch.attentionMask, training: opts.training ?? false });
      const C = hidden.shape[2];
      const h = tf.reshape(tf.slice(hidden, [0, T - 1 - L, 0], [B, L, C]), [B * L, C]) as tf.Tensor2D;
      const targets = tf.reshape(tf.slice(batch.ids, [0, T - L], [B, L]), [-1]) as tf.Tensor1D;
      const wte = model.outputMatrix();
      const out = tiedTargetLogprobs(h, wte, targets, temperature, opts.entropy ?? false);
      rawEntropy = out.entropy;
      return { logp: widen(out.logp), ...(out.entropy ? { entropy: widen(out.entropy) } : {}) };
    });
  } finally {
    rawEntropy?.dispose();
  }
}

/**
 * log softmax(h·Eᵀ/T)[target] for hidden rows h [n,C], the tied output matrix E = wte [V,C] and
 * int32 targets [n]; with `entropy`, also each row's entropy (computed in the forward pass, never
 * differentiated, returned kept: the caller disposes it). One op with its own gradient instead of
 * tiedLogits + targetLogprobs because on wasm (measured at V = 8192, n = 64): tfjs's Softmax
 * kernel is vectorised and ~7× faster than its Exp, so the probabilities come from one softmax
 * (log-sum-exp = max − log max p, exact and never underflowing) and are saved for the backward
 * pass instead of being recomputed; and (E·hᵀ)ᵀ moves n·V elements where E's transpose moves V·C
 * (11 ms vs 24 ms).
 */
function tiedTargetLogprobs(h: tf.Tensor2D, wte: tf.Tensor2D, targets: tf.Tensor1D, temperature: number, entropy: boolean): { logp: tf.Tensor1D; entropy?: tf.Tensor1D } {
  const [n, C] = h.shape;
  const V = wte.shape[0];
  let ent: tf.Tensor1D | undefined;
  const frozen = isFrozen(wte);
  const op = tf.customGrad(((hIn: tf.Tensor2D, e: tf.Tensor2D, save: tf.GradSaveFunc) => {
    // (h/T)·Eᵀ = (h·Eᵀ)/T, scaling C columns instead of V.
    const hs = temperature === 1 ? hIn : (tf.mul(hIn, 1 / temperature) as tf.Tensor2D);
    const logits = tf.transpose(tf.matMul(e, tf.transpose(hs))) as tf.Tensor2D;
    const p = tf.softmax(logits);
    const lse = tf.sub(tf.max(logits, -1), tf.log(tf.max(p, -1)));
    const flatIdx = tf.add(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(V, 'int32')), targets);
    if (entropy) ent = tf.keep(tf.sub(lse, tf.sum(tf.mul(p, logits), -1)) as tf.Tensor1D);
    save([hs, e, p, flatIdx]);
    return {
      value: tf.sub(tf.gather(tf.reshape(logits, [-1]), flatIdx), lse) as tf.Tensor1D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sh, se, sp, sIdx] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
          // d logp / d logits = onehot(target) − p, per row scaled by dy.
          const onehot = tf.reshape(tf.scatterND(tf.reshape(sIdx, [n, 1]), dy, [n * V]), [n, V]);
          const g = tf.sub(onehot, tf.mul(sp, tf.reshape(dy, [n, 1]))) as tf.Tensor2D;
          const dhs = tf.matMul(g, se);
          const dh = temperature === 1 ? dhs : tf.mul(dhs, 1 / temperature);
          // gᵀ·hs, transposing whichever of g [n,V] or the [C,V] product moves fewer elements.
          // A frozen output matrix (LoRA's base) gets no gradient: see isFrozen in fast-ops.ts.
          if (frozen) return [dh, tf.zeros([0])];
          const dE = n * V <= V * C + n * C ? tf.matMul(tf.transpose(g) as tf.Tensor2D, sh) : (tf.transpose(tf.matMul(tf.transpose(sh) as tf.Tensor2D, g)) as tf.Tensor2D);
          return [dh, dE];
        }),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (h: tf.Tensor2D, e: tf.Tensor2D) => tf.Tensor1D;
  const logp = op(h, wte);
  return { logp, ...(ent ? { entropy: ent } : {}) };
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

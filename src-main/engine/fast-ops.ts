// The model's building blocks as tfjs ops with hand-written gradients (tf.customGrad), so that
// neither the forward nor the backward pass hits tfjs-wasm's slow paths (docs PERFORMANCE.md):
// transposed matMul variants (8–16× slower than transposing first), batched matMul (~3× slower
// than a loop of 2-D matMuls for attention-sized matrices), and the gather gradient (no kernel on
// wasm). Every gradient here is checked against autodiff of the plain formula in the tests.
import * as tf from '@tensorflow/tfjs';

type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
type Forward = (...args: never[]) => { value: tf.Tensor; gradFunc: GradFunc };

/** tf.customGrad typed by the caller as `Op` (tfjs types the inputs as one variadic union). */
function customGrad<Op>(f: Forward): Op {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as Op;
}

/**
 * Batched matMul [n,a,b]×[n,b,c] as a loop of 2-D matMuls when that is faster on the backend
 * (measured on wasm), else one batched kernel. Neither operand is transposed.
 */
export function bmm(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const n = a.shape[0];
  if (!useLoopedBmm() || n === 1) return tf.matMul(a, b);
  const as = tf.unstack(a) as tf.Tensor2D[];
  const bs = tf.unstack(b) as tf.Tensor2D[];
  const out = tf.stack(as.map((x, i) => tf.matMul(x, bs[i]!))) as tf.Tensor3D;
  tf.dispose([...as, ...bs]);
  return out;
}

function useLoopedBmm(): boolean {
  return tf.getBackend() !== 'tensorflow';
}

/** y = x·w + b for x [n,in], w [in,out] (HF Conv1D layout). Backward uses explicit transposes. */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor2D {
  if (b) return linearBias(x, w, b);
  return linearNoBias(x, w);
}

const linearBias = customGrad<(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D>((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b }),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(sw)), tf.matMul(tf.transpose(sx), dy as tf.Tensor2D), tf.sum(dy, 0)];
    },
  };
});

const linearNoBias = customGrad<(x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D>((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(sw)), tf.matMul(tf.transpose(sx), dy as tf.Tensor2D)];
    },
  };
});

/**
 * Rows of `table` [V,C] at `ids` (int32 [n]). The gradient is a scatter-add (ScatterNd sums
 * duplicate indices) because the gather gradient kernel is missing on wasm.
 */
export function embedding(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const f = customGrad<(t: tf.Tensor2D) => tf.Tensor2D>((t: tf.Tensor, save: tf.GradSaveFunc) => {
    // Tensors a gradient needs must go through save(): tidy would dispose captured ones.
    save([ids]);
    return {
      value: tf.gather(t, ids),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.scatterND(tf.reshape(saved[0]!, [-1, 1]), dy, t.shape),
    };
  });
  return f(table);
}

/** LayerNorm over the last axis of x [n,C] with one fused backward. */
export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  const f = customGrad<(xi: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor2D>((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const mean = tf.mean(xi, -1, true);
    const xc = tf.sub(xi, mean);
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), eps));
    const xhat = tf.mul(xc, rstd);
    save([xhat, rstd, g]);
    return {
      value: tf.add(tf.mul(xhat, g), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sxhat, srstd, sg] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dxhat = tf.mul(dy, sg);
        const m1 = tf.mean(dxhat, -1, true);
        const m2 = tf.mean(tf.mul(dxhat, sxhat), -1, true);
        const dx = tf.mul(srstd, tf.sub(tf.sub(dxhat, m1), tf.mul(sxhat, m2)));
        return [dx, tf.sum(tf.mul(dy, sxhat), 0), tf.sum(dy, 0)];
      },
    };
  });
  return f(x, gamma, beta);
}

const GELU_C = Math.sqrt(2 / Math.PI);

/** GPT-2's `gelu_new`: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), with a closed-form gradient. */
export const gelu = customGrad<(x: tf.Tensor2D) => tf.Tensor2D>((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const x2 = tf.square(x);
  const t = tf.tanh(tf.mul(tf.mul(x, tf.add(tf.mul(x2, 0.044715), 1)), GELU_C));
  save([x, x2, t]);
  return {
    value: tf.mul(tf.mul(x, 0.5), tf.add(t, 1)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sx2, st] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      // d/dx = 0.5(1+t) + 0.5·x·(1−t²)·c·(1 + 3·0.044715·x²)
      const sech2 = tf.sub(1, tf.square(st));
      const inner = tf.mul(tf.add(tf.mul(sx2, 3 * 0.044715), 1), GELU_C);
      const d = tf.add(tf.mul(tf.add(st, 1), 0.5), tf.mul(tf.mul(tf.mul(sx, 0.5), sech2), inner));
      return [tf.mul(dy, d)];
    },
  };
});

/**
 * log softmax(logits)[target] per row, logits [n,V], targets int32 [n]. Backward:
 * dy·(onehot − softmax), avoiding the gather gradient and a [n,V] log-softmax tape.
 */
export function targetLogprobs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const [n, vocab] = logits.shape;
  const f = customGrad<(l: tf.Tensor2D) => tf.Tensor1D>((l: tf.Tensor, save: tf.GradSaveFunc) => {
    const lse = tf.logSumExp(l, -1, true);
    const flatIdx = tf.add(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(vocab, 'int32')), targets);
    const picked = tf.gather(tf.reshape(l, [-1]), flatIdx);
    save([l, lse, targets]);
    return {
      value: tf.sub(picked, tf.reshape(lse, [-1])),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sl, slse, st] = saved as [tf.Tensor, tf.Tensor, tf.Tensor1D];
        const p = tf.exp(tf.sub(sl, slse));
        // oneHot with dtype 'float32' returns all zeros on tfjs-wasm 4.22: build int32 and cast.
        const onehot = tf.cast(tf.oneHot(st, vocab), 'float32');
        return [tf.mul(tf.reshape(dy, [-1, 1]), tf.sub(onehot, p))];
      },
    };
  });
  return f(logits);
}

/**
 * Causal multi-head self-attention core. q, k, v: [B·T, C] (heads side by side on the last axis,
 * as GPT-2's c_attn produces them); `maskAdd`: additive mask [B, 1, T, T] (0 visible, −1e9 hidden)
 * or null for plain causal. Returns [B·T, C]. The backward pass is written out so that every
 * matMul is an untransposed 2-D one.
 */
export function causalAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  batch: number,
  seqLen: number,
  nHead: number,
  maskAdd: tf.Tensor4D,
): tf.Tensor2D {
  const C = q.shape[1];
  const hd = C / nHead;
  const bh = batch * nHead;
  const scale = 1 / Math.sqrt(hd);
  // [B·T, C] → [B·H, T, hd]
  const toHeads = (x: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(x, [batch, seqLen, nHead, hd]), [0, 2, 1, 3]), [bh, seqLen, hd]) as tf.Tensor3D;
  // [B·T, C] → [B·H, hd, T]
  const toHeadsT = (x: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(x, [batch, seqLen, nHead, hd]), [0, 2, 3, 1]), [bh, hd, seqLen]) as tf.Tensor3D;
  // [B·H, T, hd] → [B·T, C]
  const fromHeads = (x: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(x, [batch, nHead, seqLen, hd]), [0, 2, 1, 3]), [batch * seqLen, C]) as tf.Tensor2D;
  // [B·H, T, hd] → [B·H, hd, T]
  const swap = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1]) as tf.Tensor3D;

  const f = customGrad<(qi: tf.Tensor2D, ki: tf.Tensor2D, vi: tf.Tensor2D) => tf.Tensor2D>((qi: tf.Tensor, ki: tf.Tensor, vi: tf.Tensor, save: tf.GradSaveFunc) => {
    const qh = toHeads(qi);
    const kT = toHeadsT(ki);
    const vh = toHeads(vi);
    const scores = tf.reshape(tf.add(tf.reshape(tf.mul(bmm(qh, kT), scale), [batch, nHead, seqLen, seqLen]), maskAdd), [bh, seqLen, seqLen]);
    const p = tf.softmax(scores) as tf.Tensor3D;
    save([qh, kT, vh, p]);
    return {
      value: fromHeads(bmm(p, vh)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, skT, sv, sp] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
        const dO = toHeads(dy);
        const dV = bmm(swap(sp), dO); // [bh,T,hd]
        const dP = bmm(dO, swap(sv)); // [bh,T,T]
        const dS = tf.mul(tf.mul(sp, tf.sub(dP, tf.sum(tf.mul(dP, sp), -1, true))), scale) as tf.Tensor3D;
        const dQ = bmm(dS, swap(skT)); // [bh,T,hd]
        const dK = bmm(swap(dS), sq); // [bh,T,hd]
        return [fromHeads(dQ), fromHeads(dK), fromHeads(dV)];
      },
    };
  });
  return f(q, k, v);
}

/** Additive attention mask [B,1,T,T]: causal, plus padded keys hidden when `keyMask` [B,T] is given. */
export function attentionMaskAdd(batch: number, seqLen: number, keyMask?: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const causal = tf.linalg.bandPart(tf.ones([seqLen, seqLen]), -1, 0); // lower triangle = 1
    let visible: tf.Tensor = tf.reshape(causal, [1, 1, seqLen, seqLen]);
    if (keyMask) visible = tf.mul(visible, tf.reshape(tf.cast(keyMask, 'float32'), [batch, 1, 1, seqLen]));
    else visible = tf.tile(visible, [batch, 1, 1, 1]);
    return tf.mul(tf.sub(1, visible), -1e9) as tf.Tensor4D;
  });
}

// The Llama family's own building blocks: RMSNorm, SwiGLU, rotary embeddings and the key/value
// head repeat of grouped-query attention, as tfjs ops with closed-form gradients (customGrad from
// fast-ops.ts keeps only what each backward needs alive). Each is checked against autodiff of the
// plain formula in tests/main/engine/llama-ops.test.ts.
import * as tf from '@tensorflow/tfjs';
import { columnSum, customGrad } from '../kernels/fast-ops.js';

/** RMSNorm over the last axis of x [n,C]: x · rsqrt(mean(x²) + eps) · g (transformers' LlamaRMSNorm). */
export function rmsNorm(x: tf.Tensor2D, gain: tf.Tensor1D, eps: number): tf.Tensor2D {
  const f = customGrad<(xi: tf.Tensor2D, g: tf.Tensor1D) => tf.Tensor2D>((xi: tf.Tensor, g: tf.Tensor, save: tf.GradSaveFunc) => {
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xi), -1, true), eps));
    const xhat = tf.mul(xi, rstd);
    save([xhat, rstd, g]);
    return {
      value: tf.mul(xhat, g),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sxhat, srstd, sg] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dxhat = tf.mul(dy, sg);
        const dx = tf.mul(srstd, tf.sub(dxhat, tf.mul(sxhat, tf.mean(tf.mul(dxhat, sxhat), -1, true))));
        return [dx, columnSum(tf.mul(dy, sxhat) as tf.Tensor2D)];
      },
    };
  });
  return f(x, gain);
}

/** SwiGLU's gating: silu(gate) · up, both [n,I]. */
export const swiglu = customGrad<(gate: tf.Tensor2D, up: tf.Tensor2D) => tf.Tensor2D>((gate: tf.Tensor, up: tf.Tensor, save: tf.GradSaveFunc) => {
  const s = tf.sigmoid(gate);
  const silu = tf.mul(gate, s);
  save([gate, up, s, silu]);
  return {
    value: tf.mul(silu, up),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sg, su, ss, ssilu] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      // d silu/dg = σ(g)·(1 + g·(1 − σ(g)))
      const dsilu = tf.mul(ss, tf.add(1, tf.mul(sg, tf.sub(1, ss))));
      return [tf.mul(tf.mul(dy, su), dsilu), tf.mul(dy, ssilu)];
    },
  };
});

/** transformers' rotate_half on the last axis: [x1, x2] → [−x2, x1]. */
function rotateHalf(x: tf.Tensor3D): tf.Tensor3D {
  const half = x.shape[2] / 2;
  const [x1, x2] = tf.split(x, [half, half], 2);
  return tf.concat([tf.neg(x2!), x1!], 2) as tf.Tensor3D;
}

/** The transpose of rotateHalf (its gradient): [y1, y2] → [y2, −y1]. */
function rotateHalfT(y: tf.Tensor3D): tf.Tensor3D {
  const half = y.shape[2] / 2;
  const [y1, y2] = tf.split(y, [half, half], 2);
  return tf.concat([y2!, tf.neg(y1!)], 2) as tf.Tensor3D;
}

/**
 * Rotary position embedding of x [n, heads·hd] with cos, sin [n, 1, hd] per row (one position per
 * row): x·cos + rotate_half(x)·sin per head, transformers' apply_rotary_pos_emb.
 */
export function rope(x: tf.Tensor2D, cos: tf.Tensor3D, sin: tf.Tensor3D, heads: number): tf.Tensor2D {
  const [n, width] = x.shape;
  const hd = width / heads;
  const f = customGrad<(xi: tf.Tensor2D) => tf.Tensor2D>((xi: tf.Tensor, save: tf.GradSaveFunc) => {
    const x3 = tf.reshape(xi, [n, heads, hd]) as tf.Tensor3D;
    save([cos, sin]);
    return {
      value: tf.reshape(tf.add(tf.mul(x3, cos), tf.mul(rotateHalf(x3), sin)), [n, width]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sc, ss] = saved as [tf.Tensor3D, tf.Tensor3D];
        const d3 = tf.reshape(dy, [n, heads, hd]) as tf.Tensor3D;
        return [tf.reshape(tf.add(tf.mul(d3, sc), rotateHalfT(tf.mul(d3, ss) as tf.Tensor3D)), [n, width])];
      },
    };
  });
  return f(x);
}

/**
 * Grouped-query attention's key/value heads repeated for the query heads that share them:
 * x [n, kvHeads·hd] → [n, kvHeads·groups·hd], head h reading kv head ⌊h / groups⌋ (repeat_kv).
 */
export function repeatKvHeads(x: tf.Tensor2D, kvHeads: number, groups: number): tf.Tensor2D {
  if (groups === 1) return x;
  const [n, width] = x.shape;
  const hd = width / kvHeads;
  return tf.reshape(tf.tile(tf.reshape(x, [n, kvHeads, 1, hd]), [1, 1, groups, 1]), [n, width * groups]);
}

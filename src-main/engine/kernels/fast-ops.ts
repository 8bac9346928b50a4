// The model's building blocks as tfjs ops with hand-written gradients (tf.customGrad), so that
// neither the forward nor the backward pass hits tfjs-wasm's slow paths (docs/performance.md):
// transposed matMul variants (8–16× slower than transposing first), batched matMul (~3× slower
// than a loop of 2-D matMuls for attention-sized matrices), and the gather gradient (no kernel on
// wasm). Every gradient here is checked against autodiff of the plain formula in the tests.
import * as tf from '@tensorflow/tfjs';
import { attentionBackward, attentionForward, attentionInference, attentionKernelAvailable } from './attention-kernel.js';
import { geluBackward, geluForward, layerNormBackward, layerNormForward, layerOpsAvailable, targetLogprobsBackward, targetLogprobsForward } from './layer-ops-kernel.js';
import { wasmColumnSum } from './wasm-kernels.js';

type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
type Forward = (...args: never[]) => { value: tf.Tensor; gradFunc: GradFunc };

/**
 * tf.customGrad typed by the caller as `Op` (tfjs types the inputs as one variadic union), with
 * forward and backward each in their own tidy: tfjs would otherwise keep every intermediate of
 * every op alive until the whole training step ends (measured: 2.4 GB at the small bench size).
 * Only the value and the tensors passed to save() survive the forward.
 */
export function customGrad<Op>(f: Forward): Op {
  const wrapped = (...args: unknown[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    let gradFunc: GradFunc | undefined;
    const [value, ...kept] = tf.tidy(() => {
      let toSave: tf.Tensor[] = [];
      const res = f(...(args as never[]), ((ts: tf.Tensor[]) => (toSave = ts)) as never);
      gradFunc = res.gradFunc;
      return [res.value, ...toSave];
    });
    save(kept);
    return { value: value!, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => gradFunc!(dy, saved)) };
  };
  return tf.customGrad(wrapped as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as Op;
}

/**
 * n independent matMuls, stacked along the rows: a is [n·r, k] (block i = rows i·r…), b is
 * [n·k, c]; returns [n·r, c]. On wasm a loop of 2-D matMuls over contiguous row slices is 3–7×
 * faster than one batched matMul (measured, docs/performance.md); native backends
 * get the batched kernel. Neither operand is transposed.
 */
export function blockMatMul(a: tf.Tensor2D, b: tf.Tensor2D, n: number): tf.Tensor2D {
  const r = a.shape[0] / n;
  const k = a.shape[1];
  const c = b.shape[1];
  if (!useLoopedMatMul()) return tf.reshape(tf.matMul(tf.reshape(a, [n, r, k]), tf.reshape(b, [n, k, c])), [n * r, c]);
  const parts: tf.Tensor2D[] = [];
  for (let i = 0; i < n; i++) parts.push(tf.matMul(tf.slice(a, [i * r, 0], [r, k]), tf.slice(b, [i * k, 0], [k, c])));
  return tf.concat(parts, 0);
}

/** webgpu's matMul reads either operand transposed in the same dispatch: no separate transpose pass. */
function gpuMatMul(): boolean {
  return tf.getBackend() === 'webgpu';
}

function useLoopedMatMul(): boolean {
  // The GPU backends run one batched matMul as one dispatch: a loop would be n dispatches.
  return tf.getBackend() !== 'tensorflow' && tf.getBackend() !== 'webgpu';
}

/**
 * Column sums of x [n,c]. On wasm a reduction over axis 0 transposes its input first; a JS
 * kernel (wasm-kernels.ts) is 1.5–2.5× faster than the GEMV ones[1,n]·x used elsewhere.
 */
export function columnSum(x: tf.Tensor2D): tf.Tensor1D {
  return wasmColumnSum(x) ?? (tf.reshape(tf.matMul(tf.ones([1, x.shape[0]]), x), [x.shape[1]]) as tf.Tensor1D);
}

/**
 * dy·wᵀ for dy [n,out], w [in,out]. Transposing w costs in·out element moves; for small n (PPO
 * minibatches) (w·dyᵀ)ᵀ moves fewer: n·out + n·in.
 */
function inputGrad(dy: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  if (gpuMatMul()) return tf.matMul(dy, w, false, true);
  const [n, out] = dy.shape;
  const inDim = w.shape[0];
  if (n * (out + inDim) < inDim * out) return tf.transpose(tf.matMul(w, tf.transpose(dy))) as tf.Tensor2D;
  return tf.matMul(dy, tf.transpose(w));
}

/** xᵀ·dy for x [n,in], dy [n,out], transposing whichever activation is smaller. */
function weightGrad(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  if (gpuMatMul()) return tf.matMul(x, dy, true, false);
  if (x.shape[1] <= dy.shape[1]) return tf.matMul(tf.transpose(x), dy);
  return tf.transpose(tf.matMul(tf.transpose(dy), x)) as tf.Tensor2D;
}

/** y = x·w + b for x [n,in], w [in,out] (HF Conv1D layout). Backward uses explicit transposes. */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor2D {
  if (b) return linearBias(x, w, b);
  return linearNoBias(x, w);
}

/** The variables the current trainedGrads call differentiates; null outside one (every gradient computed). */
let gradTargets: Set<tf.Tensor> | null = null;

/**
 * tf.variableGrads(f, vars), with the ops below told which variables train: a weight that is a
 * variable outside `vars` (a LoRA model's frozen base, a frozen backbone) gets no gradient. tfjs's
 * tape only reads the gradients of inputs on a path to `vars`, so theirs were computed and dropped:
 * xᵀ·dy of every frozen matrix and the V×C product of the output layer, as costly as the forward
 * pass, and the inputs kept alive only for them.
 */
export function trainedGrads(f: () => tf.Scalar, vars: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const outer = gradTargets;
  gradTargets = new Set(vars);
  try {
    return tf.variableGrads(f, vars);
  } finally {
    gradTargets = outer;
  }
}

/** True for a weight no gradient is asked of (see trainedGrads). */
export function isFrozen(t: tf.Tensor): boolean {
  return gradTargets !== null && t instanceof tf.Variable && !gradTargets.has(t);
}

/** Stands in for a frozen weight's gradient (never read, see isFrozen): no memory, no work. */
function unused(): tf.Tensor {
  return tf.zeros([0]);
}

const linearBias = customGrad<(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D>((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  const frozen = isFrozen(w) && isFrozen(b);
  save(frozen ? [w] : [x, w]);
  return {
    // matMul + add beats tf.fused.matMul with a bias on wasm (measured ~1.5×); on webgpu the fused one is one dispatch.
    value: gpuMatMul() ? tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b }) : tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      if (frozen) return [inputGrad(dy as tf.Tensor2D, saved[0] as tf.Tensor2D), unused(), unused()];
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [inputGrad(dy as tf.Tensor2D, sw), weightGrad(sx, dy as tf.Tensor2D), columnSum(dy as tf.Tensor2D)];
    },
  };
});

const linearNoBias = customGrad<(x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D>((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  const frozen = isFrozen(w);
  save(frozen ? [w] : [x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      if (frozen) return [inputGrad(dy as tf.Tensor2D, saved[0] as tf.Tensor2D), unused()];
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [inputGrad(dy as tf.Tensor2D, sw), weightGrad(sx, dy as tf.Tensor2D)];
    },
  };
});

/**
 * Logits h·Eᵀ of the tied output layer for h [n,C], E = wte [V,C]. Backward needs no transpose
 * of E (dh = dy·E); dE = dyᵀ·h is formed by transposing whichever of dy or h·… moves fewer elements.
 */
export const tiedLogits = customGrad<(h: tf.Tensor2D, wte: tf.Tensor2D) => tf.Tensor2D>((h: tf.Tensor, wte: tf.Tensor, save: tf.GradSaveFunc) => {
  const frozen = isFrozen(wte);
  save([h, wte]);
  return {
    value: gpuMatMul() ? tf.matMul(h as tf.Tensor2D, wte as tf.Tensor2D, false, true) : tf.matMul(h as tf.Tensor2D, tf.transpose(wte) as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sh, se] = saved as [tf.Tensor2D, tf.Tensor2D];
      if (frozen) return [tf.matMul(dy as tf.Tensor2D, se), unused()];
      if (gpuMatMul()) return [tf.matMul(dy as tf.Tensor2D, se), tf.matMul(dy as tf.Tensor2D, sh, true, false)];
      const [n, V] = (dy as tf.Tensor2D).shape;
      const C = sh.shape[1];
      const dE = n * V <= n * C + V * C ? tf.matMul(tf.transpose(dy) as tf.Tensor2D, sh) : (tf.transpose(tf.matMul(tf.transpose(sh) as tf.Tensor2D, dy as tf.Tensor2D)) as tf.Tensor2D);
      return [tf.matMul(dy as tf.Tensor2D, se), dE];
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

/** LayerNorm over the last axis of x [n,C]: on wasm one SIMD kernel each way (layer-ops-kernel.ts), elsewhere tf ops. */
export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  if (!layerOpsAvailable()) return tfOpsLayerNorm(x, gamma, beta, eps);
  const f = customGrad<(xi: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor2D>((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, xhat, rstd] = layerNormForward(xi as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, eps);
    save([xhat, rstd, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sxhat, srstd, sg] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
        return layerNormBackward(dy as tf.Tensor2D, sxhat, srstd, sg);
      },
    };
  });
  return f(x, gamma, beta);
}

/** layerNorm from tf ops with one fused backward (native backends; the reference the kernels are tested against). */
export function tfOpsLayerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
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
        return [dx, columnSum(tf.mul(dy, sxhat) as tf.Tensor2D), columnSum(dy as tf.Tensor2D)];
      },
    };
  });
  return f(x, gamma, beta);
}

const GELU_C = Math.sqrt(2 / Math.PI);

/**
 * GPT-2's `gelu_new`, 0.5·x·(1 + tanh(u)) with u = √(2/π)·(x + 0.044715·x³), computed as the
 * identical x·σ(2u). On wasm one SIMD kernel each way; the backward recomputes σ from x, so only
 * x is kept for it.
 */
export function gelu(x: tf.Tensor2D): tf.Tensor2D {
  return layerOpsAvailable() ? kernelGelu(x) : tfOpsGelu(x);
}

const kernelGelu = customGrad<(x: tf.Tensor2D) => tf.Tensor2D>((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: geluForward(x),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [geluBackward(saved[0]!, dy)],
  };
});

/**
 * gelu from tf ops (native backends; the kernels' reference), as x·σ(2u) because wasm's sigmoid is
 * ~8× faster than its tanh. Closed-form gradient: σ(2u) + x·σ(2u)(1−σ(2u))·2u'.
 */
export const tfOpsGelu = customGrad<(x: tf.Tensor2D) => tf.Tensor2D>((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const x2 = tf.square(x);
  const s = tf.sigmoid(tf.mul(x, tf.add(tf.mul(x2, 2 * GELU_C * 0.044715), 2 * GELU_C)));
  save([x, x2, s]);
  return {
    value: tf.mul(x, s),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sx2, ss] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const du2 = tf.add(tf.mul(sx2, 2 * GELU_C * 3 * 0.044715), 2 * GELU_C); // d(2u)/dx
      const d = tf.add(ss, tf.mul(tf.mul(sx, tf.mul(ss, tf.sub(1, ss))), du2));
      return [tf.mul(dy, d)];
    },
  };
});

/**
 * log softmax(logits)[target] per row, logits [n,V], targets int32 [n]. Backward:
 * dy·(onehot − softmax), avoiding the gather gradient and a [n,V] log-softmax tape. On wasm one
 * SIMD kernel each way: the backward writes its [n,V] result directly instead of materialising
 * softmax, one-hot and their difference.
 */
export function targetLogprobs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  if (targets.dtype !== 'int32' || !layerOpsAvailable()) return tfOpsTargetLogprobs(logits, targets);
  const f = customGrad<(l: tf.Tensor2D) => tf.Tensor1D>((l: tf.Tensor, save: tf.GradSaveFunc) => {
    const [out, lse] = targetLogprobsForward(l as tf.Tensor2D, targets);
    save([l, lse, targets]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sl, slse, st] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
        return [targetLogprobsBackward(sl, st, slse, dy as tf.Tensor1D)];
      },
    };
  });
  return f(logits);
}

/** targetLogprobs from tf ops (native backends; the kernels' reference). */
export function tfOpsTargetLogprobs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
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
 * Causal multi-head self-attention core. `qkv`: [B·T, 3C], GPT-2's c_attn output (q, k, v side by
 * side, heads side by side within each); `maskAdd`: additive mask [B or 1, 1, T, T] (0 visible,
 * −1e9 hidden). Returns [B·T, C]. On wasm two SIMD kernels do it; elsewhere tf ops. Outputs of
 * query rows that see no key at all (left padding) differ between the two and are never used.
 * `keepProbs` (kernels only) overrides whether the backward pass reuses the forward's softmax
 * probabilities or recomputes them (default: by size, KEEP_PROBS_MAX).
 */
export function causalAttention(qkv: tf.Tensor2D, batch: number, seqLen: number, nHead: number, maskAdd: tf.Tensor4D, keepProbs?: boolean): tf.Tensor2D {
  if (attentionKernelAvailable()) return kernelAttention(qkv, batch, seqLen, nHead, maskAdd, keepProbs);
  return tfOpsAttention(qkv, batch, seqLen, nHead, maskAdd);
}

/**
 * causalAttention from tf ops (native backends; the reference the wasm kernels are tested
 * against). Heads are laid out as row blocks of 2-D tensors ([B·H·T, hd]) so every matMul, forward
 * and backward, is an untransposed 2-D one on contiguous rows, and the gradient w.r.t. qkv is one
 * concat instead of three padded slice gradients.
 */
export function tfOpsAttention(qkv: tf.Tensor2D, batch: number, seqLen: number, nHead: number, maskAdd: tf.Tensor4D): tf.Tensor2D {
  const C = qkv.shape[1] / 3;
  const hd = C / nHead;
  const bh = batch * nHead;
  const T = seqLen;
  const scale = 1 / Math.sqrt(hd);
  // [B·T, C] → [B·H·T, hd]
  const toHeads = (x: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(x, [batch, T, nHead, hd]), [0, 2, 1, 3]), [bh * T, hd]) as tf.Tensor2D;
  // [B·H·T, hd] → [B·T, C]
  const fromHeads = (x: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(x, [batch, nHead, T, hd]), [0, 2, 1, 3]), [batch * T, C]) as tf.Tensor2D;
  // Per block: [r, c] → [c, r], for a [n·r, c] stack of n blocks.
  const blockT = (x: tf.Tensor2D, r: number) => {
    const c = x.shape[1];
    return tf.reshape(tf.transpose(tf.reshape(x, [bh, r, c]), [0, 2, 1]), [bh * c, r]) as tf.Tensor2D;
  };

  const f = customGrad<(x: tf.Tensor2D) => tf.Tensor2D>((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const qh = toHeads(tf.slice(x, [0, 0], [-1, C]));
    const kh = toHeads(tf.slice(x, [0, C], [-1, C]));
    const vh = toHeads(tf.slice(x, [0, 2 * C], [-1, C]));
    const scores = tf.mul(blockMatMul(qh, blockT(kh, T), bh), scale);
    const p = tf.reshape(tf.softmax(tf.add(tf.reshape(scores, [batch, nHead, T, T]), maskAdd)), [bh * T, T]) as tf.Tensor2D;
    save([qh, kh, vh, p]);
    return {
      value: fromHeads(blockMatMul(p, vh, bh)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk, sv, sp] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const dO = toHeads(dy);
        const dV = blockMatMul(blockT(sp, T), dO, bh);
        const dP = blockMatMul(dO, blockT(sv, T), bh);
        const dS = tf.mul(tf.mul(sp, tf.sub(dP, tf.sum(tf.mul(dP, sp), -1, true))), scale) as tf.Tensor2D;
        const dQ = blockMatMul(dS, sk, bh);
        const dK = blockMatMul(blockT(dS, T), sq, bh);
        return [tf.concat([fromHeads(dQ), fromHeads(dK), fromHeads(dV)], 1)];
      },
    };
  });
  return f(qkv);
}

/**
 * Above this many softmax probabilities per layer (B·H·T², 4 bytes each) the backward pass
 * recomputes them instead of keeping them from the forward: every layer's would stay alive until
 * the backward pass (GPT-2 small at batch 8, ctx 512: 100 MB a layer, 1.2 GB in all, on a wasm
 * heap limited to 4 GB). Recomputing costs ~15% more attention time (measured at the small size).
 */
const KEEP_PROBS_MAX = 1 << 23;

/**
 * causalAttention as two wasm SIMD kernels (attention-kernel.ts): one call for all heads and batch
 * rows each way, only the lower triangle computed, the gradient written in qkv's layout.
 */
function kernelAttention(qkv: tf.Tensor2D, batch: number, seqLen: number, nHead: number, maskAdd: tf.Tensor4D, keepProbs = batch * nHead * seqLen * seqLen <= KEEP_PROBS_MAX): tf.Tensor2D {
  // No gradient is being recorded (scoring, rollouts): skip keeping the [B·H·T, T] probabilities.
  if (!tf.engine().isTapeOn()) return attentionInference(qkv, maskAdd, batch, seqLen, nHead);
  const f = customGrad<(x: tf.Tensor2D) => tf.Tensor2D>((x: tf.Tensor, save: tf.GradSaveFunc) => {
    let out: tf.Tensor2D;
    if (keepProbs) {
      const [o, probs] = attentionForward(x as tf.Tensor2D, maskAdd, batch, seqLen, nHead);
      out = o;
      save([x, probs]);
    } else {
      out = attentionInference(x as tf.Tensor2D, maskAdd, batch, seqLen, nHead);
      save([x, maskAdd]);
    }
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, s] = saved as [tf.Tensor2D, tf.Tensor];
        return [attentionBackward(dy as tf.Tensor2D, sx, keepProbs ? { probs: s } : { mask: s }, batch, seqLen, nHead)];
      },
    };
  });
  return f(qkv);
}

/** Additive attention mask [B,1,T,T] ([1,1,T,T] without keyMask): causal, plus padded keys hidden when `keyMask` [B,T] is given. */
export function attentionMaskAdd(batch: number, seqLen: number, keyMask?: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const causal = tf.linalg.bandPart(tf.ones([seqLen, seqLen]), -1, 0); // lower triangle = 1
    let visible: tf.Tensor = tf.reshape(causal, [1, 1, seqLen, seqLen]);
    // Without padding the [1,1,T,T] mask broadcasts over the batch.
    if (keyMask) visible = tf.mul(visible, tf.reshape(tf.cast(keyMask, 'float32'), [batch, 1, 1, seqLen]));
    return tf.mul(tf.sub(1, visible), -1e9) as tf.Tensor4D;
  });
}

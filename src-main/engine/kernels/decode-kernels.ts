// Fused kernels for the KV-cache decode step on the wasm backend. Generating one token runs
// LayerNorm, GELU and attention on a handful of rows, where tfjs's cost is per-kernel overhead
// (~10–20 µs each), not arithmetic: LayerNorm is 8 tfjs kernels, GELU 5, one-query attention ~10.
// Each becomes one kernel here, a plain JS loop over views of the wasm heap. Hand-written because
// tfjs has no fused LayerNorm/GELU/attention kernels; other backends use the tf-op versions.
import * as tf from '@tensorflow/tfjs';
import type { HeapTensor } from './wasm-heap.js';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): HeapTensor;
  typedArrayFromHeap(t: HeapTensor): Float32Array;
}

type Args = { inputs: Record<string, HeapTensor>; attrs: Record<string, number>; backend: WasmBackendLike };

const LAYER_NORM = 'RlhfLayerNormRows';
const GELU = 'RlhfGeluNew';
const ATTEND_ONE = 'RlhfAttendOneQuery';

/** Allocates the output first (heap growth detaches views), then hands views to `fill`. */
function withOutput(backend: WasmBackendLike, shape: number[], inputs: HeapTensor[], fill: (out: Float32Array, ins: Float32Array[]) => void): HeapTensor {
  const out = backend.makeOutput(shape, 'float32');
  fill(
    backend.typedArrayFromHeap(out),
    inputs.map((t) => backend.typedArrayFromHeap(t)),
  );
  return out;
}

function layerNormRows({ inputs, attrs, backend }: Args): HeapTensor {
  const { x, gamma, beta } = inputs as { x: HeapTensor; gamma: HeapTensor; beta: HeapTensor };
  const C = x.shape[x.shape.length - 1]!;
  return withOutput(backend, x.shape, [x, gamma, beta], (out, [X, G, Bt]) => {
    const rows = X!.length / C;
    for (let r = 0; r < rows; r++) {
      const o = r * C;
      let mean = 0;
      for (let j = 0; j < C; j++) mean += X![o + j]!;
      mean /= C;
      let v = 0;
      for (let j = 0; j < C; j++) {
        const d = X![o + j]! - mean;
        v += d * d;
      }
      const rstd = 1 / Math.sqrt(v / C + attrs.eps!);
      for (let j = 0; j < C; j++) out[o + j] = (X![o + j]! - mean) * rstd * G![j]! + Bt![j]!;
    }
  });
}

const GELU_2C = 2 * Math.sqrt(2 / Math.PI);

function geluNew({ inputs, backend }: Args): HeapTensor {
  const x = inputs.x!;
  return withOutput(backend, x.shape, [x], (out, [X]) => {
    for (let i = 0; i < X!.length; i++) {
      const v = X![i]!;
      // x·σ(2u), u = √(2/π)(x + 0.044715x³): GPT-2's gelu_new
      out[i] = v / (1 + Math.exp(-GELU_2C * (v + 0.044715 * v * v * v)));
    }
  });
}

/**
 * One query per (row, head) against T cached keys: q [B·H, hd], k and v [B·H, T, hd], maskAdd
 * [B, T] (0 or −1e9). Output [B·H, hd] (= [B, C], heads side by side).
 */
function attendOne({ inputs, attrs, backend }: Args): HeapTensor {
  const { q, k, v, mask } = inputs as { q: HeapTensor; k: HeapTensor; v: HeapTensor; mask: HeapTensor };
  const [BH, T, hd] = k.shape as [number, number, number];
  const H = attrs.heads!;
  const scale = attrs.scale!;
  return withOutput(backend, [BH, hd], [q, k, v, mask], (out, [Q, K, V, M]) => {
    const p = new Float64Array(T);
    for (let bh = 0; bh < BH; bh++) {
      const b = Math.floor(bh / H);
      const qo = bh * hd;
      const ko = bh * T * hd;
      let max = -Infinity;
      for (let t = 0; t < T; t++) {
        let s = 0;
        const kt = ko + t * hd;
        for (let d = 0; d < hd; d++) s += Q![qo + d]! * K![kt + d]!;
        s = s * scale + M![b * T + t]!;
        p[t] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let t = 0; t < T; t++) {
        p[t] = Math.exp(p[t]! - max);
        sum += p[t]!;
      }
      for (let d = 0; d < hd; d++) out[qo + d] = 0;
      for (let t = 0; t < T; t++) {
        const w = p[t]! / sum;
        const vt = ko + t * hd;
        for (let d = 0; d < hd; d++) out[qo + d]! += w * V![vt + d]!;
      }
    }
  });
}

let registered = false;

/** True when the fused decode kernels serve the current backend (registering on first use). */
export function decodeKernelsAvailable(): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  if (!registered) {
    for (const [kernelName, fn] of [
      [LAYER_NORM, layerNormRows],
      [GELU, geluNew],
      [ATTEND_ONE, attendOne],
    ] as const) {
      tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: fn as unknown as tf.KernelFunc });
    }
    registered = true;
  }
  return true;
}

export function fusedLayerNorm(x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor2D {
  return tf.engine().runKernel(LAYER_NORM, { x, gamma, beta }, { eps }) as tf.Tensor2D;
}

export function fusedGelu(x: tf.Tensor2D): tf.Tensor2D {
  return tf.engine().runKernel(GELU, { x }, {}) as tf.Tensor2D;
}

/** q [B·H,1,hd], k/v [B·H,T,hd], maskAdd [B,T] → [B, H·hd]. */
export function fusedAttendOne(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, maskAdd: tf.Tensor2D, heads: number, scale: number): tf.Tensor2D {
  const out = tf.engine().runKernel(ATTEND_ONE, { q, k, v, mask: maskAdd }, { heads, scale }) as tf.Tensor2D;
  const [BH, hd] = out.shape;
  return tf.reshape(out, [BH / heads, heads * hd]);
}

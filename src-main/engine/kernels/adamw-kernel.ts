// AdamW's per-parameter update and the global gradient norm as two custom kernels for the wasm
// backend: one pass over each parameter instead of ~12 tfjs kernels (and as many passes over
// memory) per parameter. The pass is wasm SIMD (kernels/adamw.c, run in place on tfjs's heap:
// AdamW.applyGradients over the small bench size's 13.9M parameters takes 19 ms CPU instead of
// 90 ms with the same loops in JS); where that module cannot bind to the heap (tfjs's threaded
// build shares it), the JS loops on views of the heap. Hand-written because tfjs has no fused
// AdamW; other backends keep the tf-op version in optim.ts, which computes the same update.
import * as tf from '@tensorflow/tfjs';
import { heapModule, type HeapTensor } from './wasm-heap.js';
import { webgpuKernelsAvailable } from './webgpu/kernels.js';

export const ADAMW_KERNEL = 'RlhfAdamWUpdate';
export const SUM_SQUARES_KERNEL = 'RlhfSumOfSquares';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): HeapTensor;
  typedArrayFromHeap(t: HeapTensor): Float32Array;
  getMemoryOffset(dataId: object): number;
  wasm: { asm?: { memory?: WebAssembly.Memory } };
}

interface AdamWExports {
  adamw_update(p: number, g: number, m: number, v: number, p2: number, m2: number, v2: number, n: number, stepSize: number, beta1: number, beta2: number, invBias2: number, eps: number, decay: number, gradScale: number): void;
  sum_of_squares(x: number, n: number): number;
}

/** The SIMD module bound to the backend's heap, or null where it cannot be (shared memory, no SIMD): the JS loops below. */
const simd = heapModule<AdamWExports>('adamw');

export interface AdamWAttrs {
  /** lr / (1 − β1^t) */
  stepSize: number;
  beta1: number;
  beta2: number;
  /** 1 / (1 − β2^t) */
  invBias2: number;
  eps: number;
  /** 1 − lr·weight_decay, or 1 without decay */
  decayFactor: number;
  /** gradient-clipping scale */
  gradScale: number;
  [key: string]: number;
}

function adamW(args: { inputs: Record<string, HeapTensor>; attrs: AdamWAttrs; backend: WasmBackendLike }): HeapTensor[] {
  const { inputs, attrs: a, backend } = args;
  const { p, g, m, v } = inputs as { p: HeapTensor; g: HeapTensor; m: HeapTensor; v: HeapTensor };
  const outs = [backend.makeOutput(p.shape, 'float32'), backend.makeOutput(p.shape, 'float32'), backend.makeOutput(p.shape, 'float32')];
  const { stepSize, beta1, beta2, invBias2, eps, decayFactor, gradScale } = a;
  const wasm = simd(backend);
  if (wasm) {
    const at = (t: HeapTensor) => backend.getMemoryOffset(t.dataId);
    const n = p.shape.reduce((x, y) => x * y, 1);
    wasm.adamw_update(at(p), at(g), at(m), at(v), at(outs[0]!), at(outs[1]!), at(outs[2]!), n, stepSize, beta1, beta2, invBias2, eps, decayFactor, gradScale);
    return outs;
  }
  // Views only after every allocation: growing the heap detaches earlier views.
  const [P, G, M, V] = [p, g, m, v].map((t) => backend.typedArrayFromHeap(t)) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const [P2, M2, V2] = outs.map((t) => backend.typedArrayFromHeap(t)) as [Float32Array, Float32Array, Float32Array];
  const c1 = 1 - beta1;
  const c2 = 1 - beta2;
  for (let i = 0; i < P.length; i++) {
    const gi = G[i]! * gradScale;
    const mi = beta1 * M[i]! + c1 * gi;
    const vi = beta2 * V[i]! + c2 * gi * gi;
    M2[i] = mi;
    V2[i] = vi;
    P2[i] = P[i]! * decayFactor - (stepSize * mi) / (Math.sqrt(vi * invBias2) + eps);
  }
  return outs;
}

function sumOfSquares(args: { inputs: Record<string, HeapTensor>; backend: WasmBackendLike }): HeapTensor {
  const { inputs, backend } = args;
  const out = backend.makeOutput([], 'float32');
  const wasm = simd(backend);
  let total = 0;
  for (const t of Object.values(inputs)) {
    if (wasm) {
      total += wasm.sum_of_squares(backend.getMemoryOffset(t.dataId), t.shape.reduce((x, y) => x * y, 1));
      continue;
    }
    const x = backend.typedArrayFromHeap(t);
    for (let i = 0; i < x.length; i++) total += x[i]! * x[i]!;
  }
  backend.typedArrayFromHeap(out)[0] = total;
  return out;
}

let registered = false;

/** True when the fused kernels serve the current backend (registering them on first use). */
export function fusedAdamWAvailable(): boolean {
  if (tf.getBackend() === 'webgpu') return webgpuKernelsAvailable();
  if (tf.getBackend() !== 'wasm') return false;
  if (!registered) {
    tf.registerKernel({ kernelName: ADAMW_KERNEL, backendName: 'wasm', kernelFunc: adamW as unknown as tf.KernelFunc });
    tf.registerKernel({ kernelName: SUM_SQUARES_KERNEL, backendName: 'wasm', kernelFunc: sumOfSquares as unknown as tf.KernelFunc });
    registered = true;
  }
  return true;
}

/** True when the kernels run as wasm SIMD on the backend's heap (else as JS loops on it). */
export function fusedAdamWIsSimd(): boolean {
  return tf.getBackend() === 'wasm' && fusedAdamWAvailable() && simd(tf.backend() as unknown as WasmBackendLike) !== null;
}

/** New [p, m, v] after one AdamW step (float32 storage; float32 arithmetic in SIMD, float64 in JS). */
export function fusedAdamWStep(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, attrs: AdamWAttrs): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel(ADAMW_KERNEL, { p, g, m, v }, attrs) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
}

/** Σ x² over all given tensors, as a scalar. */
export function fusedSumOfSquares(tensors: tf.Tensor[]): tf.Scalar {
  return tf.engine().runKernel(SUM_SQUARES_KERNEL, Object.fromEntries(tensors.map((t, i) => [`x${i}`, t]))) as unknown as tf.Scalar;
}

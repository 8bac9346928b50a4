// The generation step's attention (one new query per sequence over its KV cache) on the tfjs wasm
// backend as one tfjs kernel, calling kernels/attend-one.c. Unlike the training kernels
// (attention-kernel.ts) this module imports tfjs-wasm's own memory and reads the cache in place:
// the cache is the whole input, and copying it every token would cost more than the arithmetic.
// Where that memory cannot be imported (tfjs's threaded build shares it), the caller keeps tf ops.
import * as tf from '@tensorflow/tfjs';
import { heapModule, type HeapTensor } from './wasm-heap.js';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): HeapTensor;
  getMemoryOffset(dataId: object): number;
  wasm: { asm?: { memory?: WebAssembly.Memory }; _malloc(bytes: number): number; _free(ptr: number): void };
}

interface AttendOneExports {
  attend_one(q: number, k: number, v: number, mask: number, out: number, scores: number, B: number, H: number, total: number, hd: number): void;
}

const KERNEL = 'RlhfAttendOneCached';

// A shared (threaded) memory or a runtime without wasm SIMD: not usable here.
const instanceFor = heapModule<AttendOneExports>('attend-one');

function attendOneKernel({ inputs, attrs, backend }: { inputs: Record<'q' | 'k' | 'v' | 'mask', HeapTensor>; attrs: { heads: number }; backend: WasmBackendLike }): HeapTensor {
  const { q, k, v, mask } = inputs;
  const [BH, total, hd] = k.shape as [number, number, number];
  const H = attrs.heads;
  const B = BH / H;
  const out = backend.makeOutput([B, H * hd], 'float32');
  const scores = backend.wasm._malloc((total + 4) * 4);
  const at = (t: HeapTensor) => backend.getMemoryOffset(t.dataId);
  try {
    instanceFor(backend)!.attend_one(at(q), at(k), at(v), at(mask), at(out), scores, B, H, total, hd);
  } finally {
    backend.wasm._free(scores);
  }
  return out;
}

/** True when the kernel can run: wasm backend whose heap this module can import, and hd % 4 == 0. */
export function attendOneAvailable(hd: number): boolean {
  if (hd % 4 !== 0 || tf.getBackend() !== 'wasm') return false;
  if (!instanceFor(tf.backend() as unknown as WasmBackendLike)) return false;
  if (!tf.getKernel(KERNEL, 'wasm')) tf.registerKernel({ kernelName: KERNEL, backendName: 'wasm', kernelFunc: attendOneKernel as unknown as tf.KernelFunc });
  return true;
}

/**
 * softmax(q·kᵀ/√hd + mask)·v for one query per (batch row, head): q [B·H, 1, hd], k and v
 * [B·H, total, hd], maskAdd [B, total] additive. Returns [B, H·hd] (heads side by side).
 */
export function attendOne(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, maskAdd: tf.Tensor2D, heads: number): tf.Tensor2D {
  return tf.engine().runKernel(KERNEL, { q, k, v, mask: maskAdd }, { heads }) as tf.Tensor2D;
}

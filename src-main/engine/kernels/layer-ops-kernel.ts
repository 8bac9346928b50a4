// LayerNorm, gelu_new and the target log-probabilities (softmax cross-entropy), forward and
// backward, as tfjs kernels on the wasm backend, each one call into kernels/layer-ops.c. Like
// adamw-kernel.ts the module imports tfjs-wasm's memory and works on the tensors in place (the
// inputs are whole activations: copying them into a separate memory would cost as much as the
// arithmetic). Outputs are always new tensors. Where that memory cannot be imported (tfjs's
// threaded build shares it) fast-ops.ts keeps its tf-op versions.
import * as tf from '@tensorflow/tfjs';
import { heapModule, type HeapTensor } from './wasm-heap.js';
import { webgpuKernelsAvailable } from './webgpu/kernels.js';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): HeapTensor;
  typedArrayFromHeap(t: HeapTensor): Float32Array | Int32Array;
  getMemoryOffset(dataId: object): number;
  wasm: { asm?: { memory?: WebAssembly.Memory } };
}

interface LayerOpsExports {
  layernorm_forward(x: number, g: number, b: number, y: number, xhat: number, rstd: number, n: number, C: number, eps: number): void;
  layernorm_backward(dy: number, xhat: number, rstd: number, g: number, dx: number, dg: number, db: number, n: number, C: number): void;
  gelu_forward(x: number, y: number, n: number): void;
  gelu_backward(x: number, dy: number, dx: number, n: number): void;
  target_logprobs_forward(l: number, t: number, out: number, lse: number, n: number, V: number): void;
  target_logprobs_backward(l: number, t: number, lse: number, dy: number, dl: number, n: number, V: number): void;
  transpose_last2(src: number, dst: number, batches: number, R: number, C: number): void;
  column_sum(x: number, out: number, n: number, c: number): void;
}

// A shared (threaded) memory or a runtime without wasm SIMD: the tf-op versions run.
const instanceFor = heapModule<LayerOpsExports>('layer-ops');

interface Args {
  inputs: Record<string, HeapTensor>;
  attrs: { eps?: number };
  backend: WasmBackendLike;
}

const size = (t: HeapTensor) => t.shape.reduce((a, b) => a * b, 1);

function call(backend: WasmBackendLike, run: (m: LayerOpsExports, at: (t: HeapTensor) => number) => void): void {
  run(instanceFor(backend)!, (t) => backend.getMemoryOffset(t.dataId));
}

const KERNELS: Record<string, (a: Args) => HeapTensor | HeapTensor[]> = {
  RlhfLayerNormTrain: ({ inputs: { x, g, b }, attrs, backend }) => {
    const [n, C] = x!.shape as [number, number];
    const outs = [backend.makeOutput([n, C], 'float32'), backend.makeOutput([n, C], 'float32'), backend.makeOutput([n], 'float32')] as const;
    call(backend, (m, at) => m.layernorm_forward(at(x!), at(g!), at(b!), at(outs[0]), at(outs[1]), at(outs[2]), n, C, attrs.eps!));
    return [...outs];
  },
  RlhfLayerNormGrad: ({ inputs: { dy, xhat, rstd, g }, backend }) => {
    const [n, C] = xhat!.shape as [number, number];
    const outs = [backend.makeOutput([n, C], 'float32'), backend.makeOutput([C], 'float32'), backend.makeOutput([C], 'float32')] as const;
    call(backend, (m, at) => m.layernorm_backward(at(dy!), at(xhat!), at(rstd!), at(g!), at(outs[0]), at(outs[1]), at(outs[2]), n, C));
    return [...outs];
  },
  RlhfGeluTrain: ({ inputs: { x }, backend }) => {
    const y = backend.makeOutput(x!.shape, 'float32');
    call(backend, (m, at) => m.gelu_forward(at(x!), at(y), size(x!)));
    return y;
  },
  RlhfGeluGrad: ({ inputs: { x, dy }, backend }) => {
    const dx = backend.makeOutput(x!.shape, 'float32');
    call(backend, (m, at) => m.gelu_backward(at(x!), at(dy!), at(dx), size(x!)));
    return dx;
  },
  RlhfTargetLogprobs: ({ inputs: { l, t }, backend }) => {
    const [n, V] = l!.shape as [number, number];
    // The C code indexes by the targets: check them here (the replacement gather throws likewise).
    const T = backend.typedArrayFromHeap(t!);
    for (let i = 0; i < n; i++) if (!(T[i]! >= 0 && T[i]! < V)) throw new Error(`targetLogprobs: target ${T[i]} not in [0, ${V - 1}]`);
    const outs = [backend.makeOutput([n], 'float32'), backend.makeOutput([n], 'float32')] as const;
    call(backend, (m, at) => m.target_logprobs_forward(at(l!), at(t!), at(outs[0]), at(outs[1]), n, V));
    return [...outs];
  },
  RlhfTargetLogprobsGrad: ({ inputs: { l, t, lse, dy }, backend }) => {
    const [n, V] = l!.shape as [number, number];
    const dl = backend.makeOutput([n, V], 'float32');
    call(backend, (m, at) => m.target_logprobs_backward(at(l!), at(t!), at(lse!), at(dy!), at(dl), n, V));
    return dl;
  },
};

/**
 * For wasm-kernels.ts' Transpose: `out` = `x` with the last two axes of its [batches, R, C] swapped
 * (4-byte elements). False where the module cannot bind (the caller's JS loop runs).
 */
export function heapTransposeLast2(backend: unknown, x: HeapTensor, out: HeapTensor, batches: number, R: number, C: number): boolean {
  const b = backend as WasmBackendLike;
  const m = instanceFor(b);
  if (!m) return false;
  m.transpose_last2(b.getMemoryOffset(x.dataId), b.getMemoryOffset(out.dataId), batches, R, C);
  return true;
}

/** For wasm-kernels.ts' column sums: `out` [c] = Σ over the rows of `x` [n, c]; false where the module cannot bind. */
export function heapColumnSum(backend: unknown, x: HeapTensor, out: HeapTensor, n: number, c: number): boolean {
  const b = backend as WasmBackendLike;
  const m = instanceFor(b);
  if (!m) return false;
  m.column_sum(b.getMemoryOffset(x.dataId), b.getMemoryOffset(out.dataId), n, c);
  return true;
}

/** True when the kernels can run: wasm backend whose heap this module can import, or webgpu (WGSL versions, webgpu/kernels.ts). */
export function layerOpsAvailable(): boolean {
  if (tf.getBackend() === 'webgpu') return webgpuKernelsAvailable();
  if (tf.getBackend() !== 'wasm') return false;
  if (!instanceFor(tf.backend() as unknown as WasmBackendLike)) return false;
  for (const [kernelName, f] of Object.entries(KERNELS))
    if (!tf.getKernel(kernelName, 'wasm')) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: f as unknown as tf.KernelFunc });
  return true;
}

const run = (name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}) => tf.engine().runKernel(name, inputs, attrs);

/** LayerNorm over rows of x [n, C]: [y, x̂, rstd [n]]. */
export function layerNormForward(x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D, eps: number): [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D] {
  return run('RlhfLayerNormTrain', { x, g, b }, { eps }) as unknown as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
}

/** [dx, dg, db] from the forward's x̂ and rstd. */
export function layerNormBackward(dy: tf.Tensor2D, xhat: tf.Tensor2D, rstd: tf.Tensor1D, g: tf.Tensor1D): [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D] {
  return run('RlhfLayerNormGrad', { dy, xhat, rstd, g }) as unknown as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
}

export function geluForward(x: tf.Tensor): tf.Tensor {
  return run('RlhfGeluTrain', { x }) as tf.Tensor;
}

/** dy·gelu′(x). */
export function geluBackward(x: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  return run('RlhfGeluGrad', { x, dy }) as tf.Tensor;
}

/** [log softmax(l)[t] per row, log Σ e^l per row] for logits [n, V], int32 targets [n]. */
export function targetLogprobsForward(l: tf.Tensor2D, t: tf.Tensor1D): [tf.Tensor1D, tf.Tensor1D] {
  return run('RlhfTargetLogprobs', { l, t }) as unknown as [tf.Tensor1D, tf.Tensor1D];
}

/** dy·(onehot(t) − softmax(l)), [n, V]. */
export function targetLogprobsBackward(l: tf.Tensor2D, t: tf.Tensor1D, lse: tf.Tensor1D, dy: tf.Tensor1D): tf.Tensor2D {
  return run('RlhfTargetLogprobsGrad', { l, t, lse, dy }) as tf.Tensor2D;
}

// Causal multi-head attention on the tfjs wasm backend as two tfjs kernels (forward, backward),
// each one call into our own wasm SIMD module (kernels/attention.c, built by
// scripts/build-wasm-kernels.mjs). The module has its own linear memory: tensors are copied in
// and out (measured: 1.5 of 25 ms for forward + backward of a small-size layer), which keeps it
// independent of how tfjs-wasm's heap is laid out or shared (its threaded build shares it).
// Instantiated lazily once per thread: every worker thread has its own tfjs and its own module.
import * as tf from '@tensorflow/tfjs';
import { kernelBytes, type HeapTensor } from './wasm-heap.js';
import { webgpuAttentionAvailable } from './webgpu/attention.js';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): HeapTensor;
  typedArrayFromHeap(t: HeapTensor): Float32Array;
}

interface AttentionExports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  attention_work_floats(T: number, hd: number): number;
  attention_forward(qkv: number, mask: number, maskBatch: number, out: number, probs: number, B: number, T: number, C: number, H: number, work: number): void;
  attention_backward(dOut: number, qkv: number, mask: number, maskBatch: number, probs: number, dqkv: number, B: number, T: number, C: number, H: number, work: number): void;
}

const FORWARD = 'RlhfCausalAttention';
const BACKWARD = 'RlhfCausalAttentionGrad';

let instance: AttentionExports | null | undefined;

/** The module's exports, or null where the runtime lacks wasm SIMD. */
function module(): AttentionExports | null {
  if (instance !== undefined) return instance;
  const bytes = kernelBytes('attention');
  instance = WebAssembly.validate(bytes) ? (new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as AttentionExports) : null;
  return instance;
}

/**
 * Lays out `sizes` (in floats) one after another above the module's static data, growing its
 * memory as needed; returns each region's byte offset and a view of the whole memory (growth
 * detaches earlier views, so callers take the view after reserving).
 */
function reserve(m: AttentionExports, sizes: number[]): { offsets: number[]; heap: Float32Array } {
  let at = Math.ceil((m.__heap_base.value as number) / 16) * 16;
  const offsets = sizes.map((n) => {
    const o = at;
    at += Math.ceil((n * 4) / 16) * 16;
    return o;
  });
  const missing = at - m.memory.buffer.byteLength;
  if (missing > 0) m.memory.grow(Math.ceil(missing / 65536));
  return { offsets, heap: new Float32Array(m.memory.buffer) };
}

type Attrs = { batch: number; seqLen: number; heads: number; keepProbs?: boolean };
type KernelArgs<I> = { inputs: I; attrs: Attrs; backend: WasmBackendLike };

function forwardKernel({ inputs, attrs, backend }: KernelArgs<{ qkv: HeapTensor; mask?: HeapTensor }>): HeapTensor[] {
  const m = module()!;
  const { batch: B, seqLen: T, heads: H, keepProbs } = attrs;
  const C = inputs.qkv.shape[1]! / 3;
  const out = backend.makeOutput([B * T, C], 'float32');
  const probs = keepProbs ? backend.makeOutput([B * H * T, T], 'float32') : null;
  const mask = inputs.mask;
  const maskLen = mask ? mask.shape.reduce((a, b) => a * b, 1) : 0;
  const { offsets, heap } = reserve(m, [B * T * 3 * C, maskLen, B * T * C, probs ? B * H * T * T : 0, m.attention_work_floats(T, C / H)]);
  const [qkvAt, maskAt, outAt, probsAt, workAt] = offsets as [number, number, number, number, number];
  heap.set(backend.typedArrayFromHeap(inputs.qkv), qkvAt / 4);
  if (mask) heap.set(backend.typedArrayFromHeap(mask), maskAt / 4);
  m.attention_forward(qkvAt, maskAt, mask ? maskLen / (T * T) : 0, outAt, probs ? probsAt : 0, B, T, C, H, workAt);
  backend.typedArrayFromHeap(out).set(heap.subarray(outAt / 4, outAt / 4 + B * T * C));
  if (!probs) return [out];
  backend.typedArrayFromHeap(probs).set(heap.subarray(probsAt / 4, probsAt / 4 + B * H * T * T));
  return [out, probs];
}

function backwardKernel({ inputs, attrs, backend }: KernelArgs<{ dy: HeapTensor; qkv: HeapTensor; probs?: HeapTensor; mask?: HeapTensor }>): HeapTensor {
  const m = module()!;
  const { batch: B, seqLen: T, heads: H } = attrs;
  const { probs, mask } = inputs;
  const C = inputs.qkv.shape[1]! / 3;
  const dqkv = backend.makeOutput([B * T, 3 * C], 'float32');
  const maskLen = mask ? mask.shape.reduce((a, b) => a * b, 1) : 0;
  const sizes = [B * T * C, B * T * 3 * C, probs ? B * H * T * T : 0, maskLen, B * T * 3 * C, m.attention_work_floats(T, C / H)];
  const { offsets, heap } = reserve(m, sizes);
  const [dyAt, qkvAt, probsAt, maskAt, dqkvAt, workAt] = offsets as [number, number, number, number, number, number];
  heap.set(backend.typedArrayFromHeap(inputs.dy), dyAt / 4);
  heap.set(backend.typedArrayFromHeap(inputs.qkv), qkvAt / 4);
  if (probs) heap.set(backend.typedArrayFromHeap(probs), probsAt / 4);
  if (mask) heap.set(backend.typedArrayFromHeap(mask), maskAt / 4);
  m.attention_backward(dyAt, qkvAt, maskAt, mask ? maskLen / (T * T) : 0, probs ? probsAt : 0, dqkvAt, B, T, C, H, workAt);
  backend.typedArrayFromHeap(dqkv).set(heap.subarray(dqkvAt / 4, dqkvAt / 4 + B * T * 3 * C));
  return dqkv;
}

/** True when attention can run as the wasm kernels (wasm backend, a runtime with wasm SIMD) or their WGSL versions (webgpu/attention.ts). */
export function attentionKernelAvailable(): boolean {
  if (tf.getBackend() === 'webgpu') return webgpuAttentionAvailable();
  if (tf.getBackend() !== 'wasm' || !module()) return false;
  if (!tf.getKernel(FORWARD, 'wasm')) {
    tf.registerKernel({ kernelName: FORWARD, backendName: 'wasm', kernelFunc: forwardKernel as unknown as tf.KernelFunc });
    tf.registerKernel({ kernelName: BACKWARD, backendName: 'wasm', kernelFunc: backwardKernel as unknown as tf.KernelFunc });
  }
  return true;
}

/**
 * Attention output [B·T, C] and the probabilities [B·H·T, T] the backward pass needs, for qkv
 * [B·T, 3C] and an additive mask [B or 1, 1, T, T] (causality is applied regardless).
 */
export function attentionForward(qkv: tf.Tensor2D, maskAdd: tf.Tensor | null, batch: number, seqLen: number, heads: number): [tf.Tensor2D, tf.Tensor2D] {
  const inputs: tf.NamedTensorMap = maskAdd ? { qkv, mask: maskAdd } : { qkv };
  return tf.engine().runKernel(FORWARD, inputs, { batch, seqLen, heads, keepProbs: true }) as unknown as [tf.Tensor2D, tf.Tensor2D];
}

/** The attention output alone, for forwards no gradient will follow (the probabilities are not kept). */
export function attentionInference(qkv: tf.Tensor2D, maskAdd: tf.Tensor | null, batch: number, seqLen: number, heads: number): tf.Tensor2D {
  const inputs: tf.NamedTensorMap = maskAdd ? { qkv, mask: maskAdd } : { qkv };
  return (tf.engine().runKernel(FORWARD, inputs, { batch, seqLen, heads, keepProbs: false }) as unknown as tf.Tensor2D[])[0]!;
}

/**
 * Gradient w.r.t. qkv [B·T, 3C] from dOut [B·T, C], in qkv's layout. `saved`: the forward's
 * probabilities, or the mask it was given, from which the probabilities are recomputed.
 */
export function attentionBackward(dy: tf.Tensor2D, qkv: tf.Tensor2D, saved: { probs: tf.Tensor } | { mask: tf.Tensor | null }, batch: number, seqLen: number, heads: number): tf.Tensor2D {
  const inputs: tf.NamedTensorMap = { dy, qkv };
  if ('probs' in saved) inputs.probs = saved.probs;
  else if (saved.mask) inputs.mask = saved.mask;
  return tf.engine().runKernel(BACKWARD, inputs, { batch, seqLen, heads }) as tf.Tensor2D;
}

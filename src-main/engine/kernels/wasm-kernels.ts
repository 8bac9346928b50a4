// Replacements for four tfjs-wasm kernels whose stock versions are slow for training (measured in
// CPU time, docs/readme/engine-and-bench.md). Hand-written because no library ships fixed wasm
// kernels for tfjs 4.x; both work on views of the wasm heap and fall back to the stock kernel for
// cases they do not cover.
// - Slice: tfjs-backend-wasm 4.22 reads its *whole input* out of the heap (readSync copies it into
//   a fresh ArrayBuffer) before copying the rows it needs, so a slice costs as much as copying the
//   full tensor (~200 µs for 256 KB); attention slices big tensors many times per step.
// - SplitV: built on the stock Slice, so it copied the whole input once per piece.
// - GatherV2 (axis 0, the embedding lookup): the stock kernel costs ~2 ms for 512 rows of 128;
//   copying the rows from heap views costs a few µs.
// - Column sums (bias and LayerNorm gradients) as a new kernel: the stock Sum over axis 0
//   transposes its input first. Runs as wasm SIMD (kernels/layer-ops.c) where that module binds.
// - Transpose: the stock kernel walks the input with large strides; a cache-blocked 2-D transpose
//   in JS is 4–6× faster for the [rows, cols] shapes of linear-layer gradients (wasm SIMD tiles in
//   layer-ops.c faster still, where that module binds), and the head reshuffle [B,T,H,hd] →
//   [B,H,T,hd] is a copy of contiguous runs.
import * as tf from '@tensorflow/tfjs';
import { heapColumnSum, heapTransposeLast2 } from './layer-ops-kernel.js';

interface WasmTensorInfo {
  dataId: object;
  shape: number[];
  dtype: tf.DataType;
}

type HeapArray = Float32Array | Int32Array | Uint8Array;

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): WasmTensorInfo;
  typedArrayFromHeap(t: WasmTensorInfo): HeapArray;
}

let installed = false;

function fastSlice(args: { inputs: { x: WasmTensorInfo }; attrs: { begin: number | number[]; size?: number | number[] }; backend: WasmBackendLike }): WasmTensorInfo {
  const { inputs, attrs, backend } = args;
  const x = inputs.x;
  const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.TensorInfo, attrs.begin, attrs.size) as [number[], number[]];
  // Allocate first: allocation may grow the heap, which invalidates earlier views.
  const out = backend.makeOutput(size, x.dtype);
  const total = size.reduce((a, b) => a * b, 1);
  if (total === 0) return out;
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  const strides = tf.util.computeStrides(x.shape);
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    const offset = tf.slice_util.computeFlatOffset(begin, strides);
    dst.set(src.subarray(offset, offset + total));
    return out;
  }
  // Copy runs along the last axis, odometer-style over the leading axes.
  // tfjs's strides omit the last axis (its stride is 1).
  const base = begin[rank - 1]! + strides.reduce((acc, st, d) => acc + begin[d]! * st, 0);
  copyRuns(src, dst, base, strides, size.slice(0, rank - 1), size[rank - 1]!);
  return out;
}

/**
 * Copies contiguous runs of `run` elements into `dst` in order: run k starts at
 * src[base + Σ idx[d]·strides[d]], idx counting odometer-style over `dims` (last index fastest).
 * Shared by Slice and the last-axis-keeping Transpose.
 */
function copyRuns(src: HeapArray, dst: HeapArray, base: number, strides: number[], dims: number[], run: number): void {
  const idx = new Array<number>(dims.length).fill(0);
  let o = 0;
  for (;;) {
    let off = base;
    for (let d = 0; d < dims.length; d++) off += idx[d]! * strides[d]!;
    if (run >= 16) dst.set(src.subarray(off, off + run), o);
    else for (let j = 0; j < run; j++) dst[o + j] = src[off + j]!;
    o += run;
    let d = dims.length - 1;
    while (d >= 0) {
      idx[d]! += 1;
      if (idx[d]! < dims[d]!) break;
      idx[d] = 0;
      d--;
    }
    if (d < 0) break;
  }
}

/** dst[j·R + i] = src[off + i·C + j] for one [R, C] block, in 8×8 tiles (cache-friendly). */
function transpose2d(src: ArrayLike<number>, srcOff: number, dst: { [i: number]: number }, dstOff: number, R: number, C: number): void {
  const TILE = 8;
  for (let i0 = 0; i0 < R; i0 += TILE) {
    const i1 = Math.min(i0 + TILE, R);
    for (let j0 = 0; j0 < C; j0 += TILE) {
      const j1 = Math.min(j0 + TILE, C);
      for (let i = i0; i < i1; i++) {
        const row = srcOff + i * C;
        for (let j = j0; j < j1; j++) dst[dstOff + j * R + i] = src[row + j]!;
      }
    }
  }
}

type KernelArgs = { inputs: { x: WasmTensorInfo }; attrs: { perm: number[] }; backend: WasmBackendLike };

/** Returns null when the permutation is not one of the covered shapes (the stock kernel runs). */
function fastTranspose(args: KernelArgs): WasmTensorInfo | null {
  const { inputs, attrs, backend } = args;
  const x = inputs.x;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return null;
  // Drop axes of size 1: they do not move data.
  const shape: number[] = [];
  const keep: number[] = [];
  x.shape.forEach((d, i) => {
    if (d !== 1) {
      keep.push(i);
      shape.push(d);
    }
  });
  const perm = attrs.perm.filter((p) => x.shape[p] !== 1).map((p) => keep.indexOf(p));
  const rank = shape.length;
  const outShape = attrs.perm.map((p) => x.shape[p]!);
  const identity = perm.every((p, i) => p === i);
  const swapsLastTwo = rank >= 2 && perm[rank - 1] === rank - 2 && perm[rank - 2] === rank - 1 && perm.slice(0, rank - 2).every((p, i) => p === i);
  const keepsLast = rank >= 1 && perm[rank - 1] === rank - 1;
  if (!identity && !swapsLastTwo && !keepsLast) return null;
  const out = backend.makeOutput(outShape, x.dtype);
  if (swapsLastTwo) {
    // wasm SIMD 4×4 tiles (layer-ops.c) where that module binds to the heap: ~5× the JS loop.
    const R = shape[rank - 2]!;
    const C = shape[rank - 1]!;
    const batches = shape.slice(0, rank - 2).reduce((a, b) => a * b, 1);
    if (heapTransposeLast2(backend, x, out, batches, R, C)) return out;
  }
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  if (identity) {
    dst.set(src);
  } else if (swapsLastTwo) {
    const R = shape[rank - 2]!;
    const C = shape[rank - 1]!;
    const batches = src.length / (R * C);
    for (let b = 0; b < batches; b++) transpose2d(src, b * R * C, dst, b * R * C, R, C);
  } else {
    // The last axis stays last: copy contiguous runs in output order.
    const run = shape[rank - 1]!;
    const inStrides = tf.util.computeStrides(shape);
    const outDims = perm.slice(0, rank - 1).map((p) => shape[p]!);
    const srcStride = perm.slice(0, rank - 1).map((p) => inStrides[p]!);
    copyRuns(src, dst, 0, srcStride, outDims, run);
  }
  return out;
}

type GatherArgs = { inputs: { x: WasmTensorInfo; indices: WasmTensorInfo }; attrs: { axis: number; batchDims: number }; backend: WasmBackendLike };

/** Rows of x at integer indices (axis 0, no batch dims); null for other cases. */
function fastGather(args: GatherArgs): WasmTensorInfo | null {
  const { inputs, attrs, backend } = args;
  const { x, indices } = inputs;
  const axis = attrs.axis < 0 ? attrs.axis + x.shape.length : attrs.axis;
  if (axis !== 0 || attrs.batchDims !== 0 || indices.dtype !== 'int32' || (x.dtype !== 'float32' && x.dtype !== 'int32')) return null;
  const rows = x.shape[0]!;
  const row = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
  const src = backend.typedArrayFromHeap(x);
  const idx = backend.typedArrayFromHeap(indices);
  const dst = backend.typedArrayFromHeap(out);
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i]!;
    if (r < 0 || r >= rows) throw new Error(`GatherV2: the index value ${r} is not in [0, ${rows - 1}]`);
    if (row >= 16) dst.set(src.subarray(r * row, (r + 1) * row), i * row);
    else for (let j = 0; j < row; j++) dst[i * row + j] = src[r * row + j]!;
  }
  return out;
}

type SplitArgs = { inputs: { x: WasmTensorInfo }; attrs: { numOrSizeSplits: number | number[]; axis: number | number[] }; backend: WasmBackendLike };

/** SplitV as one kernel call whose pieces are copied like fastSlice (the stock one copies the whole input per piece). */
function fastSplit(args: SplitArgs): WasmTensorInfo[] | null {
  const { inputs, attrs, backend } = args;
  const x = inputs.x;
  if (x.dtype === 'string') return null;
  const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, attrs.numOrSizeSplits, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = x.shape.slice();
    size[axis] = s;
    const piece = fastSlice({ inputs: { x }, attrs: { begin: begin.slice(), size }, backend });
    begin[axis]! += s;
    return piece;
  });
}

const COLUMN_SUM = 'RlhfColumnSum';

/** Σ over rows of x [n, c] → [c]: one pass in JS (the stock Sum over axis 0 transposes first). */
function columnSumKernel(args: { inputs: { x: WasmTensorInfo }; backend: WasmBackendLike }): WasmTensorInfo {
  const { x } = args.inputs;
  const c = x.shape[x.shape.length - 1]!;
  const out = args.backend.makeOutput([c], 'float32');
  if (heapColumnSum(args.backend, x, out, x.shape.slice(0, -1).reduce((a, b) => a * b, 1), c)) return out;
  const src = args.backend.typedArrayFromHeap(x);
  const dst = args.backend.typedArrayFromHeap(out);
  const acc = new Float64Array(c);
  for (let o = 0; o < src.length; o += c) for (let j = 0; j < c; j++) acc[j]! += src[o + j]!;
  dst.set(acc);
  return out;
}

/** Column sums of a float32 [n, c] tensor via the JS kernel; null when not on wasm. */
export function wasmColumnSum(x: tf.Tensor2D): tf.Tensor1D | null {
  if (!installed || tf.getBackend() !== 'wasm' || x.dtype !== 'float32') return null;
  return tf.engine().runKernel(COLUMN_SUM, { x }, {}) as tf.Tensor1D;
}

function replace(kernelName: string, fast: (args: never) => WasmTensorInfo | WasmTensorInfo[] | null): void {
  const stock = tf.getKernel(kernelName, 'wasm');
  if (!stock) return;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({
    kernelName,
    backendName: 'wasm',
    setupFunc: stock.setupFunc,
    disposeFunc: stock.disposeFunc,
    kernelFunc: ((args: never) => fast(args) ?? stock.kernelFunc(args)) as unknown as tf.KernelFunc,
  });
}

/** Install the replacement kernels on the wasm backend (idempotent). */
export function installWasmKernels(): void {
  if (installed) return;
  replace('Slice', (args: Parameters<typeof fastSlice>[0]) => (args.inputs.x.dtype === 'string' ? null : fastSlice(args)));
  replace('Transpose', fastTranspose);
  replace('GatherV2', fastGather);
  replace('SplitV', fastSplit);
  tf.registerKernel({ kernelName: COLUMN_SUM, backendName: 'wasm', kernelFunc: columnSumKernel as unknown as tf.KernelFunc });
  installed = true;
}

// Synchronous reads (tensor.dataSync()) on the webgpu backend in Node. The engine reads scalars and
// sampled tokens synchronously in many places; tfjs-backend-webgpu's readSync goes through
// OffscreenCanvas, which only browsers have, and WebGPU itself offers only the asynchronous
// buffer.mapAsync. Dawn's Node binding completes that map from a JS callback it schedules with the
// global setImmediate (its "async runner": process Dawn's events, then schedule itself again).
// Hand-written because no library offers this: we keep a handle on that callback and, to read
// synchronously, run it in a loop until the staging buffer is mapped. Each read costs a spin on
// the CPU while the GPU finishes the queued work, which a dataSync waits for in any case.
import * as tf from '@tensorflow/tfjs';

type Tick = () => void;

let dawnTick: Tick | null = null;
/** While a synchronous read runs the callback, its re-scheduling is dropped: the pending one stays queued. */
let spinning = false;

const isNative = (f: unknown): f is Tick => typeof f === 'function' && Function.prototype.toString.call(f).includes('[native code]');

/**
 * Wrap the global setImmediate to see Dawn's event-processing callback (the only native function
 * passed to it). Must run before Dawn creates its instance.
 */
export function watchDawnTicks(): void {
  const g = globalThis as { setImmediate: typeof setImmediate & { rlhfWatched?: true } };
  if (g.setImmediate.rlhfWatched) return;
  const real = g.setImmediate;
  const wrapped = function (this: unknown, fn: unknown, ...args: unknown[]) {
    if (isNative(fn)) {
      dawnTick = fn;
      if (spinning) return undefined;
    }
    return (real as (...a: unknown[]) => unknown).call(this, fn, ...args);
  } as unknown as typeof setImmediate & { rlhfWatched?: true };
  wrapped.rlhfWatched = true;
  Object.assign(wrapped, real);
  g.setImmediate = wrapped;
}

interface StagingBuffer {
  size: number;
  mapState: 'unmapped' | 'pending' | 'mapped';
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}

interface TensorData {
  values?: tf.backend_util.BackendValues | null;
  dtype: tf.DataType;
  shape: number[];
  resource?: StagingBuffer;
}

interface WebGPUBackendLike {
  tensorMap: { get(id: object): TensorData };
  bufferManager: { acquireBuffer(size: number, usage: number): StagingBuffer; releaseBuffer(b: StagingBuffer, reuse?: boolean): void };
  commandEncoder: { copyBufferToBuffer(a: StagingBuffer, ao: number, b: StagingBuffer, bo: number, n: number): void };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  convertAndCacheOnCPU(id: object, v: tf.backend_util.BackendValues): tf.backend_util.BackendValues;
  readSync(id: object): tf.backend_util.BackendValues;
}

/** A GPU that has not finished in this long is stuck (a lost device); say so instead of spinning forever. */
const READ_TIMEOUT_MS = 120_000;

/** Map `staging` for reading, synchronously, by running Dawn's event processing until it is mapped. */
function mapSync(staging: StagingBuffer): ArrayBuffer {
  if (!dawnTick) throw new Error('webgpu: synchronous read unavailable (Dawn event callback not seen); use await tensor.data()');
  let failure: unknown = null;
  staging.mapAsync(GPUMapMode.READ).catch((e: unknown) => (failure = e));
  const start = performance.now();
  spinning = true;
  try {
    for (;;) {
      // The latest callback: Dawn makes a new one whenever its runner restarts after running dry.
      dawnTick();
      // mapState, not a getMappedRange that throws: building an exception per spin took 14% of the
      // CPU in a profile of small ops on SwiftShader.
      if (staging.mapState === 'mapped') return staging.getMappedRange().slice(0);
      if (failure) throw new Error(`webgpu: reading a tensor failed: ${String(failure)}`);
      if (performance.now() - start > READ_TIMEOUT_MS) throw new Error(`webgpu: a tensor read did not complete in ${READ_TIMEOUT_MS / 1000} s (GPU lost?)`);
    }
  } finally {
    spinning = false;
  }
}

/** Give the current webgpu backend a readSync that works in Node (and Electron's main process). */
export function patchReadSync(backend: unknown): void {
  if (typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas !== 'undefined') return;
  const b = backend as WebGPUBackendLike;
  const original = b.readSync.bind(b);
  b.readSync = (dataId: object) => {
    const data = b.tensorMap.get(dataId);
    if (data.values != null || data.dtype === 'string' || data.dtype === 'complex64' || !data.resource) return original(dataId);
    const size = data.resource.size;
    const staging = b.bufferManager.acquireBuffer(size, GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ);
    b.ensureCommandEncoderReady();
    b.endComputePassEncoder();
    b.commandEncoder.copyBufferToBuffer(data.resource, 0, staging, 0, size);
    b.submitQueue();
    const bytes = mapSync(staging);
    staging.unmap();
    b.bufferManager.releaseBuffer(staging);
    return b.convertAndCacheOnCPU(dataId, tf.util.convertBackendValuesAndArrayBuffer(bytes, data.dtype));
  };
}

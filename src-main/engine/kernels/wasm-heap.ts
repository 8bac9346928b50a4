// What our kernels see of the tfjs wasm backend, and the loader of our compiled modules
// (the *.wasm files beside this one). tfjs exports no types for its backend's internals, so the few members the
// kernels use are typed here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as tf from '@tensorflow/tfjs';

/** A tensor as a kernel function receives it. */
export interface HeapTensor {
  dataId: object;
  shape: number[];
  dtype: tf.DataType;
}

/** The tfjs-wasm backend's own linear memory (absent on other backends). */
export interface WithHeapMemory {
  wasm: { asm?: { memory?: WebAssembly.Memory } };
}

/** The bytes of <name>.wasm beside this file; inside a packaged app they are read from the unpacked copy. */
export function kernelBytes(name: string): Uint8Array<ArrayBuffer> {
  const file = fileURLToPath(new URL(`./${name}.wasm`, import.meta.url));
  return readFileSync(file.replace('app.asar' + path.sep, 'app.asar.unpacked' + path.sep)) as Uint8Array<ArrayBuffer>;
}

/**
 * A loader for a module built with --import-memory, which runs in place on tfjs-wasm's heap:
 * it returns the module's exports bound to the backend's memory (one instance per heap, as a
 * re-initialised backend has a new memory; per thread, as each worker thread loads this file
 * anew), or null where it cannot bind (a shared memory, as in tfjs's threaded build, or a runtime
 * without wasm SIMD) and the caller keeps its fallback.
 */
export function heapModule<E>(name: string): (backend: WithHeapMemory) => E | null {
  let bytes: Uint8Array<ArrayBuffer> | undefined;
  let bound: { memory: WebAssembly.Memory; exports: E | null } | undefined;
  return (backend) => {
    const memory = backend.wasm.asm?.memory;
    if (!memory) return null;
    if (bound?.memory === memory) return bound.exports;
    bytes ??= kernelBytes(name);
    let exports: E | null = null;
    try {
      exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as E;
    } catch {
      exports = null;
    }
    bound = { memory, exports };
    return exports;
  };
}

import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendInfo, backendLabel, initBackend, type BackendInfo } from '../../../src-main/engine/backend/backend.js';
import { SWIFTSHADER_ENV, SWIFTSHADER_ICD, swiftShaderPresent, swiftShaderSuffix } from './webgpu/swiftshader.js';

const backendModule = new URL('../../../src-main/engine/backend/backend.ts', import.meta.url).href;
// tsx's loader must be registered inside the worker (execArgv --import does not reach it on Node 20).
const tsxApi = import.meta.resolve('tsx/esm/api');

/** Runs initBackend in a fresh worker thread (as the app's job runner does) and returns its info. */
function inWorker(env: Record<string, string>, prefer?: string): Promise<{ name: string; reason: string; adapter: { architecture: string; software: boolean } | null; tried: Array<{ candidate: string; ok: boolean; error?: string }>; sum: number }> {
  const code = `
    const { parentPort } = require('node:worker_threads');
    (async () => {
      (await import(${JSON.stringify(tsxApi)})).register();
      const { initBackend } = await import(${JSON.stringify(backendModule)});
      const tf = await import('@tensorflow/tfjs');
      const info = await initBackend(${prefer ? JSON.stringify(prefer) : 'undefined'});
      const sum = tf.sum(tf.matMul(tf.ones([4, 4]), tf.ones([4, 4]))).dataSync()[0];
      parentPort.postMessage({ ...info, sum });
    })().catch((e) => parentPort.postMessage({ error: String(e) }));`;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, env: { ...process.env, ...env } });
    w.once('message', (m) => {
      void w.terminate();
      if (m.error) reject(new Error(m.error));
      else resolve(m);
    });
    w.once('error', reject);
  });
}

describe('backend selection', () => {
  it('falls back past the missing native packages to wasm with SIMD, and says why', async () => {
    const info = await initBackend();
    expect(info.name).toBe('wasm');
    expect(info.reason).toMatch(/SIMD on/);
    expect(info.tried.map((t) => t.candidate)).toEqual(['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm']);
    expect(info.tried.slice(0, 3).every((t) => !t.ok)).toBe(true);
    expect(info.reason).toMatch(/unavailable: .*webgpu: /);
    expect(info.adapter).toBeNull();
    expect(backendInfo()).toEqual(info);
  });

  it('initialises wasm inside a worker thread', async () => {
    const info = await inWorker({});
    expect(info.name).toBe('wasm');
    expect(info.sum).toBe(64);
  });

  it('RLHF_BACKEND or the argument forces a backend', async () => {
    const byEnv = await inWorker({ RLHF_BACKEND: 'cpu' });
    expect(byEnv.name).toBe('cpu');
    expect(byEnv.reason).toMatch(/forced by RLHF_BACKEND=cpu/);
    const byArg = await inWorker({}, 'cpu');
    expect(byArg.name).toBe('cpu');
    expect(byArg.sum).toBe(64);
  });
});

describe.skipIf(!swiftShaderPresent)(`webgpu backend ${swiftShaderSuffix}`, () => {
  // The Vulkan loader reads the process's real environment, which a worker's `env` option does not
  // change: set it here (Node's process.env setter calls setenv) before the workers start.
  beforeAll(() => void (process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD));

  it('is not taken on a software adapter unless forced: the wasm engine is faster', async () => {
    const info = await inWorker({});
    expect(info.name).toBe('wasm');
    const webgpu = info.tried.find((t) => t.candidate === 'webgpu')!;
    expect(webgpu.ok).toBe(false);
    expect(webgpu.error).toMatch(/only a software adapter .*swiftshader/i);
  });

  it('RLHF_BACKEND=webgpu takes the software adapter, in a worker thread, and names it', async () => {
    const info = await inWorker({ RLHF_BACKEND: SWIFTSHADER_ENV.RLHF_BACKEND });
    expect(info.name).toBe('webgpu');
    expect(info.sum).toBe(64);
    expect(info.adapter).toMatchObject({ architecture: 'swiftshader', software: true });
    expect(info.reason).toMatch(/^webgpu on .*swiftshader.*forced by RLHF_BACKEND=webgpu/i);
    // What runs record and the status bar shows.
    expect(backendLabel(info as unknown as BackendInfo)).toMatch(/^webgpu \(swiftshader[^)]*, software\)$/);
    expect(backendLabel({ name: 'wasm', adapter: null, reason: '', tried: [] })).toBe('wasm');
  });
});

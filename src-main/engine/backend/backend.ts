// Picks the fastest tfjs backend that loads on this machine: native TensorFlow on the GPU (the
// optional @tensorflow/tfjs-node-gpu), then WebGPU on a hardware adapter (the `webgpu` package,
// i.e. Dawn: Vulkan, Metal or D3D12), then native TensorFlow on the CPU, else WebAssembly with
// SIMD (ships in the package, runs everywhere), else the pure-JS cpu backend.
// `RLHF_BACKEND=tensorflow|webgpu|wasm|cpu` or the `prefer` argument forces one; a forced webgpu
// takes any adapter, a software one (SwiftShader, in tests) included.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { noteBackendUsed } from './backend-used.js';
import { installWasmKernels } from '../kernels/wasm-kernels.js';
import { adapterLabel, findAdapter, type AdapterSummary } from './webgpu-device.js';
import { patchReadSync } from './webgpu-sync-read.js';
import { backends, isBackend, type Backend } from '../../shared/vocabulary.js';

export interface BackendInfo {
  /** tfjs backend name in use: 'tensorflow' | 'webgpu' | 'wasm' | 'cpu'. */
  name: string;
  /** The GPU adapter of the webgpu backend; null on the others. */
  adapter: AdapterSummary | null;
  /** Why this one: forced, or the first that loaded and what failed before it. */
  reason: string;
  /** Every attempt in order, with its outcome. */
  tried: Array<{ candidate: string; ok: boolean; error?: string }>;
}

let current: BackendInfo | null = null;
let pending: Promise<BackendInfo> | null = null;

/** Directory of the wasm binaries shipped in @tensorflow/tfjs-backend-wasm (a file path in Node). */
export function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  // Inside a packaged Electron app the .wasm files must come from the unpacked copy.
  return path.join(path.dirname(pkg), 'dist').replace('app.asar' + path.sep, 'app.asar.unpacked' + path.sep) + path.sep;
}

async function tryNative(pkg: string): Promise<void> {
  // Variable specifier: these optional packages are usually absent and must not be resolved at build time.
  const spec: string = pkg;
  await import(spec);
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but the tensorflow backend did not initialise`);
}

/**
 * WebGPU through Dawn. Unforced, only a hardware adapter is taken: a software one (SwiftShader,
 * llvmpipe) computes correctly but far slower than the wasm engine.
 */
async function tryWebgpu(forced: boolean): Promise<AdapterSummary> {
  const adapter = await findAdapter();
  if (!adapter) throw new Error('no WebGPU adapter (no Vulkan/Metal/D3D12 driver found)');
  if (adapter.software && !forced) throw new Error(`only a software adapter (${adapterLabel(adapter)}), slower than wasm`);
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error(`webgpu backend did not initialise on ${adapterLabel(adapter)}`);
  patchReadSync(tf.backend());
  return adapter;
}

async function tryWasm(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(wasmDistDir());
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend did not initialise');
  installWasmKernels();
}

async function tryCpu(): Promise<void> {
  if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend did not initialise');
}

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0]!.slice(0, 200);
}

async function select(prefer: Backend | undefined, forcedBy: string): Promise<BackendInfo> {
  // The engine is tuned for production use; prod mode also silences tfjs's "install tfjs-node" banner.
  tf.enableProdMode();
  let adapter: AdapterSummary | null = null;
  const chain: Array<[string, () => Promise<void>]> = [];
  if (!prefer || prefer === 'tensorflow') chain.push(['tfjs-node-gpu', () => tryNative('@tensorflow/tfjs-node-gpu')]);
  if (!prefer || prefer === 'webgpu') chain.push(['webgpu', async () => void (adapter = await tryWebgpu(prefer === 'webgpu'))]);
  if (!prefer || prefer === 'tensorflow') chain.push(['tfjs-node', () => tryNative('@tensorflow/tfjs-node')]);
  if (!prefer || prefer === 'wasm') chain.push(['wasm', tryWasm]);
  // cpu is the last resort of every chain so a forced-but-missing backend still runs.
  chain.push(['cpu', tryCpu]);

  const tried: BackendInfo['tried'] = [];
  for (const [candidate, attempt] of chain) {
    try {
      await attempt();
      tried.push({ candidate, ok: true });
      const failed = tried.filter((t) => !t.ok).map((t) => `${t.candidate}: ${t.error}`);
      const why = prefer ? `forced by ${forcedBy}=${prefer}` : 'first backend that loaded';
      const simd = tf.getBackend() === 'wasm' ? ` (SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'on' : 'off'})` : '';
      const on = tf.getBackend() === 'webgpu' && adapter ? ` on ${adapterLabel(adapter)}` : '';
      return {
        name: tf.getBackend(),
        adapter: tf.getBackend() === 'webgpu' ? adapter : null,
        reason: `${candidate}${simd}${on}: ${why}` + (failed.length ? `; unavailable: ${failed.join('; ')}` : ''),
        tried,
      };
    } catch (e) {
      tried.push({ candidate, ok: false, error: message(e) });
    }
  }
  throw new Error(`no tfjs backend could be initialised: ${JSON.stringify(tried)}`);
}

/**
 * Initialise the tfjs backend once per process (or worker thread). Later calls return the same
 * choice unless a different backend is explicitly preferred.
 */
export async function initBackend(prefer?: Backend): Promise<BackendInfo> {
  const env = process.env.RLHF_BACKEND;
  let forcedBy = 'argument';
  if (!prefer && env) {
    if (!isBackend(env)) throw new Error(`RLHF_BACKEND must be one of ${backends.join(', ')}, got "${env}"`);
    prefer = env;
    forcedBy = 'RLHF_BACKEND';
  }
  if (current && (!prefer || backendMatches(current.name, prefer))) return current;
  if (pending && !prefer) return pending;
  pending = select(prefer, forcedBy).then((info) => {
    current = info;
    noteBackendUsed(backendLabel(info));
    return info;
  });
  try {
    return await pending;
  } finally {
    pending = null;
  }
}

function backendMatches(name: string, prefer: Backend): boolean {
  return name === prefer;
}

/** The backend chosen by initBackend, or null before it ran. */
export function backendInfo(): BackendInfo | null {
  return current;
}

/**
 * The backend as runs record it and the app shows it (status bar, run header): the name, and on
 * webgpu the adapter's short name, e.g. "webgpu (nvidia-h200)"; the reason has the full one.
 */
export function backendLabel(info: BackendInfo): string {
  const a = info.adapter;
  if (!a) return info.name;
  return `${info.name} (${a.device || a.description || a.vendor || 'unknown adapter'}${a.software ? ', software' : ''})`;
}

/** The fields `--json` outputs carry about the backend: which one, on which adapter, and why. */
export function backendJson(info: BackendInfo | null): { backend: string | null; adapter: AdapterSummary | null; backend_reason: string | null } {
  return { backend: info?.name ?? null, adapter: info?.adapter ?? null, backend_reason: info?.reason ?? null };
}

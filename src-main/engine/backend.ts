// Picks the fastest tfjs backend that loads on this machine: native TensorFlow (GPU, then CPU)
// when the optional @tensorflow/tfjs-node(-gpu) packages are installed, else WebAssembly with
// SIMD (ships in the package, runs everywhere), else the pure-JS cpu backend.
// `RLHF_BACKEND=tensorflow|wasm|cpu` or the `prefer` argument forces one.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { installWasmKernels } from './wasm-kernels.js';

export type BackendPreference = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** tfjs backend name in use: 'tensorflow' | 'wasm' | 'cpu'. */
  name: string;
  /** Why this one: forced, or the first that loaded and what failed before it. */
  reason: string;
  /** Every attempt in order, with its outcome. */
  tried: Array<{ candidate: string; ok: boolean; error?: string }>;
}

let current: BackendInfo | null = null;
let pending: Promise<BackendInfo> | null = null;

const PREFERENCES: readonly BackendPreference[] = ['tensorflow', 'wasm', 'cpu'];

function isPreference(v: string | undefined): v is BackendPreference {
  return v !== undefined && (PREFERENCES as readonly string[]).includes(v);
}

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

async function select(prefer: BackendPreference | undefined, forcedBy: string): Promise<BackendInfo> {
  // The engine is tuned for production use; prod mode also silences tfjs's "install tfjs-node" banner.
  tf.enableProdMode();
  const chain: Array<[string, () => Promise<void>]> = [];
  if (!prefer || prefer === 'tensorflow') {
    chain.push(['tfjs-node-gpu', () => tryNative('@tensorflow/tfjs-node-gpu')]);
    chain.push(['tfjs-node', () => tryNative('@tensorflow/tfjs-node')]);
  }
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
      return {
        name: tf.getBackend(),
        reason: `${candidate}${simd}: ${why}` + (failed.length ? `; unavailable: ${failed.join('; ')}` : ''),
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
export async function initBackend(prefer?: BackendPreference): Promise<BackendInfo> {
  const env = process.env.RLHF_BACKEND;
  let forcedBy = 'argument';
  if (!prefer && env) {
    if (!isPreference(env)) throw new Error(`RLHF_BACKEND must be one of ${PREFERENCES.join(', ')}, got "${env}"`);
    prefer = env;
    forcedBy = 'RLHF_BACKEND';
  }
  if (current && (!prefer || backendMatches(current.name, prefer))) return current;
  if (pending && !prefer) return pending;
  pending = select(prefer, forcedBy).then((info) => {
    current = info;
    return info;
  });
  try {
    return await pending;
  } finally {
    pending = null;
  }
}

function backendMatches(name: string, prefer: BackendPreference): boolean {
  return name === prefer;
}

/** The backend chosen by initBackend, or null before it ran. */
export function backendInfo(): BackendInfo | null {
  return current;
}

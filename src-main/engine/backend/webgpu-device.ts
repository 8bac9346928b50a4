// WebGPU in Node and Electron's main process: the `webgpu` npm package (Dawn, the implementation
// inside Chromium) provides `navigator.gpu`, on which @tensorflow/tfjs-backend-webgpu runs
// unchanged. This file finds an adapter and says what it is; backend.ts decides whether to use it.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { watchDawnTicks } from './webgpu-sync-read.js';

/** What the run's adapter is, as `--json` outputs and the app show it. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (SwiftShader, llvmpipe…): correct, but slower than the wasm engine. */
  software: boolean;
}

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}

interface AdapterLike {
  info?: AdapterInfoLike;
  isFallbackAdapter?: boolean;
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<AdapterLike | null>;
}

/** glibc's RTLD_NODELETE: keep a preloaded library mapped after Node's failed addon check closes it. */
const RTLD_NODELETE = 0x1000;

/**
 * Dawn opens the Vulkan loader as `libvulkan.so.1`. Where the system has none but the ICD named by
 * VK_ICD_FILENAMES ships one beside it (Chromium's SwiftShader: /usr/lib/chromium/), load that copy
 * first: a library already loaded under that soname satisfies Dawn's dlopen. Node's dlopen rejects
 * it as an addon (no module registration) after loading it; RTLD_NODELETE keeps it mapped.
 */
function preloadVulkanLoaderBesideIcd(): void {
  if (process.platform !== 'linux') return;
  const icd = (process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES ?? '').split(':')[0];
  if (!icd) return;
  const loader = path.join(path.dirname(icd), 'libvulkan.so.1');
  if (!existsSync(loader)) return;
  const flags = os.constants.dlopen.RTLD_NOW | os.constants.dlopen.RTLD_GLOBAL | RTLD_NODELETE;
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, loader, flags);
  } catch {
    // Expected: "Module did not self-register". The library stays loaded all the same.
  }
}

/** Directories the dynamic linker searches for libvulkan.so.1 on common Linux layouts. */
const LOADER_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib64', '/lib', '/usr/local/lib'];

/**
 * Linux: whether a Vulkan loader can be found. Without one Dawn has no adapter and prints a warning
 * on every start, so the chain skips it with that reason instead of loading Dawn.
 */
function vulkanLoaderFound(): boolean {
  if (process.platform !== 'linux') return true;
  const icd = (process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES ?? '').split(':')[0];
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...(icd ? [path.dirname(icd)] : []), ...LOADER_DIRS];
  return dirs.some((d) => existsSync(path.join(d, 'libvulkan.so.1')));
}

let gpu: GpuLike | null = null;

/**
 * navigator.gpu from Dawn, created once per thread. tfjs-backend-webgpu registers itself only when
 * navigator.gpu exists at its import, so this must run before that import.
 */
export async function installNavigatorGpu(): Promise<GpuLike> {
  if (gpu) return gpu;
  if (!vulkanLoaderFound()) throw new Error('no Vulkan loader (libvulkan.so.1) on this machine');
  preloadVulkanLoaderBesideIcd();
  // XDG_RUNTIME_DIR unset makes the Vulkan loader print warnings on every start; any writable dir will do.
  process.env.XDG_RUNTIME_DIR ??= os.tmpdir();
  watchDawnTicks();
  const webgpu = (await import('webgpu')) as unknown as { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
  // GPUBufferUsage, GPUShaderStage, … are globals in a browser; tfjs-backend-webgpu reads them as such.
  for (const [k, v] of Object.entries(webgpu.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const created = webgpu.create([]);
  const g = globalThis as { navigator?: { gpu?: unknown } };
  // Node 21+ has a global navigator without gpu; Node 20 has none.
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  Object.defineProperty(g.navigator, 'gpu', { value: created, configurable: true });
  gpu = created;
  return created;
}

export function summarizeAdapter(adapter: AdapterLike): AdapterSummary {
  const info = adapter.info ?? {};
  const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.description ?? ''}`.toLowerCase();
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    software: adapter.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe|software|warp/.test(text),
  };
}

/** "nvidia nvidia-h200 (NVIDIA: 580.159.04)": one line naming an adapter. */
export function adapterLabel(a: AdapterSummary): string {
  const name = [a.vendor, a.device || a.architecture].filter(Boolean).join(' ');
  return `${name || 'unknown adapter'}${a.description ? ` (${a.description})` : ''}${a.software ? ', software' : ''}`;
}

/** The adapter tfjs-backend-webgpu will take (it asks for the high-performance one), or null. */
export async function findAdapter(): Promise<AdapterSummary | null> {
  const g = await installNavigatorGpu();
  const adapter = await g.requestAdapter({ powerPreference: 'high-performance' });
  return adapter ? summarizeAdapter(adapter) : null;
}

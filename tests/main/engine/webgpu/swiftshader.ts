// The software WebGPU adapter the webgpu tests run on: Chromium's SwiftShader Vulkan driver (CI
// installs chromium; .ci/run). Correct but ~0.1 GFLOP/s, so these tests use tiny shapes.
import { existsSync } from 'node:fs';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** True where the ICD is installed; the suites name the missing file when it is not. */
export const swiftShaderPresent = existsSync(SWIFTSHADER_ICD);

export const swiftShaderSuffix = swiftShaderPresent ? '(SwiftShader)' : `(skipped: ${SWIFTSHADER_ICD} absent, install chromium)`;

/** Environment that makes Dawn find SwiftShader, and forces the webgpu backend. */
export const SWIFTSHADER_ENV = { VK_ICD_FILENAMES: SWIFTSHADER_ICD, RLHF_BACKEND: 'webgpu' } as const;

/** Point this process at SwiftShader and force webgpu (before the first initBackend). */
export function useSwiftShader(): void {
  Object.assign(process.env, SWIFTSHADER_ENV);
}

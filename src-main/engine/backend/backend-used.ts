// Which compute backend this thread's engine runs on, as the app shows it ("wasm",
// "webgpu (nvidia-h200)"), or null before the engine started. Kept apart from backend.ts so a job
// worker can report it without loading tfjs: a job that never started the engine reports nothing.
let used: string | null = null;

export function noteBackendUsed(label: string): void {
  used = label;
}

export function backendUsed(): string | null {
  return used;
}

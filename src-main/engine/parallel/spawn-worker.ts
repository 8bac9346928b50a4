// Starts a worker thread on one of our modules, from the TypeScript sources (tsx) or from the
// compiled build alike. Used by the job manager and by the engine's data-parallel replicas.
import { Worker } from 'node:worker_threads';

/**
 * `moduleUrl` is the `.ts` URL when running from source (the caller's `import.meta.url` ends in
 * `.ts`) and is swapped for its `.js` twin in the compiled build.
 */
export function spawnModuleWorker(moduleUrl: URL, workerData: unknown): Worker {
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl, { workerData });
  // `execArgv: ['--import', 'tsx']` does not apply to a worker's entry module on Node 20,
  // so a tiny bootstrap registers tsx's loader and then imports the TypeScript module.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(moduleUrl.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/** The URL of a sibling module of `base` named `name` (without extension), in the same flavour (.ts/.js) as `base`. */
export function siblingModule(base: string, name: string): URL {
  const ext = base.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${ext}`, base);
}

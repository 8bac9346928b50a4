// One RL method of the demo (PPO, RLOO or GRPO) in a child process of its own, so that its peak
// resident memory is that process's maxRSS alone: measured in the demo's process, it would mix the
// methods run before it (and SFT, sampling and the reward model). The child opens the project by
// path, trains, saves the policy and exits; progress and log lines come back over IPC.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { demoRlMethods, type DemoRlMethod } from '../shared/vocabulary.js';

export const RL_METHODS = demoRlMethods;
export type RlMethod = DemoRlMethod;

export interface RlPhaseRequest {
  project: string;
  method: RlMethod;
  /** The SFT checkpoint to start from (and the reference). */
  from: number;
  reward_model: number;
  config: Record<string, unknown>;
  name: string;
}

export interface RlPhaseResult {
  checkpoint: number;
  /** The run in the project: each method trains as its own stage (`train-ppo|rloo|grpo`). */
  run: number;
  /** The metric series of the run, per iteration. */
  series: Record<string, { step: number; value: number }[]>;
  metrics: Record<string, number>;
  /** The child process's peak resident set, MiB: loading, training and saving this method alone. */
  peak_rss_mb: number;
  /** Wall time of the child process, from its start to its result. */
  seconds: number;
}

export type RlPhaseMessage =
  | { type: 'progress'; done: number; total: number; message?: string }
  | { type: 'log'; message: string }
  | { type: 'done'; result: Omit<RlPhaseResult, 'seconds'> }
  | { type: 'error'; message: string };

/** The child's module, from the TypeScript sources (tsx, vitest) or from the build alike. */
function childModule(): { path: string; execArgv: string[] } {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const path = fileURLToPath(new URL(`./rl-phase-child${ext}`, import.meta.url));
  return { path, execArgv: ext === '.ts' ? ['--import', import.meta.resolve('tsx')] : [] };
}

export function runRlPhase(
  req: RlPhaseRequest,
  hooks: { signal?: AbortSignal; progress?(done: number, total: number, message?: string): void; log?(message: string): void } = {},
): Promise<RlPhaseResult> {
  const started = performance.now();
  const { path, execArgv } = childModule();
  return new Promise((resolve, reject) => {
    if (hooks.signal?.aborted) return reject(new Error('cancelled'));
    const child = fork(path, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: RlPhaseResult | null = null;
    let failure: Error | null = null;
    const onAbort = () => child.kill('SIGTERM');
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('message', (m: RlPhaseMessage) => {
      if (m.type === 'progress') hooks.progress?.(m.done, m.total, m.message);
      else if (m.type === 'log') hooks.log?.(m.message);
      else if (m.type === 'done') result = { ...m.result, seconds: (performance.now() - started) / 1000 };
      else failure = new Error(m.message);
    });
    child.on('error', (e) => (failure ??= e));
    child.on('exit', (code, sig) => {
      hooks.signal?.removeEventListener('abort', onAbort);
      if (hooks.signal?.aborted) return reject(new Error('cancelled'));
      if (result && code === 0) return resolve(result);
      reject(failure ?? new Error(`the ${req.method} phase exited with ${sig ?? `code ${code}`} and no result`));
    });
    child.send(req);
  });
}

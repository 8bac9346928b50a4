// Interactive writes go first. The app's request-serving connection (main thread) and the job
// workers of the same process share one counter in a SharedArrayBuffer: the number of requests
// waiting for the project's write lock. A long writer (an import) checks it between its short
// transactions and lets the waiters through before taking the lock again, so a judgment does not
// have to win a race against the next batch. Hand-written: SQLite's busy handler is not a queue.
import { setTimeout as sleep } from 'node:timers/promises';

let waiting = new Int32Array(new SharedArrayBuffer(4));

/** The buffer to hand to a job's worker thread (jobs/manager.ts → jobs/worker.ts). */
export function writePriorityBuffer(): SharedArrayBuffer {
  return waiting.buffer as SharedArrayBuffer;
}

/** In a worker: share the main thread's counter. */
export function useWritePriorityBuffer(buffer: SharedArrayBuffer): void {
  waiting = new Int32Array(buffer);
}

/** Marks a request as waiting for the write lock until the returned function is called. */
export function waitingForWriteLock(): () => void {
  Atomics.add(waiting, 0, 1);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    Atomics.sub(waiting, 0, 1);
  };
}

/** Between two transactions of a long writer: pauses while requests wait for the lock (at most `maxMs`). */
export async function yieldToWaitingWriters(maxMs = 200): Promise<void> {
  const until = performance.now() + maxMs;
  while (Atomics.load(waiting, 0) > 0 && performance.now() < until) await sleep(1);
}

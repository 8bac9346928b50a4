// One trainer per run: a lease in the project file (run_leases) that the trainer renews with a
// heartbeat. Whoever wants to train or resume a run takes the lease in a write transaction, so of
// two processes (the app and a CLI, two CLIs, two resume calls at once) only one gets it. A lease
// is free once its heartbeat is older than LEASE_TTL_MS, or at once when its process on this
// machine has died: a crash releases it.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { DB } from './db.js';

export const HEARTBEAT_MS = 5_000;
export const LEASE_TTL_MS = 30_000;

export interface RunLease {
  runId: number;
  token: string;
  /** Who trains it, as the user knows them: "rlhf-lab serve (pid 123 on box)". */
  owner: string;
  host: string;
  pid: number;
  acquiredAt: number;
  heartbeatAt: number;
}

export class RunBusyError extends Error {
  constructor(readonly lease: RunLease) {
    const ago = Math.max(0, Math.round((Date.now() - lease.heartbeatAt) / 1000));
    super(`run ${lease.runId} is being trained by ${lease.owner} (last heartbeat ${ago} s ago); stop it there, or wait for it to finish`);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function leaseIsLive(lease: RunLease, now = Date.now()): boolean {
  if (now - lease.heartbeatAt > LEASE_TTL_MS) return false;
  return lease.host !== hostname() || processAlive(lease.pid);
}

export class RunLeasesRepo {
  readonly #get;
  readonly #put;
  readonly #beat;
  readonly #drop;

  constructor(private readonly db: DB) {
    this.#get = db.prepare<[number], RunLease>(
      `SELECT run_id AS runId, token, owner, host, pid, acquired_at AS acquiredAt, heartbeat_at AS heartbeatAt FROM run_leases WHERE run_id = ?`,
    );
    this.#put = db.prepare(
      `INSERT OR REPLACE INTO run_leases (run_id, token, owner, host, pid, acquired_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#beat = db.prepare<[number, number, string]>('UPDATE run_leases SET heartbeat_at = ? WHERE run_id = ? AND token = ?');
    this.#drop = db.prepare<[number, string]>('DELETE FROM run_leases WHERE run_id = ? AND token = ?');
  }

  /** The live lease on a run, or null when nobody is training it. */
  holder(runId: number): RunLease | null {
    const lease = this.#get.get(runId);
    return lease && leaseIsLive(lease) ? lease : null;
  }

  /** Takes the run for `owner`; throws RunBusyError while someone else holds it. Returns the lease's token. */
  acquire(runId: number, owner: string): string {
    return this.db.transaction(() => {
      const current = this.holder(runId);
      if (current) throw new RunBusyError(current);
      const token = randomUUID();
      const now = Date.now();
      this.#put.run(runId, token, owner, hostname(), process.pid, now, now);
      return token;
    })();
  }

  /** Renews the lease; false when it was lost (taken over after a stall longer than the TTL). */
  heartbeat(runId: number, token: string): boolean {
    return this.#beat.run(Date.now(), runId, token).changes === 1;
  }

  release(runId: number, token: string): void {
    this.#drop.run(runId, token);
  }
}

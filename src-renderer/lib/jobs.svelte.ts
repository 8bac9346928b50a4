// Long work (imports, training, generation) runs as jobs in the main process. This class mirrors
// their state from `job.progress` / `job.done` events for the status bar, and lets a view wait
// for the job it started.
import { untrack } from 'svelte';
import { SvelteMap } from 'svelte/reactivity';
import type { JobInfo } from '../../src-main/shared/contract.js';
import type { Client } from './api';

/** How long a completed or cancelled job stays in the status bar so its outcome can be read. */
const LINGER_MS = 6000;
/** Fallback poll while a view waits on a job, in case an event was missed during a reconnect. */
const POLL_MS = 2000;

export class JobsState {
  #client: Client;
  #visible = new SvelteMap<string, JobInfo>();
  /** Finished jobs by id (not reactive), so a waiter that arrives after `job.done` still resolves. */
  #finished = new Map<string, JobInfo>();
  #waiters = new Map<string, ((job: JobInfo) => void)[]>();

  constructor(client: Client) {
    this.#client = client;
  }

  /** Jobs for the status bar: running ones and those that finished a moment ago. */
  get list(): JobInfo[] {
    return [...this.#visible.values()];
  }

  get runningCount(): number {
    return this.list.filter((j) => j.status === 'running').length;
  }

  /** Follows job events; untracked so the calling $effect never re-subscribes. */
  start(): () => void {
    return untrack(() => this.#subscribe());
  }

  #subscribe(): () => void {
    const offProgress = this.#client.on('job.progress', (job) => this.upsert(job));
    const offDone = this.#client.on('job.done', (job) => this.upsert(job));
    this.#client
      .call('jobs.list', {})
      .then((jobs) => jobs.filter((j) => j.status === 'running').forEach((j) => this.upsert(j)))
      .catch(() => {
        // No job list yet (e.g. no project open): the events fill it in later.
      });
    return () => {
      offProgress();
      offDone();
    };
  }

  upsert(job: JobInfo): void {
    if (this.#finished.has(job.id)) return; // a late progress event must not revive a finished job
    this.#visible.set(job.id, job);
    if (job.status === 'running') return;
    this.#finished.set(job.id, job);
    if (this.#finished.size > 200) this.#finished.delete(this.#finished.keys().next().value!);
    for (const resolve of this.#waiters.get(job.id) ?? []) resolve(job);
    this.#waiters.delete(job.id);
    // A failure stays until dismissed: its message may be the only place the user learns why.
    if (job.status === 'failed') return;
    setTimeout(() => {
      if (this.#visible.get(job.id)?.status !== 'running') this.#visible.delete(job.id);
    }, LINGER_MS);
  }

  dismiss(id: string): void {
    this.#visible.delete(id);
  }

  get(id: string): JobInfo | undefined {
    return this.#visible.get(id) ?? this.#finished.get(id);
  }

  /** Resolves with the job once it has completed, failed or been cancelled. */
  waitFor(job: JobInfo): Promise<JobInfo> {
    this.upsert(job);
    const done = this.#finished.get(job.id);
    if (done) return Promise.resolve(done);
    return new Promise((resolve) => {
      const poll = setInterval(() => {
        this.#client
          .call('jobs.list', {})
          .then((jobs) => {
            const found = jobs.find((j) => j.id === job.id);
            if (found && found.status !== 'running') this.upsert(found);
          })
          .catch(() => {});
      }, POLL_MS);
      const list = this.#waiters.get(job.id) ?? [];
      list.push((finished) => {
        clearInterval(poll);
        resolve(finished);
      });
      this.#waiters.set(job.id, list);
    });
  }

  async cancel(id: string): Promise<void> {
    this.upsert(await this.#client.call('jobs.cancel', { id }));
  }
}

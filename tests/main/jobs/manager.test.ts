import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Events, EventName } from '../../../src-main/shared/contract.js';
import { JobManager } from '../../../src-main/jobs/manager.js';
import type { JobRegistry } from '../../../src-main/jobs/registry.js';
import { runJobInProcess } from '../../../src-main/jobs/run-in-process.js';
import { Project } from '../../../src-main/store/project.js';

const registry: JobRegistry = {
  count: { module: new URL('./fixtures/count-job.ts', import.meta.url).href, export: 'countJob', changes: ['prompts'] },
};

let dir: string;
let projectPath: string;
let events: { event: EventName; payload: unknown }[];
let manager: JobManager;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rlhf-jobs-'));
  projectPath = join(dir, 'p.rlhf');
  Project.open(projectPath, { create: true }).close();
  events = [];
  manager = new JobManager({
    registry,
    emit: <E extends EventName>(event: E, payload: Events[E]) => events.push({ event, payload }),
  });
});
afterEach(async () => {
  await manager.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('job manager', () => {
  it('runs a job in a worker thread, streams progress and announces the result', async () => {
    const started = manager.start('count', { n: 5, delayMs: 60 }, 'Counting', projectPath);
    expect(started.status).toBe('running');
    const done = await manager.wait(started.id);
    expect(done).toMatchObject({ status: 'completed', result: { counted: 5 } });
    const progress = events.filter((e) => e.event === 'job.progress').map((e) => (e.payload as { progress: { done: number } }).progress.done);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.at(-1)).toBe(5);
    expect(events.map((e) => e.event).slice(-2)).toEqual(['job.done', 'data.changed']);
    expect(events.at(-1)!.payload).toEqual({ kinds: ['prompts'] });
    // A job that gives no ETA of its own gets one from its pace: none at the first report, then
    // seconds left, none at the end (5 steps 60 ms apart: under a second left at every step).
    const etas = events.filter((e) => e.event === 'job.progress').map((e) => (e.payload as { progress: { etaSeconds?: number } | null }).progress?.etaSeconds);
    expect(etas[0]).toBeUndefined();
    expect(etas.slice(1, -1).length).toBeGreaterThan(0);
    expect(etas.slice(1, -1).every((s) => s === 0)).toBe(true);
    expect(etas.at(-1)).toBeUndefined();
    // The worker wrote through its own connection; the main thread sees it.
    const project = Project.open(projectPath);
    expect(project.db.prepare("SELECT value FROM project_meta WHERE key = 'counted'").get()).toEqual({ value: '5' });
    project.close();
    expect(manager.list()).toMatchObject([{ id: started.id, status: 'completed' }]);
  });

  it('cancels a running job', async () => {
    const started = manager.start('count', { n: 1000, delayMs: 10 }, 'Long', projectPath);
    await new Promise((r) => setTimeout(r, 300));
    manager.cancel(started.id);
    const done = await manager.wait(started.id);
    expect(done.status).toBe('cancelled');
    expect(events.map((e) => e.event).slice(-2)).toEqual(['job.done', 'data.changed']);
  });

  it('stops a job that ignores the cancel after the grace period', async () => {
    const started = manager.start('count', { n: 1000, delayMs: 10, ignoreCancel: true }, 'Stubborn', projectPath);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    manager.cancel(started.id, 300);
    expect((await manager.wait(started.id)).status).toBe('cancelled');
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('reports a failing job with its message', async () => {
    const started = manager.start('count', { n: 1, delayMs: 1, fail: true }, 'Fails', projectPath);
    expect(await manager.wait(started.id)).toMatchObject({ status: 'failed', error: 'the fixture failed on purpose' });
  });

  it('refuses an unknown kind', () => {
    expect(() => manager.start('nope', {}, 'x', projectPath)).toThrow(/Unknown job kind "nope"/);
  });

  it('runs the same job in-process for the CLI', async () => {
    const project = Project.open(projectPath);
    const seen: number[] = [];
    const result = await runJobInProcess('count', { n: 3, delayMs: 1 }, project, (p) => seen.push(p.done), { registry });
    expect(result).toEqual({ counted: 3 });
    expect(seen).toEqual([1, 2, 3]);
    project.close();
  });
});

// The status bar's "Engine" follows the engine: a job that starts it without making a run (a
// generation, a new model) still tells the app which backend it ran on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { Services } from '../../../src-main/api/services.js';
import type { JobRegistry } from '../../../src-main/jobs/registry.js';

const registry: JobRegistry = {
  engine: { module: new URL('./fixtures/engine-job.ts', import.meta.url).href, export: 'engineJob', changes: [] },
  count: { module: new URL('./fixtures/count-job.ts', import.meta.url).href, export: 'countJob', changes: ['prompts'] },
};

let dir: string;
let services: Services;
afterEach(async () => {
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

it('a job that started the engine names its backend, and the app shows it although no run recorded one', async () => {
  dir = mkdtempSync(join(tmpdir(), 'rlhf-engine-backend-'));
  services = new Services({ dataDir: join(dir, 'home'), jobRegistry: registry });
  services.openProject(join(dir, 'p.rlhf'), { create: true });
  expect(services.backendName()).toBeNull();

  // A job that never starts the engine (an import, say) says nothing about it.
  const counted = await services.jobs.wait(services.startJob('count', { n: 1, delayMs: 1 }, 'Counting').id);
  expect(counted.backend).toBeUndefined();
  expect(services.backendName()).toBeNull();

  const done = await services.jobs.wait(services.startJob('engine', {}, 'Starting the engine').id);
  expect(done).toMatchObject({ status: 'completed', backend: 'cpu' });
  expect(services.backendName()).toBe('cpu');
});

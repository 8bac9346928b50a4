// demo.state / demo.start through the router (the run itself: tests/e2e/demo-panel.test.ts): only
// the demo project runs the demo, with at least one RL method, each once, one run at a time, and
// only for the host; the last run's table is the report's rows as `rlhf-lab demo` prints them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiContext } from '../../../src-main/api/context.js';
import { handlers } from '../../../src-main/api/handlers/index.js';
import { dispatch } from '../../../src-main/api/router.js';
import { Services } from '../../../src-main/api/services.js';
import { makeTinyDemo } from '../demo/tiny-demo.js';

let dir: string;
let services: Services;
const ctx = (annotatorId: number | null = null): ApiContext => ({ app: services, annotatorId });
const call = (name: string, input: unknown, who: number | null = null) => dispatch(handlers, name, input, ctx(who));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rlhf-demo-api-'));
  services = new Services({ dataDir: join(dir, 'home'), demoPath: join(dir, 'no-demo.rlhf') });
});
afterAll(async () => {
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('demo API', () => {
  it('refuses to run the demo on a project that is not the demo project', async () => {
    services.openProject(join(dir, 'plain.rlhf'), { create: true });
    expect(await call('demo.state', {})).toEqual({ ok: true, value: { demo: false, methods: ['ppo', 'rloo', 'grpo'], last: null, job: null } });
    expect(await call('demo.start', { rl: ['ppo'], seed: 1 })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/demo project only/) } });
  });

  it('asks for at least one RL method, each once, from the host only', async () => {
    const path = join(dir, 'demo.rlhf');
    await makeTinyDemo(path);
    services.openProject(path);
    expect(await call('demo.state', {})).toMatchObject({ ok: true, value: { demo: true, last: null, job: null } });
    expect(await call('demo.start', { rl: [], seed: 1 })).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringMatching(/rl: needs at least 1 item/) } });
    expect(await call('demo.start', { rl: ['rloo', 'rloo'], seed: 1 })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/Each RL method once/) } });
    expect(await call('demo.start', { rl: ['dpo'], seed: 1 })).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(await call('demo.start', { rl: ['ppo'], seed: -1 })).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(await call('demo.start', { rl: ['ppo'], seed: 1 }, 7)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(services.jobs.list()).toEqual([]);
  });
});

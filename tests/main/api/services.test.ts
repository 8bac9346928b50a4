import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiContext } from '../../../src-main/api/context.js';
import { handlers } from '../../../src-main/api/handlers/index.js';
import { dispatch } from '../../../src-main/api/router.js';
import { Services } from '../../../src-main/api/services.js';
import { Project } from '../../../src-main/store/project.js';

let dir: string;
let services: Services;
const ctx = (): ApiContext => ({ app: services, annotatorId: null });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rlhf-services-'));
  services = new Services({ dataDir: join(dir, 'home'), demoPath: join(dir, 'no-demo.rlhf') });
});
afterEach(async () => {
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('app services', () => {
  it('says plainly that no project is open', async () => {
    expect(await dispatch(handlers, 'jobs.list', {}, ctx())).toEqual({ ok: true, value: [] });
    expect(() => services.project()).toThrow(/No project is open/);
    expect(await dispatch(handlers, 'project.current', {}, ctx())).toEqual({ ok: true, value: null });
  });

  it('creates and opens projects, announcing the change, and remembers them across restarts', async () => {
    const events: unknown[] = [];
    services.subscribe((event, payload) => events.push({ event, payload }));
    const a = join(dir, 'a.rlhf');
    const b = join(dir, 'b.rlhf');
    expect(await dispatch(handlers, 'project.create', { path: a }, ctx())).toMatchObject({ ok: true, value: { path: a, name: 'a' } });
    expect(existsSync(a)).toBe(true);
    Project.open(b, { create: true }).close();
    await dispatch(handlers, 'project.open', { path: b }, ctx());
    expect(events).toEqual([
      { event: 'project.changed', payload: expect.objectContaining({ path: a }) },
      { event: 'project.changed', payload: expect.objectContaining({ path: b }) },
    ]);
    await services.close();

    services = new Services({ dataDir: join(dir, 'home') });
    expect(services.settings.get().lastProject).toBe(b);
    const info = await dispatch(handlers, 'app.info', {}, ctx());
    expect(info).toMatchObject({ ok: true, value: { version: '0.0.0', recentProjects: [b, a] } });
  });

  it('refuses to create over an existing file and to open a missing one', async () => {
    const a = join(dir, 'a.rlhf');
    await dispatch(handlers, 'project.create', { path: a }, ctx());
    expect(await dispatch(handlers, 'project.create', { path: a }, ctx())).toMatchObject({ ok: false, error: { code: 'exists' } });
    expect(await dispatch(handlers, 'project.open', { path: join(dir, 'missing.rlhf') }, ctx())).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
  });

  it('opens a copy of the bundled demo so the shipped file stays untouched', async () => {
    const bundled = join(dir, 'demo.rlhf');
    Project.open(bundled, { create: true }).close();
    await services.close();
    services = new Services({ dataDir: join(dir, 'home'), demoPath: bundled });
    const res = await dispatch(handlers, 'project.openDemo', {}, ctx());
    expect(res).toMatchObject({ ok: true, value: { isDemo: true, path: join(dir, 'home', 'demo.rlhf') } });
  });

  it('has no demo to open when none is bundled', async () => {
    expect(await dispatch(handlers, 'project.openDemo', {}, ctx())).toMatchObject({ ok: false, error: { code: 'no_demo' } });
  });

  it('invites an existing annotator only', async () => {
    await dispatch(handlers, 'project.create', { path: join(dir, 'a.rlhf') }, ctx());
    expect(await dispatch(handlers, 'invites.create', { annotatorId: 99 }, ctx())).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const id = services.project().annotators.ensure('bob');
    const created = await dispatch(handlers, 'invites.create', { annotatorId: id }, ctx());
    // No LAN server in this process: there is no link to hand out, only the token.
    expect(created).toMatchObject({ ok: true, value: { url: null } });
    expect(await dispatch(handlers, 'invites.list', {}, ctx())).toMatchObject({
      ok: true,
      value: [{ annotatorId: id, annotator: 'bob', revokedAt: null }],
    });
  });
});

describe('dispatch', () => {
  it('rejects malformed input with a message naming method and field', async () => {
    expect(await dispatch(handlers, 'jobs.cancel', { id: 5 }, ctx())).toEqual({
      ok: false,
      error: { code: 'invalid_input', message: expect.stringMatching(/^jobs\.cancel: id: /) },
    });
    expect(await dispatch(handlers, 'jobs.cancel', { id: 'x', extra: 1 }, ctx())).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', message: expect.stringContaining('extra') },
    });
    expect(await dispatch(handlers, 'jobs.cancel', 'not an object', ctx())).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
  });
});

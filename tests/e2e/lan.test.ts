// LAN mode in a real browser: a teammate opens their invite link from another address, the page
// and its assets load (token kept as a cookie), API calls run as their annotator, the event
// socket connects; without a token, or after revocation, they get nothing.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Services } from '../../src-main/api/services.js';
import { startServer, type RunningServer } from '../../src-main/server.js';
import { ensureRendererBuilt, RENDERER_DIR, SCREENSHOT_DIR } from './harness.js';

let dir: string;
let services: Services;
let server: RunningServer;
let context: BrowserContext;
let token: string;
let inviteId: string;

beforeAll(async () => {
  await ensureRendererBuilt();
  dir = mkdtempSync(join(tmpdir(), 'rlhf-lan-e2e-'));
  services = new Services({ dataDir: join(dir, 'home') });
  const project = services.openProject(join(dir, 'team.rlhf'), { create: true });
  const created = project.invites.create(project.annotators.ensure('alice'))!;
  token = created.token;
  inviteId = created.id;
  server = await startServer({ services, lan: true, rendererDir: RENDERER_DIR });
  context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
  });
});
afterAll(async () => {
  await context?.close().catch(() => {});
  await server?.close();
  await services?.close();
  rmSync(dir, { recursive: true, force: true });
});

// The server's LAN address is a non-loopback interface; a machine without one cannot run this.
const lanReachable = () => !server.url.startsWith('http://127.0.0.1');

describe('LAN mode in Chromium', () => {
  it('serves a teammate with an invite link, and only them', async (t) => {
    if (!lanReachable()) t.skip();
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(10_000);

    const refused = await page.goto(server.url);
    expect(refused!.status()).toBe(401);

    const apiStatuses: number[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/api/')) apiStatuses.push(r.status());
    });
    const socket = page.waitForEvent('websocket');
    const invited = await page.goto(`${server.url}/?token=${token}`);
    expect(invited!.status()).toBe(200);
    const ws = await socket;
    expect(ws.url()).toContain('/events');
    await page.waitForLoadState('networkidle');
    expect(ws.isClosed()).toBe(false);
    expect(apiStatuses.length).toBeGreaterThan(0);
    expect(apiStatuses.every((s) => s === 200)).toBe(true);

    // The page's own calls run as alice; host-only methods are refused.
    const me = await page.evaluate(async () => (await fetch('/api/annotators.me', { method: 'POST', body: '{}' })).json());
    expect(me).toMatchObject({ ok: true, value: { name: 'alice' } });
    const open = await page.evaluate(async () =>
      (await fetch('/api/project.open', { method: 'POST', body: JSON.stringify({ path: '/etc/passwd' }) })).json(),
    );
    expect(open).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'lan-invited.png') });

    services.project().invites.revoke(inviteId);
    const after = await page.evaluate(async () => (await fetch('/api/annotators.me', { method: 'POST', body: '{}' })).status);
    expect(after).toBe(401);
  });
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ApiContext } from '../../../src-main/api/context.js';
import { appHandlers } from '../../../src-main/api/handlers/app.js';
import { handlers } from '../../../src-main/api/handlers/index.js';
import { Services } from '../../../src-main/api/services.js';
import { startServer, type RunningServer } from '../../../src-main/server.js';

let dir: string;
let rendererDir: string;
let services: Services;
let server: RunningServer;

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request: unlike fetch, it sends the path and headers exactly as given. */
function raw(path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, path, method: opts.method ?? 'GET', headers: opts.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const call = (method: string, input: unknown, headers: Record<string, string> = {}) =>
  raw(`/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(input) });

function openWs(path: string, headers: Record<string, string>): Promise<{ ws: WebSocket } | { status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, { headers });
    ws.on('open', () => resolve({ ws }));
    ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode! }));
    ws.on('error', () => resolve({ status: 0 }));
  });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rlhf-server-'));
  rendererDir = join(dir, 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>RLHF Lab</title>');
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'TOP SECRET');
  services = new Services({ dataDir: join(dir, 'home') });
  services.openProject(join(dir, 'p.rlhf'), { create: true });
});
afterEach(async () => {
  await server.close();
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('browser mode on 127.0.0.1', () => {
  beforeEach(async () => {
    server = await startServer({ rendererDir, services });
  });

  it('binds 127.0.0.1 by default', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('sends a strict CSP and nosniff with pages and API answers', async () => {
    for (const res of [await raw('/'), await call('app.info', {})]) {
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['content-security-policy']).toContain("script-src 'self';");
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('serves the renderer with MIME types and falls back to index.html for app routes', async () => {
    const js = await raw('/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    const route = await raw('/data/prompts');
    expect(route.status).toBe(200);
    expect(route.body).toContain('<title>RLHF Lab</title>');
    expect((await raw('/assets/missing.js')).status).toBe(404);
  });

  it('refuses paths that leave the renderer directory', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/%00index.html']) {
      const res = await raw(path);
      expect([400, 403, 404]).toContain(res.status);
      expect(res.body).not.toContain('TOP SECRET');
    }
  });

  it('answers API calls with a Result', async () => {
    const res = await call('project.current', {});
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ ok: true, value: { name: 'p', isDemo: false } });
  });

  it('names an unknown method', async () => {
    expect(JSON.parse((await call('nope.nothing', {})).body)).toEqual({
      ok: false,
      error: { code: 'unknown_method', message: 'Unknown API method "nope.nothing".' },
    });
  });

  it('rejects malformed input with a message naming the field', async () => {
    const body = JSON.parse((await call('project.open', { path: 42 })).body);
    expect(body.ok).toBe(false);
    expect(body.error.code).toBe('invalid_input');
    expect(body.error.message).toMatch(/^project\.open: path: /);
    const extra = JSON.parse((await call('app.info', { sneaky: true })).body);
    expect(extra.error.code).toBe('invalid_input');
    const notJson = await raw('/api/app.info', { method: 'POST', body: '{nope' });
    expect(notJson.status).toBe(400);
  });

  it('refuses an oversized body with 413', async () => {
    const big = JSON.stringify({ path: 'x'.repeat(2 * 1024 * 1024) });
    const res = await raw('/api/project.open', { method: 'POST', body: big, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe('too_large');
  });

  it('refuses requests naming another host (DNS rebinding) and cross-origin calls', async () => {
    expect((await call('app.info', {}, { host: 'evil.example' })).status).toBe(403);
    expect((await call('app.info', {}, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await call('app.info', {}, { origin: `http://127.0.0.1:${server.port}` })).status).toBe(200);
  });

  it('pushes events over the WebSocket to a same-origin page', async () => {
    const opened = await openWs('/events', { origin: `http://127.0.0.1:${server.port}` });
    expect('ws' in opened).toBe(true);
    const ws = (opened as { ws: WebSocket }).ws;
    const got = new Promise((r) => ws.once('message', (m) => r(JSON.parse(String(m)))));
    services.emit('data.changed', { kinds: ['prompts'] });
    expect(await got).toEqual({ event: 'data.changed', payload: { kinds: ['prompts'] } });
    ws.close();
  });

  it('refuses a WebSocket from another origin', async () => {
    expect(await openWs('/events', { origin: 'http://evil.example' })).toEqual({ status: 403 });
    expect(await openWs('/events', {})).toEqual({ status: 403 });
  });
});

describe('LAN mode', () => {
  let token: string;
  let inviteId: string;
  let annotatorId: number;
  const seen: (number | null)[] = [];
  // Requests from another machine: any Host that is not the loopback name.
  const remote = { host: '192.0.2.10:5170' };

  beforeEach(async () => {
    seen.length = 0;
    const spy = {
      ...handlers,
      'app.info': (input: Record<string, never>, ctx: ApiContext) => {
        seen.push(ctx.annotatorId);
        return appHandlers['app.info']!(input, ctx);
      },
    };
    server = await startServer({ rendererDir, services, lan: true, host: '127.0.0.1', handlers: spy });
    annotatorId = services.project().annotators.ensure('alice');
    const res = JSON.parse((await call('invites.create', { annotatorId })).body);
    expect(res.ok).toBe(true);
    token = res.value.token;
    inviteId = res.value.id;
    expect(res.value.url).toContain(`/?token=${token}`);
  });

  it('refuses API calls without a token, with an unknown token, and with a revoked one', async () => {
    expect((await call('app.info', {}, remote)).status).toBe(401);
    expect((await call('app.info', {}, { ...remote, authorization: 'Bearer not-a-token' })).status).toBe(401);
    expect((await call('app.info', {}, { ...remote, authorization: `Bearer ${token}` })).status).toBe(200);
    expect(JSON.parse((await call('invites.revoke', { id: inviteId })).body)).toEqual({ ok: true, value: { revoked: true } });
    expect((await call('app.info', {}, { ...remote, authorization: `Bearer ${token}` })).status).toBe(401);
  });

  it('binds a valid token to its annotator', async () => {
    const res = await call('app.info', {}, { ...remote, authorization: `Bearer ${token}` });
    expect(JSON.parse(res.body).ok).toBe(true);
    expect(seen).toEqual([annotatorId]);
  });

  it('refuses pages without a token and sets a cookie when the invite link is opened', async () => {
    expect((await raw('/', { headers: remote })).status).toBe(401);
    const page = await raw(`/?token=${token}`, { headers: remote });
    expect(page.status).toBe(200);
    const cookie = String(page.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const asset = await raw('/assets/app.js', { headers: { ...remote, cookie: cookie.split(';')[0]! } });
    expect(asset.status).toBe(200);
  });

  it('keeps host-only methods from invited callers', async () => {
    const auth = { ...remote, authorization: `Bearer ${token}` };
    for (const [m, input] of [
      ['project.open', { path: join(dir, 'p.rlhf') }],
      ['invites.create', { annotatorId }],
      ['invites.list', {}],
    ] as const) {
      const body = JSON.parse((await call(m, input, auth)).body);
      expect(body).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
  });

  it('checks the token and the origin on the event WebSocket', async () => {
    const origin = `http://${remote.host}`;
    expect(await openWs('/events', { ...remote, origin })).toEqual({ status: 401 });
    expect(await openWs('/events?token=wrong', { ...remote, origin })).toEqual({ status: 401 });
    expect(await openWs(`/events?token=${token}`, { ...remote, origin: 'http://evil.example' })).toEqual({ status: 403 });
    const ok = await openWs(`/events?token=${token}`, { ...remote, origin });
    expect('ws' in ok).toBe(true);
    (ok as { ws: WebSocket }).ws.close();
  });

  it('ends an open event stream once its invite is revoked', async () => {
    const opened = await openWs(`/events?token=${token}`, { ...remote, origin: `http://${remote.host}` });
    const ws = (opened as { ws: WebSocket }).ws;
    const messages: unknown[] = [];
    ws.on('message', (m) => messages.push(JSON.parse(String(m))));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    services.emit('data.changed', { kinds: ['a'] });
    await new Promise((r) => setTimeout(r, 50));
    services.project().invites.revoke(inviteId);
    services.emit('data.changed', { kinds: ['b'] });
    expect(await closed).toBe(4401);
    expect(messages).toEqual([{ event: 'data.changed', payload: { kinds: ['a'] } }]);
  });
});

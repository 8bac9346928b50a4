// Requests that used to end or bloat `serve` (issue 19): a WebSocket upgrade to `//`, a
// malformed invite cookie, large bodies from teammates for calls they may not make, and an
// event socket that outlived its revoked invite. After each, the server must still answer.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Services } from '../../../src-main/api/services.js';
import { startServer, type RunningServer } from '../../../src-main/server.js';

let dir: string;
let services: Services;
let server: RunningServer;
const remote = (port: number) => `192.0.2.10:${port}`;

/** Sends raw bytes and resolves with the first line of the answer ('' when the connection closed without one). */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => (got += d.toString('latin1')));
    sock.on('error', () => resolve(got.split('\r\n')[0] ?? ''));
    sock.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
    sock.write(text);
    setTimeout(() => sock.destroy(), 2000).unref();
  });
}

function upgrade(port: number, path: string, headers: Record<string, string>): Promise<string> {
  const lines = [`GET ${path} HTTP/1.1`, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return rawExchange(port, lines.join('\r\n') + '\r\n\r\n');
}

function post(path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    // The server may answer and close before the whole upload is sent.
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    req.end(body);
  });
}

async function stillAnswers(): Promise<void> {
  const res = await post('/api/app.info', '{}');
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body).ok).toBe(true);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rlhf-robust-'));
  mkdirSync(join(dir, 'renderer'));
  writeFileSync(join(dir, 'renderer', 'index.html'), '<!doctype html><title>RLHF Lab</title>');
  services = new Services({ dataDir: join(dir, 'home') });
  services.openProject(join(dir, 'p.rlhf'), { create: true });
});
afterEach(async () => {
  await server.close();
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.each([false, true])('serve (lan: %s)', (lan) => {
  beforeEach(async () => {
    server = await startServer({ services, lan, host: '127.0.0.1', rendererDir: join(dir, 'renderer') });
  });

  it('answers upgrades to malformed paths with an error status and keeps serving', async () => {
    for (const path of ['//', '///', '//events', '//x:y@', '/\\\\', '*', 'http://[', '//%zz', '/%00', '/events/..', '/%2F%2F']) {
      for (const host of [`127.0.0.1:${server.port}`, remote(server.port)]) {
        const line = await upgrade(server.port, path, { Host: host, Origin: `http://${host}` });
        expect(line, `${path} via ${host}`).toMatch(/^HTTP\/1\.1 (400|401|403|404|500)/);
      }
    }
    await stillAnswers();
  });

  it('answers HTTP requests to `//` without a 500', async () => {
    const line = await rawExchange(server.port, `GET // HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);
    expect(line).toMatch(/^HTTP\/1\.1 [2-4]\d\d/);
    await stillAnswers();
  });
});

describe('serve --lan with invites', () => {
  let token: string;
  let inviteId: string;
  beforeEach(async () => {
    server = await startServer({ services, lan: true, host: '127.0.0.1', rendererDir: join(dir, 'renderer') });
    const p = services.project();
    const created = p.invites.create(p.annotators.ensure('alice'))!;
    token = created.token;
    inviteId = created.id;
  });

  it('treats a malformed percent-encoded token cookie as no token: 401, never an exception', async () => {
    for (const cookie of ['rlhf_token=%E0%A4%A', 'rlhf_token=%', 'rlhf_token=%zz', 'a=b; rlhf_token=%C0%80%']) {
      const host = remote(server.port);
      expect(await upgrade(server.port, '/events', { Host: host, Origin: `http://${host}`, Cookie: cookie })).toMatch(/^HTTP\/1\.1 401/);
      const res = await post('/api/app.info', '{}', { host, cookie });
      expect(res.status).toBe(401);
      expect(res.body).not.toContain('URIError');
    }
    await stillAnswers();
  });

  it('refuses a teammate a host-only call before reading its body, and caps teammate uploads', async () => {
    const host = remote(server.port);
    const auth = { host, authorization: `Bearer ${token}` };
    // Headers announcing 60 MB (under the host upload limit) for a host-only method, and no body yet: answered at once.
    const early = await rawExchange(
      server.port,
      `POST /api/data.importText HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 60000000\r\n\r\n`,
    );
    expect(early).toBe('HTTP/1.1 200 OK');
    // 8 MB to a host-only method: refused as forbidden, not buffered and not a 413.
    const big = Buffer.alloc(8 * 1024 * 1024, 0x20);
    const forbidden = await post('/api/data.importText', big, auth);
    expect(JSON.parse(forbidden.body).error.code).toBe('forbidden');
    const bundle = await post('/api/label.importBundle', big, auth);
    expect(JSON.parse(bundle.body).error.code).toBe('forbidden');
    // 8 MB to a method teammates may call: over their cap.
    const tooBig = await post('/api/label.saveDraft', big, auth);
    expect(tooBig.status).toBe(413);
    // The host keeps its large upload limit.
    const hostCall = await post('/api/data.importText', JSON.stringify({ name: 'x.jsonl', text: 'x'.repeat(2 * 1024 * 1024), as: 'prompts' }));
    expect(hostCall.status).toBe(200);
    await stillAnswers();
  });

  it('closes a teammate event socket as soon as the host revokes the invite', async () => {
    const host = remote(server.port);
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/events?token=${token}`, { headers: { host, origin: `http://${host}` } });
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    const res = await post('/api/invites.revoke', JSON.stringify({ id: inviteId }));
    expect(JSON.parse(res.body)).toEqual({ ok: true, value: { revoked: true } });
    expect(await closed).toBe(4401);
  });
});

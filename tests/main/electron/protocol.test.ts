import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerAppScheme, setupAppProtocol } from '../../../src-main/electron/protocol.js';
import { protocol } from './mock-electron.js';

vi.mock('electron', () => import('./mock-electron.js'));

let dir: string;
let handler: (request: Request) => Promise<Response>;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rlhf-protocol-'));
  mkdirSync(join(dir, 'renderer', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'renderer', 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(dir, 'renderer', 'assets', 'main.js'), 'export {}');
  writeFileSync(join(dir, 'secret.txt'), 'TOP SECRET');
  registerAppScheme();
  setupAppProtocol(join(dir, 'renderer'));
  handler = protocol.handlers.get('app')!;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Request does not know the app:// scheme is "standard"; these URLs are already in the form
// Chromium hands over.
const get = (url: string) => handler(new Request(url));

describe('app:// protocol', () => {
  it('is registered as a secure standard scheme', () => {
    expect(protocol.privileged).toEqual([{ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }]);
  });

  it('serves the renderer with its MIME type and the CSP', async () => {
    const page = await get('app://rlhf/index.html');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<title>app</title>');
    expect((await get('app://rlhf/assets/main.js')).headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it('serves nothing outside the renderer directory or for another host', async () => {
    for (const url of ['app://rlhf/%2e%2e/secret.txt', 'app://rlhf/..%2fsecret.txt', 'app://other/index.html']) {
      const res = await get(url);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(await res.text()).not.toContain('TOP SECRET');
    }
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SettingsStore } from '../../../src-main/api/settings.js';
import { setupSecurity } from '../../../src-main/electron/security.js';
import { createMainWindow } from '../../../src-main/electron/window.js';
import { app, BrowserWindow, FakeWebContents, session } from './mock-electron.js';

vi.mock('electron', () => import('./mock-electron.js'));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rlhf-window-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('main window', () => {
  it('is isolated and sandboxed, without Node, and loads only our app origin', () => {
    const win = createMainWindow(new SettingsStore(dir), '/app/preload.cjs') as unknown as BrowserWindow;
    expect(win.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      preload: '/app/preload.cjs',
    });
    expect(win.loadedUrl).toBe('app://rlhf/index.html');
  });

  it('remembers its size', () => {
    const settings = new SettingsStore(dir);
    const win = createMainWindow(settings, '/p.cjs') as unknown as BrowserWindow;
    win.emit('close');
    expect(new SettingsStore(dir).get().window).toEqual({ width: 1000, height: 700, maximized: false });
    const again = createMainWindow(new SettingsStore(dir), '/p.cjs') as unknown as BrowserWindow;
    expect(again.options).toMatchObject({ width: 1000, height: 700 });
  });
});

describe('security setup', () => {
  it('denies new windows, navigation away, webviews, permissions and remote requests', () => {
    setupSecurity();
    expect(app.enableSandbox).toHaveBeenCalled();
    const contents = new FakeWebContents();
    app.emit('web-contents-created', {}, contents);
    expect(contents.windowOpenHandler!({ url: 'https://example.com' })).toEqual({ action: 'deny' });

    const navigate = (url: string) => {
      const event = { preventDefault: vi.fn() };
      contents.emit('will-navigate', event, url);
      return event.preventDefault.mock.calls.length > 0;
    };
    expect(navigate('https://example.com/')).toBe(true);
    expect(navigate('file:///etc/passwd')).toBe(true);
    expect(navigate('app://rlhf/index.html')).toBe(false);
    const webview = { preventDefault: vi.fn() };
    contents.emit('will-attach-webview', webview);
    expect(webview.preventDefault).toHaveBeenCalled();

    const ses = session.defaultSession;
    const permission = vi.fn();
    (ses.setPermissionRequestHandler.mock.calls[0]![0] as (w: unknown, p: string, cb: (ok: boolean) => void) => void)(null, 'media', permission);
    expect(permission).toHaveBeenCalledWith(false);
    const blocked = vi.fn();
    const [filter, onBefore] = ses.webRequest.onBeforeRequest.mock.calls[0]! as [{ urls: string[] }, (d: unknown, cb: (r: unknown) => void) => void];
    expect(filter.urls).toEqual(expect.arrayContaining(['http://*/*', 'https://*/*']));
    onBefore({}, blocked);
    expect(blocked).toHaveBeenCalledWith({ cancel: true });
    const headers = vi.fn();
    (ses.webRequest.onHeadersReceived.mock.calls[0]![0] as (d: unknown, cb: (r: unknown) => void) => void)({ responseHeaders: {} }, headers);
    expect(headers.mock.calls[0]![0]).toMatchObject({ responseHeaders: { 'Content-Security-Policy': [expect.stringContaining("default-src 'self'")] } });
  });
});

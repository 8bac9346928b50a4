import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IPC_CALL, IPC_EVENT } from '../../../src-main/api/channels.js';
import { handlers } from '../../../src-main/api/handlers/index.js';
import { setupIpc } from '../../../src-main/api/ipc.js';
import { Services } from '../../../src-main/api/services.js';
import { FakeWebContents, ipcMain } from './mock-electron.js';

vi.mock('electron', () => import('./mock-electron.js'));

let dir: string;
let services: Services;
let ours: FakeWebContents;
let unbind: () => void;

const invoke = (sender: FakeWebContents, frame: unknown, method: unknown, input: unknown) =>
  ipcMain.handlers.get(IPC_CALL)!({ sender, senderFrame: frame }, method, input);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rlhf-ipc-'));
  services = new Services({ dataDir: dir });
  ours = new FakeWebContents();
  unbind = setupIpc({ services, handlers, origin: 'app://rlhf', trusted: () => [ours as never] });
});
afterEach(async () => {
  unbind();
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('IPC binding', () => {
  it('dispatches a call from our window and returns the Result', async () => {
    expect(await invoke(ours, ours.mainFrame, 'project.current', {})).toEqual({ ok: true, value: null });
  });

  it('refuses calls from another renderer, a subframe, or a page from another origin', async () => {
    const stranger = new FakeWebContents();
    const forbidden = { ok: false, error: { code: 'forbidden', message: expect.any(String) } };
    expect(await invoke(stranger, stranger.mainFrame, 'project.current', {})).toEqual(forbidden);
    expect(await invoke(ours, { url: 'app://rlhf/index.html', parent: ours.mainFrame }, 'project.current', {})).toEqual(forbidden);
    expect(await invoke(ours, null, 'project.current', {})).toEqual(forbidden);
    ours.mainFrame.url = 'https://evil.example/';
    expect(await invoke(ours, ours.mainFrame, 'project.current', {})).toEqual(forbidden);
  });

  it('validates every input before a handler sees it', async () => {
    expect(await invoke(ours, ours.mainFrame, 'project.open', { path: 7 })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', message: expect.stringMatching(/^project\.open: path:/) },
    });
    expect(await invoke(ours, ours.mainFrame, { not: 'a name' }, {})).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(await invoke(ours, ours.mainFrame, 'shell.exec', {})).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
  });

  it('pushes events to our window', () => {
    services.emit('data.changed', { kinds: ['prompts'] });
    expect(ours.sent).toEqual([[IPC_EVENT, 'data.changed', { kinds: ['prompts'] }]]);
  });
});

import { beforeAll, describe, expect, it, vi } from 'vitest';
import { IPC_CALL, IPC_EVENT } from '../../../src-main/api/channels.js';
import type { RlhfApi } from '../../../src-main/shared/contract.js';
import { contextBridge, ipcRenderer } from './mock-electron.js';

vi.mock('electron', () => import('./mock-electron.js'));

let api: RlhfApi;
beforeAll(async () => {
  await import('../../../src-main/preload.js');
  api = contextBridge.exposed.get('rlhf') as RlhfApi;
});

describe('preload', () => {
  it('exposes exactly one object, window.rlhf, with only call and on', () => {
    expect(contextBridge.exposeInMainWorld).toHaveBeenCalledTimes(1);
    expect([...contextBridge.exposed.keys()]).toEqual(['rlhf']);
    expect(Object.keys(api).sort()).toEqual(['call', 'on']);
  });

  it('sends calls over the one invoke channel and hands back the Result', async () => {
    ipcRenderer.invoke.mockResolvedValueOnce({ ok: true, value: { prompts: 3 } });
    expect(await api.call('project.stats', {})).toEqual({ ok: true, value: { prompts: 3 } });
    expect(ipcRenderer.invoke).toHaveBeenLastCalledWith(IPC_CALL, 'project.stats', {});
  });

  it('delivers only the subscribed event, until unsubscribed', () => {
    const got: unknown[] = [];
    const off = api.on('data.changed', (p) => got.push(p));
    ipcRenderer.emit(IPC_EVENT, {}, 'job.done', { id: 'x' });
    ipcRenderer.emit(IPC_EVENT, {}, 'data.changed', { kinds: ['prompts'] });
    off();
    ipcRenderer.emit(IPC_EVENT, {}, 'data.changed', { kinds: ['sft'] });
    expect(got).toEqual([{ kinds: ['prompts'] }]);
    expect(ipcRenderer.listenerCount(IPC_EVENT)).toBe(0);
  });
});

// The only bridge between the sandboxed renderer and the main process: one object,
// `window.rlhf`, typed as RlhfApi. No Node or Electron API reaches the page.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_CALL, IPC_EVENT } from './api/channels.js';
import type { EventName, Events, RlhfApi } from './shared/contract.js';

const api: RlhfApi = {
  call: (method, input) => ipcRenderer.invoke(IPC_CALL, method, input),
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void) {
    const forward = (_e: IpcRendererEvent, name: EventName, payload: Events[E]) => {
      if (name === event) listener(payload);
    };
    ipcRenderer.on(IPC_EVENT, forward);
    return () => {
      ipcRenderer.off(IPC_EVENT, forward);
    };
  },
};

contextBridge.exposeInMainWorld('rlhf', api);

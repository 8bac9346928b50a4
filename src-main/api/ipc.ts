// Binds the API contract to Electron IPC: one `invoke` channel for calls (validated and
// dispatched exactly like HTTP calls) and one channel for push events. Every call first checks
// that it comes from the main frame of one of our windows showing our own page.
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { IPC_CALL, IPC_EVENT } from './channels.js';
import type { ApiContext } from './context.js';
import type { Result } from '../shared/contract.js';
import { urlOrigin } from './origin.js';
import { dispatch, type Handlers } from './router.js';
import type { Services } from './services.js';

export interface IpcOptions {
  services: Services;
  handlers: Partial<Handlers<ApiContext>>;
  /** The renderers allowed to call (our windows' webContents). */
  trusted: () => WebContents[];
  /** Our page's origin, e.g. 'app://rlhf'. */
  origin: string;
}

function trustedSender(event: IpcMainInvokeEvent, opts: IpcOptions): boolean {
  const frame = event.senderFrame;
  // Only the top frame (no parent) of a trusted window may call; never an iframe inside it.
  if (!frame || frame.parent !== null) return false;
  if (!opts.trusted().includes(event.sender)) return false;
  return urlOrigin(frame.url) === opts.origin;
}

/** Returns the function that removes the binding (used on quit and in tests). */
export function setupIpc(opts: IpcOptions): () => void {
  ipcMain.handle(IPC_CALL, async (event, method: unknown, input: unknown): Promise<Result<unknown>> => {
    if (!trustedSender(event, opts)) {
      return { ok: false, error: { code: 'forbidden', message: 'IPC call from a frame that is not the app.' } };
    }
    if (typeof method !== 'string') return { ok: false, error: { code: 'invalid_input', message: 'The method name must be a string.' } };
    return dispatch(opts.handlers, method, input, { app: opts.services, annotatorId: null });
  });
  const unsubscribe = opts.services.subscribe((event, payload) => {
    for (const wc of opts.trusted()) if (!wc.isDestroyed()) wc.send(IPC_EVENT, event, payload);
  });
  return () => {
    ipcMain.removeHandler(IPC_CALL);
    unsubscribe();
  };
}

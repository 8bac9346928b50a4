// The one mock of the `electron` module for every test of the Electron glue
// (used as `vi.mock('electron', () => import('./mock-electron.js'))`).
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';

type Handler = (event: unknown, ...args: unknown[]) => unknown;

export const ipcMain = {
  handlers: new Map<string, Handler>(),
  handle: vi.fn((channel: string, fn: Handler) => {
    if (ipcMain.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    ipcMain.handlers.set(channel, fn);
  }),
  removeHandler: vi.fn((channel: string) => ipcMain.handlers.delete(channel)),
};

class FakeIpcRenderer extends EventEmitter {
  invoke = vi.fn(async (..._args: unknown[]): Promise<unknown> => ({ ok: true, value: null }));
}
export const ipcRenderer = new FakeIpcRenderer();

export const contextBridge = {
  exposed: new Map<string, unknown>(),
  exposeInMainWorld: vi.fn((key: string, api: unknown) => contextBridge.exposed.set(key, api)),
};

/** A stand-in for a renderer's webContents with its main frame. */
export class FakeWebContents extends EventEmitter {
  sent: unknown[][] = [];
  mainFrame: { url: string; parent: null };
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  constructor(url = 'app://rlhf/index.html') {
    super();
    this.mainFrame = { url, parent: null };
  }
  send(...args: unknown[]) {
    this.sent.push(args);
  }
  isDestroyed() {
    return false;
  }
  setWindowOpenHandler(fn: (details: { url: string }) => { action: string }) {
    this.windowOpenHandler = fn;
  }
}

export class BrowserWindow extends EventEmitter {
  static created: BrowserWindow[] = [];
  webContents = new FakeWebContents();
  loadedUrl: string | null = null;
  constructor(readonly options: Record<string, unknown>) {
    super();
    BrowserWindow.created.push(this);
  }
  loadURL(url: string) {
    this.loadedUrl = url;
    return Promise.resolve();
  }
  progress: number[] = [];
  setProgressBar(value: number) {
    this.progress.push(value);
  }
  isDestroyed() {
    return false;
  }
  maximize() {}
  show() {}
  isMaximized() {
    return false;
  }
  getNormalBounds() {
    return { x: 0, y: 0, width: 1000, height: 700 };
  }
}

export const app = new (class extends EventEmitter {
  enableSandbox = vi.fn();
})();

const webRequest = { onBeforeRequest: vi.fn(), onHeadersReceived: vi.fn() };
export const session = {
  defaultSession: { setPermissionRequestHandler: vi.fn(), setPermissionCheckHandler: vi.fn(), webRequest },
};

export const protocol = {
  privileged: [] as unknown[],
  handlers: new Map<string, (request: Request) => Promise<Response>>(),
  registerSchemesAsPrivileged: vi.fn((schemes: unknown[]) => protocol.privileged.push(...schemes)),
  handle: vi.fn((scheme: string, fn: (request: Request) => Promise<Response>) => protocol.handlers.set(scheme, fn)),
};

/** Electron's net.fetch reads file:// URLs; Node's fetch does not, so the mock reads the file. */
export const net = {
  fetch: vi.fn(async (url: string) => new Response(await readFile(fileURLToPath(url)))),
};

export const Menu = {
  current: null as { template: unknown[] } | null,
  buildFromTemplate: vi.fn((template: unknown[]) => ({ template })),
  setApplicationMenu: vi.fn((menu: { template: unknown[] }) => (Menu.current = menu)),
};

export const dialog = {
  showErrorBox: vi.fn(),
  showOpenDialog: vi.fn(async () => ({ canceled: true, filePaths: [] as string[] })),
  showSaveDialog: vi.fn(async () => ({ canceled: true, filePath: undefined as string | undefined })),
  showMessageBox: vi.fn(async () => ({ response: 0 })),
};

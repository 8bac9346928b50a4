// The Electron entry point: wires the small setupX() modules together once the app is ready.
import { app, BrowserWindow } from 'electron';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { handlers } from './api/handlers/index.js';
import { setupIpc } from './api/ipc.js';
import { Services } from './api/services.js';
import { setupMenu } from './electron/menu.js';
import { setupTaskbarProgress } from './electron/progress.js';
import { APP_ORIGIN, registerAppScheme, setupAppProtocol } from './electron/protocol.js';
import { setupSecurity } from './electron/security.js';
import { createMainWindow } from './electron/window.js';
import { RENDERER_DIR } from './paths.js';

const here = dirname(fileURLToPath(import.meta.url));
registerAppScheme();

async function onReady(): Promise<void> {
  setupSecurity();
  setupAppProtocol(RENDERER_DIR);
  const services = new Services({ dataDir: app.getPath('userData'), version: app.getVersion() });
  const last = services.settings.get().lastProject;
  try {
    // First launch (no last project): the demo project, so every view has real content at once.
    if (last && existsSync(last)) services.openProject(last);
    else if (!last && services.demoPath()) services.openDemo();
  } catch {
    // A damaged or newer-version file: start without a project; the user picks another.
  }

  let win: BrowserWindow | null = createMainWindow(services.settings, join(here, 'preload.cjs'));
  win.on('closed', () => (win = null));
  setupIpc({ services, handlers, origin: APP_ORIGIN, trusted: () => (win ? [win.webContents] : []) });
  setupMenu({ services, handlers, window: () => win });
  setupTaskbarProgress(win, services);

  // One app per user: a second launch brings this window forward instead.
  app.on('second-instance', () => {
    if (win?.isMinimized()) win.restore();
    win?.focus();
  });
  app.on('window-all-closed', () => app.quit());
  // Let running jobs stop and the project close cleanly before the process exits.
  let closed = false;
  app.on('before-quit', (event) => {
    if (closed) return;
    event.preventDefault();
    void services.close().finally(() => {
      closed = true;
      app.quit();
    });
  });
}

if (!app.requestSingleInstanceLock()) app.quit();
else void app.whenReady().then(onReady);

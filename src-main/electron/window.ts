// The main window: sandboxed, isolated, no Node in the page; its size is remembered.
import { BrowserWindow } from 'electron';
import type { SettingsStore } from '../api/settings.js';
import { APP_ORIGIN } from './protocol.js';

export function createMainWindow(settings: SettingsStore, preloadPath: string): BrowserWindow {
  const saved = settings.get().window;
  const win = new BrowserWindow({
    width: saved?.width ?? 1280,
    height: saved?.height ?? 820,
    minWidth: 800,
    minHeight: 560,
    title: 'RLHF Lab',
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  if (saved?.maximized) win.maximize();
  win.once('ready-to-show', () => win.show());
  win.on('close', () => {
    const { width, height } = win.getNormalBounds();
    settings.update({ window: { width, height, maximized: win.isMaximized() } });
  });
  void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}

// Electron's security checklist, applied to every web contents the app creates:
// no remote content, no permissions, no new windows, no navigation away, no <webview>,
// and the strict CSP on every response.
import { app, session, type WebContents } from 'electron';
import { urlOrigin } from '../api/origin.js';
import { CSP } from '../http/headers.js';
import { APP_ORIGIN } from './protocol.js';

const isOurs = (url: string) => urlOrigin(url) === APP_ORIGIN;

function harden(contents: WebContents): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (event, url) => {
    if (!isOurs(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isOurs(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

export function setupSecurity(): void {
  app.enableSandbox();
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  // The app never loads anything from the network.
  ses.webRequest.onBeforeRequest({ urls: ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*'] }, (_details, callback) =>
    callback({ cancel: true }),
  );
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  app.on('web-contents-created', (_event, contents) => harden(contents));
}

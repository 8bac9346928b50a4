// The renderer is served from app://rlhf/ rather than file://: a real origin for the CSP and
// the IPC sender check, and files only from the built renderer directory (http/static.ts).
import { net, protocol } from 'electron';
import { pathToFileURL } from 'node:url';
import { CSP } from '../http/headers.js';
import { mimeType, resolveStaticFile } from '../http/static.js';

export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://rlhf`;

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

export function setupAppProtocol(rendererDir: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== 'rlhf') return new Response('Not found', { status: 404 });
    const found = await resolveStaticFile(rendererDir, url.pathname);
    if ('status' in found) return new Response(found.message, { status: found.status });
    const file = await net.fetch(pathToFileURL(found.file).href);
    return new Response(file.body, {
      status: 200,
      headers: { 'Content-Type': mimeType(found.file), 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' },
    });
  });
}

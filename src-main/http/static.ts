// Serves the built renderer, and nothing outside it. Unknown paths without a file extension
// get index.html (the renderer routes itself); unknown files are 404. Shared by browser mode
// and the desktop app's app:// protocol.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function mimeType(file: string): string {
  return MIME[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function inside(root: string, file: string): boolean {
  const rel = relative(root, file);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

async function fileIn(root: string, file: string): Promise<string | null> {
  try {
    // realpath also catches symlinks that point out of the renderer directory.
    const real = await realpath(file);
    if (!inside(root, real)) return null;
    return (await stat(real)).isFile() ? real : null;
  } catch {
    return null;
  }
}

export type StaticLookup = { file: string; size: number } | { status: 400 | 403 | 404 | 503; message: string };

/** Maps a URL path (still percent-encoded) to a file inside `rootDir`, or the status to answer. */
export async function resolveStaticFile(rootDir: string, pathname: string): Promise<StaticLookup> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { status: 400, message: 'Bad path' };
  }
  const root = await realpath(rootDir).catch(() => null);
  if (!root) return { status: 503, message: 'The renderer is not built (run `npm run build:renderer`).' };
  const target = resolve(join(root, decoded));
  if (decoded.includes('\0') || !inside(root, target)) return { status: 403, message: 'Forbidden' };
  let file = await fileIn(root, decoded.endsWith('/') ? join(target, 'index.html') : target);
  if (!file && extname(decoded) === '') file = await fileIn(root, join(root, 'index.html'));
  if (!file) return { status: 404, message: 'Not found' };
  return { file, size: (await stat(file)).size };
}

export async function serveStatic(rootDir: string, pathname: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  const found = await resolveStaticFile(rootDir, pathname);
  if ('status' in found) {
    res.writeHead(found.status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(found.message);
    return;
  }
  res.writeHead(200, {
    'Content-Type': mimeType(found.file),
    'Content-Length': found.size,
    // Vite fingerprints assets; index.html must always be fresh.
    'Cache-Control': found.file.endsWith('index.html') ? 'no-cache' : 'public, max-age=3600',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(found.file).pipe(res);
}

// Browser mode: the same API as the desktop app over HTTP + WebSocket, and the built renderer
// as static files. `POST /api/<method>` with the JSON input → JSON Result; events on `/events`.
// 127.0.0.1 only unless `lan` (then all interfaces, invite tokens required; see http/auth.ts).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { networkInterfaces } from 'node:os';
import { WebSocketServer, type WebSocket } from 'ws';
import { allowedRemotely } from './api/access.js';
import type { ApiContext } from './api/context.js';
import { handlers as allHandlers } from './api/handlers/index.js';
import { dispatch, isMethod, type Handlers } from './api/router.js';
import { SESSION_ID, Services } from './api/services.js';
import { defaultDataDir } from './api/settings.js';
import { appVersion } from './app-version.js';
import { identify, requestUrl, sameOrigin, tokenOf, TOKEN_COOKIE, type Caller } from './http/auth.js';
import { BodyTooLarge, readBody } from './http/body.js';
import { sendJson, setSecurityHeaders } from './http/headers.js';
import { serveStatic } from './http/static.js';
import { RENDERER_DIR } from './paths.js';

const MB = 1024 * 1024;
/** Uploads of whole files (imports up to 64 MB, annotation bundles up to 256 MB, as their schemas allow); every other call is small. */
const BODY_LIMITS: Record<string, number> = { 'data.importText': 65 * MB, 'label.importBundle': 257 * MB };
const DEFAULT_BODY_LIMIT = 1 * MB;
/** Every call a teammate may make is small (judgments, drafts, guidelines): their bodies stop here. */
const TEAMMATE_BODY_LIMIT = 1 * MB;

/** An exception inside a request or upgrade handler is logged and answered; it never ends the process. */
function logHandlerError(where: string, e: unknown): void {
  console.error(`rlhf-lab serve: ${where}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
}

export interface ServerOptions {
  projectPath?: string;
  port?: number;
  host?: string;
  lan?: boolean;
  rendererDir?: string;
  /** Use these services instead of creating them (the CLI passes its own; tests inject a job registry). */
  services?: Services;
  handlers?: Partial<Handlers<ApiContext>>;
}

export interface RunningServer {
  url: string;
  port: number;
  services: Services;
  close(): Promise<void>;
}

/** The first non-internal IPv4 address: what teammates type in their browsers. */
function lanAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const lan = opts.lan ?? false;
  const host = opts.host ?? (lan ? '0.0.0.0' : '127.0.0.1');
  const rendererDir = opts.rendererDir ?? RENDERER_DIR;
  const handlers = opts.handlers ?? allHandlers;
  const services = opts.services ?? new Services({ dataDir: defaultDataDir(), version: appVersion() });
  if (opts.projectPath) services.openProject(opts.projectPath);

  // An invite belongs to the project it was made in, whichever tab has that project open.
  const annotatorFor = (token: string): number | null => services.findInvite(token)?.annotatorId ?? null;
  /** What one caller reaches: a teammate, the project of their invite; the host, their tab's project. */
  const servicesFor = (req: IncomingMessage, url: URL, caller: Caller): Services => {
    if (caller.kind === 'invited') {
      const invite = services.findInvite(tokenOf(req, url) ?? '');
      return invite ? services.forProject(invite.path) : services;
    }
    const session = req.headers['x-rlhf-session'] ?? url.searchParams.get('session');
    return services.forSession(typeof session === 'string' ? session : null);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      // The client went away mid-body: nobody to answer, nothing wrong here.
      if ((e as NodeJS.ErrnoException).code === 'ECONNRESET') {
        res.destroy();
        return;
      }
      logHandlerError(`${req.method} ${req.url}`, e);
      // The details went to the log; the caller learns only that it failed.
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: { code: 'internal', message: 'The server could not handle this request.' } });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    setSecurityHeaders(res);
    const url = requestUrl(req);
    if (!url) {
      req.resume();
      sendJson(res, 400, { ok: false, error: { code: 'bad_request', message: 'The request path is not valid.' } });
      return;
    }
    const caller = identify(req, url, lan, annotatorFor);
    if (caller.kind === 'refused') {
      req.resume();
      sendJson(res, caller.status, { ok: false, error: { code: 'unauthorized', message: caller.message } });
      return;
    }
    if (url.pathname.startsWith('/api/')) return api(req, res, url, caller);
    // A valid `?token=` on the page becomes a same-site cookie so the page's own asset and
    // API requests carry it without the renderer attaching it everywhere.
    if (caller.kind === 'invited' && url.searchParams.get('token')) {
      res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${encodeURIComponent(tokenOf(req, url)!)}; HttpOnly; SameSite=Strict; Path=/`);
    }
    return serveStatic(rendererDir, url.pathname, req, res);
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL, caller: Caller): Promise<void> {
    const name = url.pathname.slice(5);
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('Allow', 'POST');
      sendJson(res, 405, { ok: false, error: { code: 'method_not_allowed', message: 'API calls are POST requests.' } });
      return;
    }
    if (!sameOrigin(req)) {
      req.resume();
      sendJson(res, 403, { ok: false, error: { code: 'forbidden', message: 'Cross-origin API calls are refused.' } });
      return;
    }
    const annotatorId = caller.kind === 'invited' ? caller.annotatorId : null;
    // Decided from the URL before reading the body, so a teammate cannot make the host buffer
    // a large upload for a call they may not make.
    if (annotatorId !== null && isMethod(name) && !allowedRemotely(name)) {
      req.resume();
      sendJson(res, 200, { ok: false, error: { code: 'forbidden', message: `"${name}" is only available on the host machine.` } });
      return;
    }
    if (!isMethod(name)) {
      req.resume();
      sendJson(res, 200, { ok: false, error: { code: 'unknown_method', message: `Unknown API method "${name}".` } });
      return;
    }
    let body: string;
    try {
      body = await readBody(req, annotatorId !== null ? TEAMMATE_BODY_LIMIT : (BODY_LIMITS[name] ?? DEFAULT_BODY_LIMIT));
    } catch (e) {
      if (!(e instanceof BodyTooLarge)) throw e;
      req.resume();
      sendJson(res, 413, { ok: false, error: { code: 'too_large', message: `The request body is too large for ${name}.` } });
      return;
    }
    let input: unknown;
    try {
      input = body.trim() === '' ? {} : JSON.parse(body);
    } catch {
      sendJson(res, 400, { ok: false, error: { code: 'invalid_json', message: 'The request body is not valid JSON.' } });
      return;
    }
    sendJson(res, 200, await dispatch(handlers, name, input, { app: servicesFor(req, url, caller), annotatorId }));
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  /** Open event sockets, with the invite token of invited ones (null for the local user) and the tab's session. */
  const clients = new Map<WebSocket, { token: string | null; session: string | null }>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node hands the upgrade socket over without its error listener: a client that resets it
    // would otherwise raise an uncaught 'error'.
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, text: string) => {
      if (socket.writable) socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      else socket.destroy();
    };
    try {
      const url = requestUrl(req);
      if (!url) return refuse(400, 'Bad Request');
      if (url.pathname !== '/events') return refuse(404, 'Not Found');
      const caller = identify(req, url, lan, annotatorFor);
      if (caller.kind === 'refused') return refuse(401, 'Unauthorized');
      // Unlike fetch, a WebSocket is not bound by the same-origin policy: check Origin ourselves.
      if (!req.headers.origin || !sameOrigin(req)) return refuse(403, 'Forbidden');
      wss.handleUpgrade(req, socket, head, (ws) => {
        const session = url.searchParams.get('session');
        clients.set(ws, { token: caller.kind === 'invited' ? tokenOf(req, url) : null, session: session && SESSION_ID.test(session) ? session : null });
        ws.on('close', () => clients.delete(ws));
        ws.on('error', () => clients.delete(ws));
      });
    } catch (e) {
      logHandlerError(`upgrade ${req.url}`, e);
      refuse(500, 'Internal Server Error');
    }
  });
  const unsubscribe = services.subscribe((event, payload, audience) => {
    const msg = JSON.stringify({ event, payload });
    for (const [ws, { token, session }] of clients) {
      if (ws.readyState !== ws.OPEN) continue;
      // A project switch reaches the tab that made it, or the connections following the process's project.
      if (audience && 'session' in audience && session !== audience.session) continue;
      if (audience && 'followers' in audience && session !== null && services.isBound(session)) continue;
      // A revoked invite also ends the teammate's open event stream.
      if (token !== null && annotatorFor(token) === null) ws.close(4401, 'invite revoked');
      else ws.send(msg);
    }
  });

  try {
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(opts.port ?? 0, host, () => res());
    });
  } catch (e) {
    unsubscribe();
    if (!opts.services) await services.close();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${lan ? lanAddress() : host}:${port}`;
  if (lan) services.lanUrl = url;

  return {
    url,
    port,
    services,
    async close() {
      unsubscribe();
      for (const ws of clients.keys()) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((res) => server.close(() => res()));
      if (lan) services.lanUrl = null;
      if (!opts.services) await services.close();
    },
  };
}

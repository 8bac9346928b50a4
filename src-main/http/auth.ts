// Who is calling browser mode. On 127.0.0.1 the caller is the local user; the Host header
// must name the loopback address so a web page cannot reach the API by DNS rebinding.
// In LAN mode every request from another machine needs an invite token (Authorization
// header, `?token=`, or the cookie set when a page was opened with a valid `?token=`).
import type { IncomingMessage } from 'node:http';

export const TOKEN_COOKIE = 'rlhf_token';

export type Caller = { kind: 'local' } | { kind: 'invited'; annotatorId: number } | { kind: 'refused'; status: number; message: string };

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function hostName(hostHeader: string | undefined): string | null {
  if (!hostHeader) return null;
  try {
    return new URL(`http://${hostHeader}`).hostname;
  } catch {
    return null;
  }
}

function isLoopbackAddress(addr: string | undefined): boolean {
  return addr === '127.0.0.1' || addr === '::1' || addr === '::ffff:127.0.0.1';
}

export function tokenOf(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const q = url.searchParams.get('token');
  if (q) return q;
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === TOKEN_COOKIE) return decodeCookie(v.join('='));
  }
  return null;
}

/** A cookie value as the browser stored it; a malformed percent-encoding is no token (so a 401), never an exception. */
function decodeCookie(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}

/**
 * The request target as a URL, or null when it is not an origin-form path (`/…`). Parsed against
 * a fixed origin rather than as a relative reference: `new URL('//', base)` reads `//` as a
 * host-less authority and throws.
 */
export function requestUrl(req: IncomingMessage): URL | null {
  const target = req.url ?? '/';
  if (!target.startsWith('/')) return null;
  try {
    return new URL(`http://localhost${target}`);
  } catch {
    return null;
  }
}

export function identify(
  req: IncomingMessage,
  url: URL,
  lan: boolean,
  annotatorFor: (token: string) => number | null,
): Caller {
  const host = hostName(req.headers.host);
  const fromLoopback = isLoopbackAddress(req.socket.remoteAddress) && host !== null && LOOPBACK_HOSTS.has(host);
  if (fromLoopback) return { kind: 'local' };
  if (!lan) return { kind: 'refused', status: 403, message: 'Browser mode answers only on 127.0.0.1 / localhost.' };
  const token = tokenOf(req, url);
  if (!token) return { kind: 'refused', status: 401, message: 'An invite token is required. Ask the host for an invite link.' };
  const annotatorId = annotatorFor(token);
  if (annotatorId === null) return { kind: 'refused', status: 401, message: 'This invite is not valid (unknown or revoked).' };
  return { kind: 'invited', annotatorId };
}

/** Browsers send Origin on cross-site requests: it must be this server. */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

// The renderer's one door to the main process. In Electron the preload exposes `window.rlhf`;
// in browser mode the same contract travels as HTTP `POST /api/<method>` plus a WebSocket at
// `/events`. Views never know which transport they have.
import type {
  ApiError,
  EventName,
  Events,
  Input,
  MethodName,
  Output,
  Result,
  RlhfApi,
} from '../../src-main/shared/contract.js';

declare global {
  interface Window {
    rlhf?: RlhfApi;
  }
}

/** A failed call, carrying the server's message (meant for the user) and stable code. */
export class ApiCallError extends Error {
  readonly code: string;
  readonly details: unknown;
  constructor(error: ApiError) {
    super(error.message);
    this.name = 'ApiCallError';
    this.code = error.code;
    this.details = error.details;
  }
}

/** Unwraps a Result: the value, or an ApiCallError whose message the view can show as is. */
export function unwrap<T>(result: Result<T>, method?: string): T {
  if (result.ok) return result.value;
  // "models.generate: temperature: too small: at least 0" reads as "temperature: too small: at least 0" in the app.
  const e = result.error;
  const prefix = method ? `${method}: ` : null;
  throw new ApiCallError(e.code === 'invalid_input' && prefix && e.message.startsWith(prefix) ? { ...e, message: e.message.slice(prefix.length) } : e);
}

export type ConnectionState = 'ipc' | 'connecting' | 'open' | 'reconnecting';

export interface Client {
  readonly transport: 'electron' | 'http';
  call<M extends MethodName>(method: M, input: Input<M>): Promise<Output<M>>;
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
  /** Notified whenever the event channel opens or drops (always 'ipc' in Electron). */
  onConnection(listener: (state: ConnectionState) => void): () => void;
}

const TOKEN_KEY = 'rlhf-lab.token';

/**
 * The LAN invite token: taken from `?token=` once, then kept in sessionStorage so reloads and
 * in-app navigation keep working; it is removed from the visible URL so it is not shared by
 * copying the address.
 */
export function takeToken(loc: Location, storage: Storage, history: History): string | null {
  const url = new URL(loc.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    storage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return storage.getItem(TOKEN_KEY);
}

const SESSION_KEY = 'rlhf-lab.session';

/**
 * This tab's session id (sessionStorage is per tab and survives a reload): the server keeps the
 * project this tab opened for it, so a switch here does not move other tabs or teammates.
 */
export function tabSession(storage: Storage): string {
  let id = storage.getItem(SESSION_KEY);
  if (!id) {
    // Not crypto.randomUUID: a teammate's LAN address (plain http) is not a secure context and lacks it.
    id = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
    storage.setItem(SESSION_KEY, id);
  }
  return id;
}

/** Reconnect delays grow 0.5 s, 1 s, 2 s … up to 10 s, so a restarted server is found quickly. */
export function reconnectDelay(attempt: number): number {
  return Math.min(10_000, 500 * 2 ** Math.max(0, attempt));
}

type AnyListener = (payload: unknown) => void;

class Listeners {
  #byEvent = new Map<string, Set<AnyListener>>();
  add(event: string, fn: AnyListener): () => void {
    let set = this.#byEvent.get(event);
    if (!set) this.#byEvent.set(event, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }
  emit(event: string, payload: unknown): void {
    for (const fn of this.#byEvent.get(event) ?? []) fn(payload);
  }
}

function electronClient(api: RlhfApi): Client {
  return {
    transport: 'electron',
    call: async (method, input) => unwrap(await api.call(method, input), method),
    on: (event, listener) => api.on(event, listener),
    onConnection(listener) {
      listener('ipc');
      return () => {};
    },
  };
}

function httpClient(origin: string, token: string | null, session: string): Client {
  const events = new Listeners();
  const connection = new Listeners();
  let state: ConnectionState = 'connecting';
  let attempt = 0;
  const setState = (s: ConnectionState) => {
    state = s;
    connection.emit('state', s);
  };

  const connect = () => {
    const wsUrl = new URL('/events', origin);
    wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
    if (token) wsUrl.searchParams.set('token', token);
    wsUrl.searchParams.set('session', session);
    const ws = new WebSocket(wsUrl);
    ws.onopen = () => {
      attempt = 0;
      setState('open');
    };
    ws.onmessage = (msg) => {
      const data: unknown = JSON.parse(String(msg.data));
      if (data && typeof data === 'object' && 'event' in data && typeof data.event === 'string') {
        events.emit(data.event, (data as { payload?: unknown }).payload);
      }
    };
    ws.onclose = () => {
      setState('reconnecting');
      setTimeout(connect, reconnectDelay(attempt++));
    };
  };
  connect();

  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-rlhf-session': session };
  if (token) headers.authorization = `Bearer ${token}`;

  return {
    transport: 'http',
    async call(method, input) {
      let res: Response;
      try {
        res = await fetch(new URL(`/api/${method}`, origin), {
          method: 'POST',
          headers,
          body: JSON.stringify(input ?? {}),
        });
      } catch {
        throw new ApiCallError({ code: 'offline', message: 'The RLHF Lab server cannot be reached. Is `rlhf-lab serve` still running?' });
      }
      if (!res.ok && !res.headers.get('content-type')?.includes('json')) {
        throw new ApiCallError({ code: `http_${res.status}`, message: `The server answered ${res.status} ${res.statusText}.` });
      }
      return unwrap((await res.json()) as Result<never>, method);
    },
    on: (event, listener) => events.add(event, listener as AnyListener),
    onConnection(listener) {
      listener(state);
      return connection.add('state', listener as AnyListener);
    },
  };
}

/** Picks the transport: the preload's object in Electron, HTTP + WebSocket in a browser. */
export function createClient(win: Window = window): Client {
  if (win.rlhf) return electronClient(win.rlhf);
  return httpClient(win.location.origin, takeToken(win.location, win.sessionStorage, win.history), tabSession(win.sessionStorage));
}

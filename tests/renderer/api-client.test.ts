// The renderer's API client: typed errors from {ok:false}, the LAN token's journey from the URL
// into sessionStorage, and the reconnect schedule of the event socket.
import { describe, expect, it } from 'vitest';
import { ApiCallError, reconnectDelay, takeToken, unwrap } from '../../src-renderer/lib/api.js';

class MemoryStorage {
  #m = new Map<string, string>();
  getItem(k: string) {
    return this.#m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.#m.set(k, v);
  }
}

function fakeLocation(href: string) {
  const replaced: string[] = [];
  const history = { state: null, replaceState: (_s: unknown, _t: string, url: string) => replaced.push(url) };
  return { location: { href } as Location, history: history as unknown as History, replaced };
}

describe('unwrap', () => {
  it('returns the value of a successful call', () => {
    expect(unwrap({ ok: true, value: 42 })).toBe(42);
  });

  it('throws the server message and code for a failed call', () => {
    const fail = () => unwrap({ ok: false, error: { code: 'invalid_input', message: 'data.jsonl:3: "chosen" is missing' } });
    expect(fail).toThrow(ApiCallError);
    expect(fail).toThrow('data.jsonl:3: "chosen" is missing');
    try {
      fail();
    } catch (e) {
      expect((e as ApiCallError).code).toBe('invalid_input');
    }
  });
});

describe('LAN token', () => {
  it('moves ?token= into sessionStorage and out of the visible URL', () => {
    const storage = new MemoryStorage() as unknown as Storage;
    const { location, history, replaced } = fakeLocation('http://10.0.0.5:4173/?token=abc123&x=1#label');
    expect(takeToken(location, storage, history)).toBe('abc123');
    expect(storage.getItem('rlhf-lab.token')).toBe('abc123');
    expect(replaced).toEqual(['/?x=1#label']);
  });

  it('keeps the stored token across reloads without ?token=', () => {
    const storage = new MemoryStorage() as unknown as Storage;
    storage.setItem('rlhf-lab.token', 'kept');
    const { location, history, replaced } = fakeLocation('http://10.0.0.5:4173/');
    expect(takeToken(location, storage, history)).toBe('kept');
    expect(replaced).toEqual([]);
  });

  it('has no token on the local machine', () => {
    const { location, history } = fakeLocation('http://127.0.0.1:4173/');
    expect(takeToken(location, new MemoryStorage() as unknown as Storage, history)).toBeNull();
  });
});

describe('event socket reconnect', () => {
  it('retries quickly at first, then backs off to 10 s', () => {
    expect([0, 1, 2, 3].map(reconnectDelay)).toEqual([500, 1000, 2000, 4000]);
    expect(reconnectDelay(10)).toBe(10_000);
  });
});

describe('validation messages in the app', () => {
  it('drop the method name the API puts in front, keeping the field and what it allows', () => {
    const fail = () => unwrap({ ok: false, error: { code: 'invalid_input', message: 'models.generate: temperature: too small: at least 0' } }, 'models.generate');
    expect(fail).toThrow(expect.objectContaining({ message: 'temperature: too small: at least 0' }));
  });
});

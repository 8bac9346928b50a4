// Uploads in browser mode are decoded in the page: another encoding is refused, naming the line.
import { describe, expect, it } from 'vitest';
import { decodeUtf8, EncodingError } from '../../src-renderer/lib/utf8.js';

describe('decodeUtf8', () => {
  it('decodes UTF-8 text and drops a byte-order mark', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"prompt":"héllo ✓"}\n')]);
    expect(decodeUtf8('a.jsonl', bytes)).toBe('{"prompt":"héllo ✓"}\n');
  });

  it('refuses Latin-1 text and names the first bad line', () => {
    const latin1 = new Uint8Array([...new TextEncoder().encode('{"a":1}\n{"b":2}\n'), 0x7b, 0x22, 0x63, 0xe9, 0x22, 0x7d, 0x0a]);
    expect(() => decodeUtf8('old.jsonl', latin1)).toThrow(EncodingError);
    expect(() => decodeUtf8('old.jsonl', latin1)).toThrow(/^old\.jsonl:3: the file is not UTF-8 text/);
  });
});

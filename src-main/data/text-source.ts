// Reads a data file (or an uploaded text's bytes) as UTF-8 text in pieces of about 1 MB with
// bounded memory, checking the encoding as it goes: invalid UTF-8 is reported with its line.
// Pieces end at a line break when the line fits in a piece; a longer line is cut at a character
// boundary, so even a 200 MB single-line JSON array streams.
import { isUtf8 } from 'node:buffer';
import { open, stat } from 'node:fs/promises';
import { DataError } from './errors.js';

export type Source = { name: string; path: string } | { name: string; bytes: Uint8Array };

export interface TextPiece {
  text: string;
  /** Line number (1-based) at the start of `text`. */
  line: number;
  /** Bytes read so far, for progress. */
  bytes: number;
}

const CHUNK = 1 << 20;
const NL = 0x0a;

export async function sourceSize(source: Source): Promise<number> {
  return 'bytes' in source ? source.bytes.length : (await stat(source.path)).size;
}

async function* rawChunks(source: Source): AsyncGenerator<Uint8Array> {
  if ('bytes' in source) {
    for (let i = 0; i < source.bytes.length; i += CHUNK) yield source.bytes.subarray(i, i + CHUNK);
    return;
  }
  let handle;
  try {
    handle = await open(source.path, 'r');
  } catch (e) {
    throw new DataError(source.name, null, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buf, 0, CHUNK, null));
      } catch (e) {
        throw new DataError(source.name, null, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      }
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** Where a complete UTF-8 prefix of `b` ends (a multi-byte character may be split at the end). */
function charBoundary(b: Uint8Array): number {
  let i = b.length - 1;
  let back = 0;
  while (i >= 0 && back < 3 && (b[i]! & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i < 0) return b.length;
  const lead = b[i]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return b.length - i >= need ? b.length : i;
}

function countNewlines(b: Uint8Array): number {
  let n = 0;
  for (let i = b.indexOf(NL); i !== -1; i = b.indexOf(NL, i + 1)) n++;
  return n;
}

export async function* readText(source: Source): AsyncGenerator<TextPiece> {
  let pending: Buffer = Buffer.alloc(0);
  let line = 1;
  let bytes = 0;
  let first = true;

  const decode = (piece: Buffer): string => {
    if (isUtf8(piece)) return piece.toString('utf8');
    // Find the offending line to name it.
    let start = 0;
    let at = line;
    for (;;) {
      const end = piece.indexOf(NL, start);
      const part = piece.subarray(start, end === -1 ? piece.length : end);
      if (!isUtf8(part)) break;
      if (end === -1) break;
      start = end + 1;
      at++;
    }
    throw new DataError(source.name, at, 'invalid UTF-8 (save the file as UTF-8)');
  };

  for await (let chunk of rawChunks(source)) {
    bytes += chunk.length;
    if (first) {
      first = false;
      if ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff)) {
        throw new DataError(source.name, 1, 'the file is UTF-16; save it as UTF-8');
      }
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    const data = pending.length ? Buffer.concat([pending, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const lastNl = data.lastIndexOf(NL);
    let cut: number;
    if (lastNl !== -1) cut = lastNl + 1;
    else if (data.length >= CHUNK) cut = charBoundary(data);
    else cut = 0;
    if (cut === 0) {
      pending = data;
      continue;
    }
    const piece = data.subarray(0, cut);
    // Copy the remainder so the big chunk buffer can be freed.
    pending = Buffer.from(data.subarray(cut));
    const text = decode(piece);
    yield { text, line, bytes };
    line += countNewlines(piece);
  }
  if (pending.length) yield { text: decode(pending), line, bytes };
}

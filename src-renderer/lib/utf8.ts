// Decodes an uploaded file as UTF-8, refusing other encodings with the first bad line named,
// the same way the server's file reader reports them (the API only accepts text in browser mode).

export class EncodingError extends Error {}

export function decodeUtf8(name: string, bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new EncodingError(`${name}:${firstBadLine(bytes)}: the file is not UTF-8 text. Re-save it as UTF-8 and import it again.`);
  }
}

/** 1-based line of the first invalid byte sequence (only called on the error path). */
function firstBadLine(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== 0x0a) continue;
    try {
      decoder.decode(bytes.subarray(start, i));
    } catch {
      return line;
    }
    line++;
    start = i + 1;
  }
  return line;
}

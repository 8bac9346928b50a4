// The safetensors format: 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}, then the
// raw little-endian tensor bytes. Hand-written: the format is a page long and no maintained npm
// package reads and writes it (with F16/BF16 conversion) without pulling in a framework.

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

const BYTES_PER: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };
/** On little-endian hosts (all that Node runs on in practice) float32 data is copied as bytes. */
const LITTLE_ENDIAN = new Uint8Array(new Float32Array([1]).buffer)[3] === 0x3f;
/** The header may not exceed this (the reference implementation's limit): guards against garbage input. */
const MAX_HEADER = 100_000_000;

/** Serialises float32 tensors; names are sorted so equal weights give equal bytes (and sha256). */
export function writeSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`tensor ${name}: shape [${t.shape}] holds ${n} values, data has ${t.data.length}`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + n * 4] };
    offset += n * 4;
  }
  let headerText = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  headerText += ' '.repeat((8 - ((8 + Buffer.byteLength(headerText)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const d = tensors[name]!.data;
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
      pos += d.byteLength;
    } else for (let i = 0; i < d.length; i++, pos += 4) view.setFloat32(pos, d[i]!, true);
  }
  return out;
}

/** Parses safetensors bytes; F32, F16 and BF16 tensors are returned as Float32Array. */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) throw new Error('not a safetensors file: shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > bytes.length) throw new Error('not a safetensors file: bad header length');
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch {
    throw new Error('not a safetensors file: header is not JSON');
  }
  const dataStart = 8 + headerLen;
  const tensors: Record<string, Tensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const size = BYTES_PER[dtype];
    if (!size) throw new Error(`tensor ${name}: dtype ${dtype} is not supported (F32, F16, BF16 are)`);
    const n = shape.reduce((a, b) => a * b, 1);
    const [begin, end] = data_offsets;
    if (end - begin !== n * size || dataStart + end > bytes.length) {
      throw new Error(`tensor ${name}: data_offsets [${begin}, ${end}] do not fit shape [${shape}] ${dtype}`);
    }
    const p = dataStart + begin;
    if (dtype === 'F32' && LITTLE_ENDIAN) {
      // Copied into a fresh, aligned buffer (also when `bytes` is a Buffer from a shared pool).
      const copy = new Uint8Array(4 * n);
      copy.set(bytes.subarray(p, p + 4 * n));
      tensors[name] = { shape, data: new Float32Array(copy.buffer) };
      continue;
    }
    const data = new Float32Array(n);
    if (dtype === 'F32') for (let i = 0; i < n; i++) data[i] = view.getFloat32(p + 4 * i, true);
    else if (dtype === 'F16') for (let i = 0; i < n; i++) data[i] = f16ToF32(view.getUint16(p + 2 * i, true));
    else for (let i = 0; i < n; i++) data[i] = bf16ToF32(view.getUint16(p + 2 * i, true));
    tensors[name] = { shape, data };
  }
  return { tensors, metadata };
}

const scratch = new DataView(new ArrayBuffer(4));

function bf16ToF32(h: number): number {
  scratch.setUint32(0, h << 16);
  return scratch.getFloat32(0);
}

function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

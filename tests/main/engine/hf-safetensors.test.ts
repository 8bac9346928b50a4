import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../../src-main/engine/io/safetensors.js';

function fileWith(header: object, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips float32 tensors and metadata, 8-byte aligned', () => {
    const tensors = {
      'b.weight': { shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, 1e-8, -1e8]) },
      'a.bias': { shape: [1], data: new Float32Array([Math.PI]) },
    };
    const bytes = writeSafetensors(tensors, { format: 'pt' });
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0);
    const back = readSafetensors(bytes);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect(back.tensors['b.weight']!.shape).toEqual([2, 3]);
    expect(Array.from(back.tensors['b.weight']!.data)).toEqual(Array.from(tensors['b.weight'].data));
    expect(back.tensors['a.bias']!.data[0]).toBeCloseTo(Math.PI, 6);
    // Same tensors in another key order → the same bytes.
    expect(writeSafetensors({ 'a.bias': tensors['a.bias'], 'b.weight': tensors['b.weight'] }, { format: 'pt' })).toEqual(bytes);
  });

  it('reads from a Buffer at an unaligned offset (as SQLite and fs hand them out)', () => {
    const bytes = writeSafetensors({ w: { shape: [3], data: new Float32Array([1.5, -2, 1e-3]) } });
    const shifted = Buffer.concat([Buffer.alloc(3, 7), Buffer.from(bytes)]).subarray(3);
    expect(Array.from(readSafetensors(shifted).tensors.w!.data)).toEqual([1.5, -2, Math.fround(1e-3)]);
  });

  it('reads F16 and BF16 as float32', () => {
    // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800; BF16: 1.0 = 0x3F80, -3.0 = 0xC040
    const data = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0x80, 0x3f, 0x40, 0xc0]);
    const file = fileWith(
      { h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] }, b: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] } },
      data,
    );
    const t = readSafetensors(file).tensors;
    expect(Array.from(t.h!.data)).toEqual([1, -2, 0.5]);
    expect(Array.from(t.b!.data)).toEqual([1, -3]);
  });

  it('refuses truncated or foreign files with a clear error', () => {
    const bytes = writeSafetensors({ w: { shape: [4], data: new Float32Array(4) } });
    expect(() => readSafetensors(bytes.subarray(0, bytes.length - 4))).toThrow(/data_offsets/);
    expect(() => readSafetensors(new TextEncoder().encode('hello world, not tensors'))).toThrow(/not a safetensors file/);
    const i64 = fileWith({ x: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8));
    expect(() => readSafetensors(i64)).toThrow(/I64 is not supported/);
  });
});

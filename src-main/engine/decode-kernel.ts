// The one-token generation step of a GPT as one call into kernels/decode.c (wasm SIMD), for
// generate() on the tfjs wasm backend. The prompt's prefill stays on tfjs (GPT.forwardCached);
// its KV cache and the model's weights are then copied into the module's own memory, the weight
// matrices packed into 8-column panels, once per generate() call. Every later token is one call
// instead of ~45 tfjs kernels (10–15 µs of dispatch each, more than the arithmetic at small sizes).
//
// One instance per thread, reused by every generate() call on it: its memory (the weights, ~55 MB
// at the bench's small size, a staging copy of the largest matrix, the cache) grows to the largest
// model decoded and stays, because touching fresh pages cost more than packing (measured: ~50 ms
// for 72 MB on first touch, ~6 ms after). A new decoder therefore invalidates the previous one.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { GPT, GPTConfig, KVCache } from './model.js';

interface DecodeExports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  pack_panels(w: number, p: number, K: number, N: number): void;
  pack_panels_t(e: number, p: number, K: number, N: number): void;
  final_probs(desc: number, B: number, temperature: number): void;
  decode_step(desc: number, B: number, ids: number, pos: number, len: number, eps: number, temperature: number): void;
}

interface WasmBackendLike {
  typedArrayFromHeap(t: tf.Tensor): Float32Array;
}

/** Field order of the int32 table read by decode.c (its DESC_* and per-layer L_* enums). */
const DESC_FIELDS = 18;
const LAYER_FIELDS = 14;
const LAYER_WEIGHTS = ['ln_1.weight', 'ln_1.bias', 'attn.c_attn.weight', 'attn.c_attn.bias', 'attn.c_proj.weight', 'attn.c_proj.bias', 'ln_2.weight', 'ln_2.bias', 'mlp.c_fc.weight', 'mlp.c_fc.bias', 'mlp.c_proj.weight', 'mlp.c_proj.bias'];

let instance: DecodeExports | null | undefined;
/** Counts decoders created on this thread; only the newest may step. */
let latest = 0;

/** This thread's instance, or null where the runtime lacks wasm SIMD. */
function decodeModule(): DecodeExports | null {
  if (instance !== undefined) return instance;
  const file = fileURLToPath(new URL('./kernels/decode.wasm', import.meta.url)).replace('app.asar' + path.sep, 'app.asar.unpacked' + path.sep);
  const bytes = readFileSync(file);
  instance = WebAssembly.validate(bytes) ? (new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as DecodeExports) : null;
  return instance;
}

/** A tensor's values without a copy where the backend allows (wasm: a view of its heap). */
function valuesOf(t: tf.Tensor): Float32Array {
  const backend = tf.backend() as unknown as Partial<WasmBackendLike>;
  return backend.typedArrayFromHeap ? backend.typedArrayFromHeap(t) : (t.dataSync() as Float32Array);
}

/**
 * True where the compiled decoder runs: the wasm backend, wasm SIMD, n_embd a multiple of 8 and
 * the head size of 4.
 */
export function wasmDecoderApplies(config: GPTConfig): boolean {
  const { n_embd: C, n_head: H } = config;
  return tf.getBackend() === 'wasm' && C % 8 === 0 && (C / H) % 4 === 0 && decodeModule() !== null;
}

/** The decode steps of one generate() call for B rows (where wasmDecoderApplies). */
export class WasmDecoder {
  private readonly m: DecodeExports;
  private readonly desc: number;
  private readonly idsAt: number;
  private readonly posAt: number;
  private readonly logitsAt: number;
  private readonly aAt: number;
  private readonly positions: number[];
  private readonly id = ++latest;
  private len: number;

  private constructor(
    m: DecodeExports,
    desc: number,
    idsAt: number,
    posAt: number,
    logitsAt: number,
    aAt: number,
    private readonly B: number,
    private readonly V: number,
    private readonly Vp: number,
    private readonly maxT: number,
    private readonly nPositions: number,
    private readonly eps: number,
    cache: KVCache,
  ) {
    this.m = m;
    this.desc = desc;
    this.idsAt = idsAt;
    this.posAt = posAt;
    this.logitsAt = logitsAt;
    this.aAt = aAt;
    this.positions = cache.nextPosition.slice();
    this.len = cache.keyMaskAdd.shape[1];
  }

  /**
   * A decoder continuing `cache` (from the prefill) for up to `steps` more tokens per row. The
   * cache's tensors are read, not disposed.
   */
  static create(model: GPT, cache: KVCache, steps: number): WasmDecoder {
    const { n_embd: C, n_head: H, n_layer: L, vocab_size: V, n_positions, layer_norm_epsilon: eps } = model.config;
    if (!wasmDecoderApplies(model.config)) throw new Error('the compiled decoder does not apply to this model or backend');
    const m = decodeModule()!;
    const hd = C / H;
    const B = cache.keyMaskAdd.shape[0];
    const past = cache.keyMaskAdd.shape[1];
    const maxT = past + steps;
    const Vp = Math.ceil(V / 8) * 8;
    const w = model.namedVariables();

    // Regions in floats, 16-byte aligned, one after another above the module's static data.
    let at = Math.ceil((m.__heap_base.value as number) / 16) * 16;
    const region = (floats: number) => {
      const o = at;
      at += Math.ceil((floats * 4) / 16) * 16;
      return o;
    };
    const desc = region(DESC_FIELDS + LAYER_FIELDS * L);
    const table = new Int32Array(DESC_FIELDS + LAYER_FIELDS * L);
    const packedSize = (K: number, N: number) => K * Math.ceil(N / 8) * 8;
    table.set([C, H, L, V, Vp, maxT], 0);
    const wteAt = region(packedSize(C, V));
    table[6] = wteAt;
    table[7] = region(n_positions * C);
    table[8] = region(C);
    table[9] = region(C);
    const sizes = [B * C, B * C, B * 3 * C, B * C, B * 4 * C, B * Vp, maxT + 4, B * maxT];
    sizes.forEach((n, i) => (table[10 + i] = region(n)));
    const logitsAt = table[15]!;
    const layerShapes: Array<[number, number] | number> = [C, C, [C, 3 * C], 3 * C, [C, C], C, C, C, [C, 4 * C], 4 * C, [4 * C, C], C];
    for (let l = 0; l < L; l++) {
      const base = DESC_FIELDS + LAYER_FIELDS * l;
      layerShapes.forEach((s, i) => (table[base + i] = region(typeof s === 'number' ? s : packedSize(s[0], s[1]))));
      table[base + 12] = region(B * H * maxT * hd);
      table[base + 13] = region(B * H * maxT * hd);
    }
    const idsAt = region(B);
    const posAt = region(B);
    // Staging for one unpacked matrix at a time (the largest is wte).
    const stageAt = region(Math.max(V * C, 4 * C * C));
    const missing = at - m.memory.buffer.byteLength;
    if (missing > 0) m.memory.grow(Math.ceil(missing / 65536));
    const heap = new Float32Array(m.memory.buffer);
    new Int32Array(m.memory.buffer, desc, table.length).set(table);

    const packInto = (dst: number, src: tf.Tensor, K: number, N: number, transposed: boolean) => {
      heap.set(valuesOf(src), stageAt / 4);
      (transposed ? m.pack_panels_t : m.pack_panels)(stageAt, dst, K, N);
    };
    packInto(wteAt, w['wte.weight']!, C, V, true);
    heap.set(valuesOf(w['wpe.weight']!), table[7]! / 4);
    heap.set(valuesOf(w['ln_f.weight']!), table[8]! / 4);
    heap.set(valuesOf(w['ln_f.bias']!), table[9]! / 4);
    for (let l = 0; l < L; l++) {
      const base = DESC_FIELDS + LAYER_FIELDS * l;
      LAYER_WEIGHTS.forEach((name, i) => {
        const v = w[`h.${l}.${name}`]!;
        const s = layerShapes[i]!;
        if (typeof s === 'number') heap.set(valuesOf(v), table[base + i]! / 4);
        else packInto(table[base + i]!, v, s[0], s[1], false);
      });
      // The prefill's keys and values [B·H, past, hd] into rows of maxT.
      for (const [field, t] of [[12, cache.keys[l]!], [13, cache.values[l]!]] as const) {
        const src = valuesOf(t);
        const dst = table[base + field]! / 4;
        for (let bh = 0; bh < B * H; bh++) heap.set(src.subarray(bh * past * hd, (bh + 1) * past * hd), dst + bh * maxT * hd);
      }
    }
    const maskSrc = valuesOf(cache.keyMaskAdd);
    for (let b = 0; b < B; b++) heap.set(maskSrc.subarray(b * past, (b + 1) * past), table[17]! / 4 + b * maxT);
    return new WasmDecoder(m, desc, idsAt, posAt, logitsAt, table[11]!, B, V, Vp, maxT, n_positions, eps, cache);
  }

  /**
   * Next-token probabilities softmax(hidden · wteᵀ / temperature), flat [B·V], of final hidden
   * states [B, C] (after ln_f: the prefill's `forwardCached(…, { lastHidden: true })`).
   */
  probsOf(hidden: tf.Tensor2D, temperature: number): Float32Array {
    this.checkCurrent();
    new Float32Array(this.m.memory.buffer, this.aAt, hidden.size).set(valuesOf(hidden));
    this.m.final_probs(this.desc, this.B, temperature);
    return this.readProbs();
  }

  /**
   * Feeds one token per row (as GPT.forwardCached with t = 1 and no mask) and returns the
   * next-token probabilities softmax(logits / temperature), flat [B·V] (as nextTokenProbs).
   */
  step(next: Int32Array, temperature: number): Float32Array {
    this.checkCurrent();
    if (this.len >= this.maxT) throw new Error('decoder cache is full');
    const ids = new Int32Array(this.m.memory.buffer, this.idsAt, this.B);
    const pos = new Int32Array(this.m.memory.buffer, this.posAt, this.B);
    ids.set(next);
    for (let b = 0; b < this.B; b++) {
      if (this.positions[b]! >= this.nPositions) throw new Error(`sequence exceeds n_positions ${this.nPositions}`);
      pos[b] = this.positions[b]!;
      this.positions[b]! += 1;
    }
    this.m.decode_step(this.desc, this.B, this.idsAt, this.posAt, this.len, this.eps, temperature);
    this.len += 1;
    return this.readProbs();
  }

  private checkCurrent(): void {
    if (this.id !== latest) throw new Error("a newer decoder has taken over this thread's decode module");
  }

  private readProbs(): Float32Array {
    const logits = new Float32Array(this.m.memory.buffer, this.logitsAt, this.B * this.Vp);
    if (this.Vp === this.V) return logits.slice();
    const out = new Float32Array(this.B * this.V);
    for (let b = 0; b < this.B; b++) out.set(logits.subarray(b * this.Vp, b * this.Vp + this.V), b * this.V);
    return out;
  }
}

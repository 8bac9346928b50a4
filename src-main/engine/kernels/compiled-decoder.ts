// Generation on the tfjs wasm backend as calls into decode.c beside this file (wasm SIMD), the
// whole GPT-2 model per call (js-decode-ops.ts, by contrast, speeds up single ops): the prompt
// (prefill) and then every one-token step, each one call running embeddings, all layers, the tied
// logits and the softmax, instead of ~45 tfjs kernels per token (10–15 µs of dispatch each, more
// than the arithmetic at small sizes). The model's weights are copied into the module's own
// memory, the matrices packed into 8-column panels, once per generate() call; the KV cache lives
// there too.
//
// One instance per thread, reused by every generate() call on it: its memory (the weights, ~55 MB
// at the bench's small size, a staging copy of the largest matrix, the cache) grows to the largest
// model decoded and stays, because touching fresh pages cost more than packing (measured: ~50 ms
// for 72 MB on first touch, ~6 ms after). A new decoder therefore invalidates the previous one.
import * as tf from '@tensorflow/tfjs';
import { isLlamaConfig, type GPT, type GPTConfig, type ModelConfig } from '../models/model.js';
import { kernelBytes } from './wasm-heap.js';

interface DecodeExports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  pack_panels(w: number, p: number, K: number, N: number): void;
  pack_panels_t(e: number, p: number, K: number, N: number): void;
  decode_tokens(desc: number, B: number, T: number, ids: number, pos: number, keymask: number, len: number, eps: number, probs: number, temperature: number): void;
}

interface WasmBackendLike {
  typedArrayFromHeap(t: tf.Tensor): Float32Array;
}

/** Field order of the int32 table read by decode.c (its DESC_* and per-layer L_* enums). */
const DESC_FIELDS = 18;
const LAYER_FIELDS = 14;
/** Tokens (rows × positions) per call at most: bounds the activations' scratch (10·n_embd floats per token) for long prompts. */
const MAX_TOKENS_PER_CALL = 256;
const LAYER_WEIGHTS = ['ln_1.weight', 'ln_1.bias', 'attn.c_attn.weight', 'attn.c_attn.bias', 'attn.c_proj.weight', 'attn.c_proj.bias', 'ln_2.weight', 'ln_2.bias', 'mlp.c_fc.weight', 'mlp.c_fc.bias', 'mlp.c_proj.weight', 'mlp.c_proj.bias'];

let instance: DecodeExports | null | undefined;
/** Counts decoders created on this thread; only the newest may step. */
let latest = 0;

/** This thread's instance, or null where the runtime lacks wasm SIMD. */
function decodeModule(): DecodeExports | null {
  if (instance !== undefined) return instance;
  const bytes = kernelBytes('decode');
  instance = WebAssembly.validate(bytes) ? (new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as DecodeExports) : null;
  return instance;
}

/** A tensor's values without a copy where the backend allows (wasm: a view of its heap). */
function valuesOf(t: tf.Tensor): Float32Array {
  const backend = tf.backend() as unknown as Partial<WasmBackendLike>;
  return backend.typedArrayFromHeap ? backend.typedArrayFromHeap(t) : (t.dataSync() as Float32Array);
}

/**
 * True where the compiled decoder runs: a GPT-2 (kernels/decode.c implements its layer only), the
 * wasm backend, wasm SIMD, n_embd a multiple of 8 and the head size of 4.
 */
export function wasmDecoderApplies(config: ModelConfig): config is GPTConfig {
  if (isLlamaConfig(config)) return false;
  const { n_embd: C, n_head: H } = config;
  return tf.getBackend() === 'wasm' && C % 8 === 0 && (C / H) % 4 === 0 && decodeModule() !== null;
}

/** The decode steps of one generate() call for B rows (where wasmDecoderApplies). */
export class WasmDecoder {
  private readonly id = ++latest;
  /** Tokens in the cache per row (padding included). */
  private len = 0;
  /** Position id the next real token of each row gets (as GPT.forwardCached). */
  private positions: number[];

  private constructor(
    private readonly m: DecodeExports,
    /** Byte offsets: the table, the per-call token inputs, the `a` and logits buffers. */
    private readonly at: { desc: number; ids: number; pos: number; keymask: number; logits: number },
    private readonly config: GPTConfig,
    private readonly B: number,
    private readonly maxT: number,
    /** Positions per row in one call. */
    private readonly chunk: number,
  ) {
    this.positions = new Array<number>(B).fill(0);
  }

  /**
   * A decoder for B rows of up to maxT tokens each (prompt + generated) with the model's current
   * weights packed in. Takes this thread's module over from any earlier decoder. Null when weights
   * and cache do not fit the module's memory (wasm32: 4 GB).
   */
  static create(model: GPT, B: number, maxT: number): WasmDecoder | null {
    const config = model.config;
    if (!wasmDecoderApplies(config)) throw new Error('the compiled decoder does not apply to this model or backend');
    const { n_embd: C, n_head: H, n_layer: L, vocab_size: V, n_positions } = config;
    const m = decodeModule()!;
    const hd = C / H;
    const chunk = Math.max(1, Math.min(maxT, Math.floor(MAX_TOKENS_PER_CALL / B)));
    const R = B * chunk;
    const Vp = Math.ceil(V / 8) * 8;
    const w = model.weightVariables();

    // Regions in floats, 16-byte aligned, one after another above the module's static data.
    let next = Math.ceil((m.__heap_base.value as number) / 16) * 16;
    const region = (floats: number) => {
      const o = next;
      next += Math.ceil((floats * 4) / 16) * 16;
      return o;
    };
    const table = new Int32Array(DESC_FIELDS + LAYER_FIELDS * L);
    const desc = region(table.length);
    const packedSize = (K: number, N: number) => K * Math.ceil(N / 8) * 8;
    table.set([C, H, L, V, Vp, maxT], 0);
    table[6] = region(packedSize(C, V));
    table[7] = region(n_positions * C);
    table[8] = region(C);
    table[9] = region(C);
    // x, a, qkv, att, f, logits, scores, key mask.
    const sizes = [R * C, R * C, R * 3 * C, R * C, R * 4 * C, B * Vp, maxT + 4, B * maxT];
    sizes.forEach((n, i) => (table[10 + i] = region(n)));
    const layerShapes: Array<[number, number] | number> = [C, C, [C, 3 * C], 3 * C, [C, C], C, C, C, [C, 4 * C], 4 * C, [4 * C, C], C];
    const layersStart = next;
    for (let l = 0; l < L; l++) {
      const base = DESC_FIELDS + LAYER_FIELDS * l;
      layerShapes.forEach((s, i) => (table[base + i] = region(typeof s === 'number' ? s : packedSize(s[0], s[1]))));
      table[base + 12] = region(B * H * maxT * hd);
      table[base + 13] = region(B * H * maxT * hd);
    }
    const inputs = { ids: region(R), pos: region(R), keymask: region(R) };
    // Staging for one unpacked layer matrix at a time. wte (V·C, GPT-2's 154 MB) is staged where
    // the layers go, before they are written, when they have room (12·C·L ≥ V: every GPT-2 size).
    const stage = region(4 * C * C);
    const wteStage = next - layersStart >= V * C * 4 ? layersStart : region(V * C);
    const missing = next - m.memory.buffer.byteLength;
    if (next > 2 ** 32) return null;
    if (missing > 0) {
      try {
        m.memory.grow(Math.ceil(missing / 65536));
      } catch (e) {
        if (e instanceof RangeError) return null;
        throw e;
      }
    }
    const heap = new Float32Array(m.memory.buffer);
    new Int32Array(m.memory.buffer, desc, table.length).set(table);

    heap.set(valuesOf(w['wte.weight']!), wteStage / 4);
    m.pack_panels_t(wteStage, table[6]!, C, V);
    heap.set(valuesOf(w['wpe.weight']!), table[7]! / 4);
    heap.set(valuesOf(w['ln_f.weight']!), table[8]! / 4);
    heap.set(valuesOf(w['ln_f.bias']!), table[9]! / 4);
    for (let l = 0; l < L; l++) {
      const base = DESC_FIELDS + LAYER_FIELDS * l;
      LAYER_WEIGHTS.forEach((name, i) => {
        const v = w[`h.${l}.${name}`]!;
        const s = layerShapes[i]!;
        if (typeof s === 'number') heap.set(valuesOf(v), table[base + i]! / 4);
        else {
          heap.set(valuesOf(v), stage / 4);
          m.pack_panels(stage, table[base + i]!, s[0], s[1]);
        }
      });
    }
    return new WasmDecoder(m, { desc, ...inputs, logits: table[15]! }, config, B, maxT, chunk);
  }

  /**
   * Runs the left-padded prompts ids, mask [B·T] (1 real, 0 padding; generate's leftPad) as
   * GPT.forwardCached's prefill does, into an empty cache; returns the next-token probabilities
   * softmax(logits / temperature), flat [B·V] (as nextTokenProbs).
   */
  prefill(ids: Int32Array, mask: Float32Array, temperature: number): Float32Array {
    const T = ids.length / this.B;
    if (this.len !== 0) throw new Error('prefill needs an empty cache');
    const pos = new Int32Array(ids.length);
    const keymask = new Float32Array(ids.length);
    for (let b = 0; b < this.B; b++) {
      for (let j = 0; j < T; j++) {
        const real = mask[b * T + j]! > 0;
        pos[b * T + j] = Math.max(0, Math.min(this.positions[b]! - (real ? 0 : 1), this.config.n_positions - 1));
        keymask[b * T + j] = real ? 0 : -1e9;
        if (real) this.positions[b]! += 1;
      }
    }
    // Chunks of positions (all rows each), so long prompts need bounded scratch.
    let probs: Float32Array | null = null;
    for (let j0 = 0; j0 < T; j0 += this.chunk) {
      const n = Math.min(this.chunk, T - j0);
      const cols = <A extends Int32Array | Float32Array>(a: A): A => {
        if (n === T) return a;
        const out = new (a.constructor as new (n: number) => A)(this.B * n);
        for (let b = 0; b < this.B; b++) out.set(a.subarray(b * T + j0, b * T + j0 + n), b * n);
        return out;
      };
      probs = this.run(cols(ids), cols(pos), cols(keymask), n, j0 + n === T, temperature);
    }
    return probs!;
  }

  /**
   * Feeds one token per row (as GPT.forwardCached with t = 1 and no mask) and returns the
   * next-token probabilities softmax(logits / temperature), flat [B·V] (as nextTokenProbs).
   */
  step(next: Int32Array, temperature: number): Float32Array {
    const pos = new Int32Array(this.B);
    for (let b = 0; b < this.B; b++) {
      if (this.positions[b]! >= this.config.n_positions) throw new Error(`sequence exceeds n_positions ${this.config.n_positions}`);
      pos[b] = this.positions[b]!;
      this.positions[b]! += 1;
    }
    return this.run(next, pos, new Float32Array(this.B), 1, true, temperature)!;
  }

  /** One call for T positions of every row; the probabilities when `wantProbs`. */
  private run(ids: Int32Array, pos: Int32Array, keymask: Float32Array, T: number, wantProbs: boolean, temperature: number): Float32Array | null {
    if (this.id !== latest) throw new Error("a newer decoder has taken over this thread's decode module");
    if (this.len + T > this.maxT) throw new Error('decoder cache is full');
    const { buffer } = this.m.memory;
    new Int32Array(buffer, this.at.ids, ids.length).set(ids);
    new Int32Array(buffer, this.at.pos, pos.length).set(pos);
    new Float32Array(buffer, this.at.keymask, keymask.length).set(keymask);
    this.m.decode_tokens(this.at.desc, this.B, T, this.at.ids, this.at.pos, this.at.keymask, this.len, this.config.layer_norm_epsilon, wantProbs ? 1 : 0, temperature);
    this.len += T;
    if (!wantProbs) return null;
    const V = this.config.vocab_size;
    const Vp = Math.ceil(V / 8) * 8;
    const logits = new Float32Array(this.m.memory.buffer, this.at.logits, this.B * Vp);
    if (Vp === V) return logits.slice();
    const out = new Float32Array(this.B * V);
    for (let b = 0; b < this.B; b++) out.set(logits.subarray(b * Vp, b * Vp + V), b * V);
    return out;
  }
}

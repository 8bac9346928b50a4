// A small seedable RNG (xoshiro128**, seeded through splitmix32) used wherever randomness must be
// reproducible: weight init, data shuffling, dropout seeds and token sampling. Hand-written
// because it must be serialisable (getState/setState) for exact resume, which Math.random and
// tfjs's internal seedrandom are not.

export type RngState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Hash a string label into a 32-bit seed (FNV-1a), so `fork('dropout')` is stable by name. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

export class Rng {
  private s: Uint32Array = new Uint32Array(4);

  constructor(seed: number | string = 0) {
    const sm = splitmix32(typeof seed === 'string' ? hashString(seed) : seed >>> 0 ^ Math.floor(seed / 2 ** 32));
    for (let i = 0; i < 4; i++) this.s[i] = sm();
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1;
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal sample (Box–Muller; no cached second value, so getState() is exact). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Float32Array of n samples from N(0, std²). */
  normalArray(n: number, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal() * std;
    return out;
  }

  /** In-place Fisher–Yates shuffle; returns the same array. */
  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i]!;
      arr[i] = arr[j]!;
      arr[j] = tmp;
    }
    return arr;
  }

  /** Index sampled from unnormalised non-negative weights (sum > 0). */
  categorical(weights: ArrayLike<number>, total?: number): number {
    let sum = total ?? 0;
    if (total === undefined) for (let i = 0; i < weights.length; i++) sum += weights[i]!;
    let r = this.next() * sum;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    // Rounding left r ≥ 0: return the last index with non-zero weight.
    for (let i = weights.length - 1; i >= 0; i--) if (weights[i]! > 0) return i;
    return weights.length - 1;
  }

  /** An independent stream derived from this one's seed and a label (does not advance this one). */
  fork(label: string | number): Rng {
    const child = new Rng(0);
    const h = typeof label === 'string' ? hashString(label) : label >>> 0;
    const sm = splitmix32((this.s[0]! ^ Math.imul(h, 0x9e3779b9) ^ this.s[2]!) >>> 0);
    for (let i = 0; i < 4; i++) child.s[i] = (sm() ^ this.s[i]!) >>> 0;
    if ((child.s[0]! | child.s[1]! | child.s[2]! | child.s[3]!) === 0) child.s[0] = 1;
    return child;
  }

  /** A fresh 31-bit seed, e.g. for tfjs ops that take a numeric seed. */
  seed(): number {
    return this.nextUint32() >>> 1;
  }

  getState(): RngState {
    return [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!];
  }

  setState(state: RngState): void {
    this.s.set(state);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

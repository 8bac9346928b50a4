// SIMD helpers shared by the kernels (each .c is its own wasm module; this header is compiled into
// every one that includes it).
#ifndef RLHF_SIMD_MATH_H
#define RLHF_SIMD_MATH_H

#include <wasm_simd128.h>

/**
 * e^x per lane (Cephes expf: x = n·ln2 + r, degree-6 polynomial in r; rel. error ~1e-7); 0 below
 * −87. pmin/pmax are one x86 instruction each where min/max (NaN-propagating) are several, and
 * n = round(x·log2 e) comes from adding 1.5·2²³, whose low bits then hold n, instead of floor and
 * a float→int conversion (measured in layer-ops.c: cross-entropy forward 2.9 → 1.3 ns a value).
 */
static inline __attribute__((always_inline)) v128_t exp4(v128_t x) {
  v128_t tiny = wasm_f32x4_lt(x, wasm_f32x4_splat(-87.0f));
  x = wasm_f32x4_pmin(wasm_f32x4_pmax(x, wasm_f32x4_splat(-87.0f)), wasm_f32x4_splat(88.0f));
  v128_t magic = wasm_f32x4_splat(12582912.0f);
  v128_t t = wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)), magic);
  v128_t n = wasm_f32x4_sub(t, magic);
  x = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f)));
  x = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t p = wasm_f32x4_splat(1.9875691500e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x), wasm_f32x4_splat(1.3981999507e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x), wasm_f32x4_splat(8.3334519073e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x), wasm_f32x4_splat(4.1665795894e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x), wasm_f32x4_splat(1.6666665459e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x), wasm_f32x4_splat(5.0000001201e-1f));
  p = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p, x), x), x), wasm_f32x4_splat(1.0f));
  // t's bits are 0x4B400000 + n; shifted left by 23 the constant part drops out: 2^n's exponent.
  v128_t pow2n = wasm_i32x4_shl(wasm_i32x4_add(t, wasm_i32x4_splat(127)), 23);
  return wasm_v128_andnot(wasm_f32x4_mul(p, pow2n), tiny);
}

/** The sum of the four lanes. */
static inline __attribute__((always_inline)) float hsum(v128_t v) {
  v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(v, 0);
}

/** The largest of the four lanes. */
static inline __attribute__((always_inline)) float hmax(v128_t v) {
  v = wasm_f32x4_pmax(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  v = wasm_f32x4_pmax(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(v, 0);
}

#endif

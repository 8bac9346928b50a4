// AdamW's per-parameter update and the sum of squares behind the global gradient norm, on
// tfjs-wasm's heap in place (built with --import-memory, like attend-one.c: engine/kernels/adamw-kernel.ts
// passes the tensors' byte offsets), so it must not own any memory: no static data, no stack
// arrays.
//
// Why hand-written: tfjs has no fused AdamW, and the same loop in JS costs ~5.5 ns per parameter
// (float64 scalar arithmetic); with 128-bit SIMD it is bound by memory (7 floats per parameter).
#include <wasm_simd128.h>

#define EXPORT __attribute__((visibility("default")))

/**
 * p2 = p·decay − stepSize·m2 / (√(v2·invBias2) + eps), m2 = β1·m + (1−β1)·g', v2 = β2·v +
 * (1−β2)·g'², g' = g·gradScale; every array has n floats.
 */
EXPORT void adamw_update(const float *p, const float *g, const float *m, const float *v, float *p2, float *m2, float *v2, int n, float stepSize, float beta1,
                         float beta2, float invBias2, float eps, float decay, float gradScale) {
  v128_t b1 = wasm_f32x4_splat(beta1), c1 = wasm_f32x4_splat(1.0f - beta1);
  v128_t b2 = wasm_f32x4_splat(beta2), c2 = wasm_f32x4_splat(1.0f - beta2);
  v128_t ib2 = wasm_f32x4_splat(invBias2), e = wasm_f32x4_splat(eps), dec = wasm_f32x4_splat(decay);
  v128_t gs = wasm_f32x4_splat(gradScale), ss = wasm_f32x4_splat(stepSize);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t gi = wasm_f32x4_mul(wasm_v128_load(g + i), gs);
    v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(b1, wasm_v128_load(m + i)), wasm_f32x4_mul(c1, gi));
    v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(b2, wasm_v128_load(v + i)), wasm_f32x4_mul(c2, wasm_f32x4_mul(gi, gi)));
    v128_t den = wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_mul(vi, ib2)), e);
    wasm_v128_store(m2 + i, mi);
    wasm_v128_store(v2 + i, vi);
    wasm_v128_store(p2 + i, wasm_f32x4_sub(wasm_f32x4_mul(wasm_v128_load(p + i), dec), wasm_f32x4_div(wasm_f32x4_mul(ss, mi), den)));
  }
  for (; i < n; i++) {
    float gi = g[i] * gradScale;
    float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m2[i] = mi;
    v2[i] = vi;
    p2[i] = p[i] * decay - stepSize * mi / (__builtin_sqrtf(vi * invBias2) + eps);
  }
}

/** Σ x² over n floats, accumulated in float64 (a norm over millions of values). */
EXPORT double sum_of_squares(const float *x, int n) {
  v128_t a = wasm_f64x2_splat(0), b = a;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t xi = wasm_v128_load(x + i);
    v128_t sq = wasm_f32x4_mul(xi, xi);
    a = wasm_f64x2_add(a, wasm_f64x2_promote_low_f32x4(sq));
    b = wasm_f64x2_add(b, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(sq, sq, 2, 3, 0, 1)));
  }
  a = wasm_f64x2_add(a, b);
  double s = wasm_f64x2_extract_lane(a, 0) + wasm_f64x2_extract_lane(a, 1);
  for (; i < n; i++) s += (double)x[i] * (double)x[i];
  return s;
}

// One query attending over its cached keys and values: the generation step's attention, shared by
// attend-one.c (on tfjs's heap) and decode.c (the compiled decoder).
#ifndef RLHF_ATTEND_ONE_HEAD_H
#define RLHF_ATTEND_ONE_HEAD_H

#include <wasm_simd128.h>

#include "simd-math.h"

/**
 * One query per (row, head) over its cache rows 0..total−1 (keys kc, values vc, rows hd apart),
 * additive key mask m; out: its hd outputs. scores: scratch of total + 3 floats; hd % 4 == 0.
 */
static inline void attend(const float *q, const float *kc, const float *vc, const float *m, float *out, float *scores, int total, int hd) {
  float scale = 1.0f / __builtin_sqrtf((float)hd);
  int total4 = (total + 3) & ~3;
  float top = -1e30f;
  for (int j = 0; j < total; j++) {
    v128_t acc = wasm_f32x4_splat(0);
    for (int d = 0; d < hd; d += 4) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(q + d), wasm_v128_load(kc + j * hd + d)));
    float s = hsum(acc) * scale + m[j];
    scores[j] = s;
    top = s > top ? s : top;
  }
  for (int j = total; j < total4; j++) scores[j] = -1e30f;
  v128_t t4 = wasm_f32x4_splat(top), sum = wasm_f32x4_splat(0);
  for (int j = 0; j < total4; j += 4) {
    v128_t e = exp4(wasm_f32x4_sub(wasm_v128_load(scores + j), t4));
    wasm_v128_store(scores + j, e);
    sum = wasm_f32x4_add(sum, e);
  }
  float inv = 1.0f / hsum(sum);
  int d = 0;
  for (; d + 16 <= hd; d += 16) {
    v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (int j = 0; j < total; j++) {
      v128_t p = wasm_v128_load32_splat(scores + j);
      const float *vj = vc + j * hd + d;
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(p, wasm_v128_load(vj)));
      a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(p, wasm_v128_load(vj + 4)));
      a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(p, wasm_v128_load(vj + 8)));
      a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(p, wasm_v128_load(vj + 12)));
    }
    v128_t s = wasm_f32x4_splat(inv);
    wasm_v128_store(out + d, wasm_f32x4_mul(a0, s));
    wasm_v128_store(out + d + 4, wasm_f32x4_mul(a1, s));
    wasm_v128_store(out + d + 8, wasm_f32x4_mul(a2, s));
    wasm_v128_store(out + d + 12, wasm_f32x4_mul(a3, s));
  }
  for (; d < hd; d += 4) {
    v128_t a = wasm_f32x4_splat(0);
    for (int j = 0; j < total; j++) a = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_v128_load32_splat(scores + j), wasm_v128_load(vc + j * hd + d)));
    wasm_v128_store(out + d, wasm_f32x4_mul(a, wasm_f32x4_splat(inv)));
  }
}

#endif

// One new query per sequence attending over its KV cache (the generation step), all heads and
// batch rows in one call. Built by scripts/build-wasm-kernels.mjs with --import-memory: it runs
// directly on tfjs-wasm's heap (engine/attend-one-kernel.ts passes the tensors' byte offsets),
// because copying the whole cache into a separate memory every token would cost more than the
// arithmetic. It therefore must not own any memory: no static data, no stack arrays.
//
// Why hand-written: with tf ops this step is multiply + sum over [B·H, total, hd] twice (each
// materialising a cache-sized temporary) plus softmax; here each key and value row is read once.
#include <wasm_simd128.h>

#include "simd-math.h"

#define EXPORT __attribute__((visibility("default")))

/**
 * q [B·H, hd]; k, v [B·H, total, hd]; mask: additive [B, total]; out [B, H·hd] (heads side by
 * side); scores: scratch of total + 3 floats. hd % 4 == 0.
 */
EXPORT void attend_one(const float *q, const float *k, const float *v, const float *mask, float *out, float *scores, int B, int H, int total, int hd) {
  float scale = 1.0f / __builtin_sqrtf((float)hd);
  int total4 = (total + 3) & ~3;
  for (int bh = 0; bh < B * H; bh++) {
    const float *qr = q + bh * hd, *m = mask + (bh / H) * total;
    const float *kr = k + bh * total * hd, *vr = v + bh * total * hd;
    float top = -1e30f;
    for (int j = 0; j < total; j++) {
      v128_t acc = wasm_f32x4_splat(0);
      for (int d = 0; d < hd; d += 4) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(qr + d), wasm_v128_load(kr + j * hd + d)));
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
    float *o = out + bh * hd;  // [B, H, hd] is [B, C]
    // Four output vectors at a time stay in registers while the keys run.
    int d = 0;
    for (; d + 16 <= hd; d += 16) {
      v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (int j = 0; j < total; j++) {
        v128_t p = wasm_v128_load32_splat(scores + j);
        const float *vj = vr + j * hd + d;
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(p, wasm_v128_load(vj)));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(p, wasm_v128_load(vj + 4)));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(p, wasm_v128_load(vj + 8)));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(p, wasm_v128_load(vj + 12)));
      }
      v128_t s = wasm_f32x4_splat(inv);
      wasm_v128_store(o + d, wasm_f32x4_mul(a0, s));
      wasm_v128_store(o + d + 4, wasm_f32x4_mul(a1, s));
      wasm_v128_store(o + d + 8, wasm_f32x4_mul(a2, s));
      wasm_v128_store(o + d + 12, wasm_f32x4_mul(a3, s));
    }
    for (; d < hd; d += 4) {
      v128_t a = wasm_f32x4_splat(0);
      for (int j = 0; j < total; j++) a = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_v128_load32_splat(scores + j), wasm_v128_load(vr + j * hd + d)));
      wasm_v128_store(o + d, wasm_f32x4_mul(a, wasm_f32x4_splat(inv)));
    }
  }
}

// One new query per sequence attending over its KV cache (the generation step), all heads and
// batch rows in one call. Built by scripts/build-wasm-kernels.mjs with --import-memory: it runs
// directly on tfjs-wasm's heap (engine/kernels/attend-one-kernel.ts passes the tensors' byte offsets),
// because copying the whole cache into a separate memory every token would cost more than the
// arithmetic. It therefore must not own any memory: no static data, no stack arrays.
//
// Why hand-written: with tf ops this step is multiply + sum over [B·H, total, hd] twice (each
// materialising a cache-sized temporary) plus softmax; here each key and value row is read once.
#include <wasm_simd128.h>

#include "attend-one-head.h"

#define EXPORT __attribute__((visibility("default")))

/**
 * q [B·H, hd]; k, v [B·H, total, hd]; mask: additive [B, total]; out [B, H·hd] (heads side by
 * side); scores: scratch of total + 3 floats. hd % 4 == 0.
 */
EXPORT void attend_one(const float *q, const float *k, const float *v, const float *mask, float *out, float *scores, int B, int H, int total, int hd) {
  for (int bh = 0; bh < B * H; bh++) {
    // [B, H, hd] is [B, C]: head bh's outputs are hd floats at bh·hd.
    attend(q + bh * hd, k + bh * total * hd, v + bh * total * hd, mask + (bh / H) * total, out + bh * hd, scores, total, hd);
  }
}

// The per-element and per-row parts of a training step: LayerNorm, GPT-2's gelu_new and the
// target log-probabilities of softmax cross-entropy, forward and backward; also the backward
// pass's transposes and column sums (called from wasm-kernels.ts). Built with
// --import-memory, like adamw.c: engine/kernels/layer-ops-kernel.ts passes the byte offsets of tensors on
// tfjs-wasm's heap, so this module must not own any memory: no static data, no stack arrays.
//
// Why hand-written: with tf ops each of these is 5–10 tfjs kernels (LayerNorm's backward alone
// is mean, sub, mul, mean, mul, sub, mul plus two column sums), each one more pass over the
// activations and one more temporary; the cross-entropy backward materialised several [n, V]
// tensors (exp, one-hot, difference, product). Here each is one or two passes.
#include <wasm_simd128.h>

#include "simd-math.h"

#define EXPORT __attribute__((visibility("default")))

/** Natural log of x > 0 in float64 (no libc here): x = f·2^e, f in [√½, √2), log f = 2·atanh(s). */
static double log_pos(double x) {
  union {
    double d;
    unsigned long long u;
  } b = {x};
  int e = (int)((b.u >> 52) & 0x7ff) - 1023;
  b.u = (b.u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;  // f in [1, 2)
  double f = b.d;
  if (f > 1.4142135623730951) {
    f *= 0.5;
    e += 1;
  }
  double s = (f - 1.0) / (f + 1.0), s2 = s * s;  // |s| ≤ 0.172: the series below reaches 1e-16
  double t = 1.0 / 17;
  for (int k = 15; k >= 1; k -= 2) t = 1.0 / k + s2 * t;
  return 2.0 * s * t + e * 0.69314718055994531;
}

/** σ(z) per lane, from e^−|z| so it never overflows. */
static v128_t sigmoid4(v128_t z) {
  v128_t one = wasm_f32x4_splat(1.0f), t = exp4(wasm_f32x4_neg(wasm_f32x4_abs(z)));
  v128_t r = wasm_f32x4_div(one, wasm_f32x4_add(one, t));
  return wasm_v128_bitselect(r, wasm_f32x4_mul(t, r), wasm_f32x4_ge(z, wasm_f32x4_splat(0.0f)));
}

/**
 * LayerNorm over rows of x [n, C]: y = x̂·g + b with x̂ = (x − mean)·rstd, rstd = 1/√(var + eps)
 * (the variance of the centred row, as the tf-ops version). Also writes x̂ [n, C] and rstd [n]
 * for the backward pass.
 */
EXPORT void layernorm_forward(const float *x, const float *g, const float *b, float *y, float *xhat, float *rstd, int n, int C, float eps) {
  int C4 = C & ~3;
  for (int r = 0; r < n; r++) {
    const float *xr = x + (long)r * C;
    float *hr = xhat + (long)r * C, *yr = y + (long)r * C;
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int j = 0; j < C4; j += 4) acc = wasm_f32x4_add(acc, wasm_v128_load(xr + j));
    float sum = hsum(acc);
    for (int j = C4; j < C; j++) sum += xr[j];
    float mean = sum / (float)C;
    v128_t mu = wasm_f32x4_splat(mean);
    acc = wasm_f32x4_splat(0.0f);
    for (int j = 0; j < C4; j += 4) {
      v128_t d = wasm_f32x4_sub(wasm_v128_load(xr + j), mu);
      acc = wasm_f32x4_add(acc, wasm_f32x4_mul(d, d));
    }
    float ss = hsum(acc);
    for (int j = C4; j < C; j++) ss += (xr[j] - mean) * (xr[j] - mean);
    float rs = 1.0f / __builtin_sqrtf(ss / (float)C + eps);
    rstd[r] = rs;
    v128_t rs4 = wasm_f32x4_splat(rs);
    for (int j = 0; j < C4; j += 4) {
      v128_t h = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + j), mu), rs4);
      wasm_v128_store(hr + j, h);
      wasm_v128_store(yr + j, wasm_f32x4_add(wasm_f32x4_mul(h, wasm_v128_load(g + j)), wasm_v128_load(b + j)));
    }
    for (int j = C4; j < C; j++) {
      hr[j] = (xr[j] - mean) * rs;
      yr[j] = hr[j] * g[j] + b[j];
    }
  }
}

/**
 * LayerNorm's gradient: dx = rstd·(d − mean(d) − x̂·mean(d·x̂)) with d = dy·g, per row; dg = Σ_rows
 * dy·x̂ and db = Σ_rows dy.
 */
EXPORT void layernorm_backward(const float *dy, const float *xhat, const float *rstd, const float *g, float *dx, float *dg, float *db, int n, int C) {
  int C4 = C & ~3;
  for (int j = 0; j < C; j++) dg[j] = db[j] = 0.0f;
  for (int r = 0; r < n; r++) {
    const float *dyr = dy + (long)r * C, *hr = xhat + (long)r * C;
    float *dxr = dx + (long)r * C;
    v128_t a1 = wasm_f32x4_splat(0.0f), a2 = a1;
    for (int j = 0; j < C4; j += 4) {
      v128_t d = wasm_f32x4_mul(wasm_v128_load(dyr + j), wasm_v128_load(g + j));
      a1 = wasm_f32x4_add(a1, d);
      a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(d, wasm_v128_load(hr + j)));
    }
    float s1 = hsum(a1), s2 = hsum(a2);
    for (int j = C4; j < C; j++) {
      s1 += dyr[j] * g[j];
      s2 += dyr[j] * g[j] * hr[j];
    }
    float m1 = s1 / (float)C, m2 = s2 / (float)C, rs = rstd[r];
    v128_t m1v = wasm_f32x4_splat(m1), m2v = wasm_f32x4_splat(m2), rsv = wasm_f32x4_splat(rs);
    for (int j = 0; j < C4; j += 4) {
      v128_t dyj = wasm_v128_load(dyr + j), h = wasm_v128_load(hr + j);
      v128_t d = wasm_f32x4_mul(dyj, wasm_v128_load(g + j));
      wasm_v128_store(dxr + j, wasm_f32x4_mul(rsv, wasm_f32x4_sub(wasm_f32x4_sub(d, m1v), wasm_f32x4_mul(h, m2v))));
      wasm_v128_store(dg + j, wasm_f32x4_add(wasm_v128_load(dg + j), wasm_f32x4_mul(dyj, h)));
      wasm_v128_store(db + j, wasm_f32x4_add(wasm_v128_load(db + j), dyj));
    }
    for (int j = C4; j < C; j++) {
      float d = dyr[j] * g[j];
      dxr[j] = rs * (d - m1 - hr[j] * m2);
      dg[j] += dyr[j] * hr[j];
      db[j] += dyr[j];
    }
  }
}

#define GELU_2C 1.5957691216057308f     // 2·√(2/π)
#define GELU_2C3K 0.21406941512125224f  // 2·√(2/π)·3·0.044715
#define GELU_2CK 0.07135647170708408f   // 2·√(2/π)·0.044715

/** gelu_new(x) = x·σ(2u), 2u = x·(2c + 2c·0.044715·x²), over n floats. */
EXPORT void gelu_forward(const float *x, float *y, int n) {
  v128_t a = wasm_f32x4_splat(GELU_2C), b = wasm_f32x4_splat(GELU_2CK);
  int i = 0;
  // Two vectors per iteration: the exp's long dependency chains overlap (1.8 → 1.6 ns a value).
  for (; i + 8 <= n; i += 8) {
    v128_t x0 = wasm_v128_load(x + i), x1 = wasm_v128_load(x + i + 4);
    v128_t z0 = wasm_f32x4_mul(x0, wasm_f32x4_add(a, wasm_f32x4_mul(b, wasm_f32x4_mul(x0, x0))));
    v128_t z1 = wasm_f32x4_mul(x1, wasm_f32x4_add(a, wasm_f32x4_mul(b, wasm_f32x4_mul(x1, x1))));
    wasm_v128_store(y + i, wasm_f32x4_mul(x0, sigmoid4(z0)));
    wasm_v128_store(y + i + 4, wasm_f32x4_mul(x1, sigmoid4(z1)));
  }
  for (; i + 4 <= n; i += 4) {
    v128_t xi = wasm_v128_load(x + i);
    v128_t z = wasm_f32x4_mul(xi, wasm_f32x4_add(a, wasm_f32x4_mul(b, wasm_f32x4_mul(xi, xi))));
    wasm_v128_store(y + i, wasm_f32x4_mul(xi, sigmoid4(z)));
  }
  for (; i < n; i++) {
    v128_t xi = wasm_f32x4_splat(x[i]);
    v128_t z = wasm_f32x4_mul(xi, wasm_f32x4_add(a, wasm_f32x4_mul(b, wasm_f32x4_mul(xi, xi))));
    y[i] = wasm_f32x4_extract_lane(wasm_f32x4_mul(xi, sigmoid4(z)), 0);
  }
}

/** dx = dy·(s + x·s·(1 − s)·d(2u)/dx), s = σ(2u), recomputed from x. */
static v128_t gelu_grad4(v128_t xi, v128_t dyi) {
  v128_t a = wasm_f32x4_splat(GELU_2C), x2 = wasm_f32x4_mul(xi, xi);
  v128_t s = sigmoid4(wasm_f32x4_mul(xi, wasm_f32x4_add(a, wasm_f32x4_mul(wasm_f32x4_splat(GELU_2CK), x2))));
  v128_t du = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_f32x4_splat(GELU_2C3K), x2));
  v128_t ds = wasm_f32x4_mul(wasm_f32x4_mul(s, wasm_f32x4_sub(wasm_f32x4_splat(1.0f), s)), wasm_f32x4_mul(xi, du));
  return wasm_f32x4_mul(dyi, wasm_f32x4_add(s, ds));
}

EXPORT void gelu_backward(const float *x, const float *dy, float *dx, int n) {
  int i = 0;
  // Two vectors per iteration, as in gelu_forward.
  for (; i + 8 <= n; i += 8) {
    v128_t d0 = gelu_grad4(wasm_v128_load(x + i), wasm_v128_load(dy + i));
    v128_t d1 = gelu_grad4(wasm_v128_load(x + i + 4), wasm_v128_load(dy + i + 4));
    wasm_v128_store(dx + i, d0);
    wasm_v128_store(dx + i + 4, d1);
  }
  for (; i + 4 <= n; i += 4) wasm_v128_store(dx + i, gelu_grad4(wasm_v128_load(x + i), wasm_v128_load(dy + i)));
  for (; i < n; i++) dx[i] = wasm_f32x4_extract_lane(gelu_grad4(wasm_f32x4_splat(x[i]), wasm_f32x4_splat(dy[i])), 0);
}

/** max, then Σ e^(l − max) of one row of V floats; returns log Σ e^l. */
static float row_logsumexp(const float *l, int V) {
  int V4 = V & ~3;
  v128_t mx = wasm_f32x4_splat(-3.4e38f);
  for (int j = 0; j < V4; j += 4) mx = wasm_f32x4_pmax(mx, wasm_v128_load(l + j));
  mx = wasm_f32x4_pmax(mx, wasm_i32x4_shuffle(mx, mx, 2, 3, 0, 1));
  mx = wasm_f32x4_pmax(mx, wasm_i32x4_shuffle(mx, mx, 1, 0, 3, 2));
  float top = wasm_f32x4_extract_lane(mx, 0);
  for (int j = V4; j < V; j++) top = l[j] > top ? l[j] : top;
  v128_t t4 = wasm_f32x4_splat(top), acc = wasm_f32x4_splat(0.0f);
  for (int j = 0; j < V4; j += 4) acc = wasm_f32x4_add(acc, exp4(wasm_f32x4_sub(wasm_v128_load(l + j), t4)));
  float sum = hsum(acc);
  for (int j = V4; j < V; j++) sum += wasm_f32x4_extract_lane(exp4(wasm_f32x4_splat(l[j] - top)), 0);
  return top + (float)log_pos((double)sum);
}

/**
 * log softmax(l)[t] per row of logits l [n, V], targets t [n] (each in [0, V), checked by the
 * caller): out [n]; lse [n] = log Σ e^l, kept for the backward pass.
 */
EXPORT void target_logprobs_forward(const float *l, const int *t, float *out, float *lse, int n, int V) {
  for (int r = 0; r < n; r++) {
    const float *lr = l + (long)r * V;
    float z = row_logsumexp(lr, V);
    lse[r] = z;
    out[r] = lr[t[r]] - z;
  }
}

/** dl = dy·(onehot(t) − e^(l − lse)) per row, [n, V]. */
EXPORT void target_logprobs_backward(const float *l, const int *t, const float *lse, const float *dy, float *dl, int n, int V) {
  int V4 = V & ~3;
  for (int r = 0; r < n; r++) {
    const float *lr = l + (long)r * V;
    float *dr = dl + (long)r * V;
    v128_t z = wasm_f32x4_splat(lse[r]), nd = wasm_f32x4_splat(-dy[r]);
    for (int j = 0; j < V4; j += 4) wasm_v128_store(dr + j, wasm_f32x4_mul(nd, exp4(wasm_f32x4_sub(wasm_v128_load(lr + j), z))));
    for (int j = V4; j < V; j++) dr[j] = -dy[r] * wasm_f32x4_extract_lane(exp4(wasm_f32x4_splat(lr[j] - lse[r])), 0);
    dr[t[r]] += dy[r];
  }
}

/**
 * The last two axes of `batches` [R, C] blocks swapped (4-byte elements: float32 or int32): the
 * weight-gradient transposes of every linear layer. 4×4 tiles by SIMD shuffles, in blocks of 32
 * rows × 16 columns walked column-tile first, so each output row gets two whole cache lines at a
 * time (with rows 4 KB apart, partly written lines evict each other: 3× slower measured); the
 * edges of R and C not a multiple of 4 element by element.
 */
EXPORT void transpose_last2(const float *src, float *dst, int batches, int R, int C) {
  int R4 = R & ~3, C4 = C & ~3;
  for (int b = 0; b < batches; b++, src += (long)R * C, dst += (long)R * C) {
    for (int i0 = 0; i0 < R4; i0 += 32)
      for (int j0 = 0; j0 < C4; j0 += 16)
        for (int j = j0; j < j0 + 16 && j < C4; j += 4)
          for (int i = i0; i < i0 + 32 && i < R4; i += 4) {
            const float *s = src + (long)i * C + j;
            v128_t r0 = wasm_v128_load(s), r1 = wasm_v128_load(s + C), r2 = wasm_v128_load(s + 2 * C), r3 = wasm_v128_load(s + 3 * C);
            v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
            v128_t t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
            float *d = dst + (long)j * R + i;
            wasm_v128_store(d, wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5));
            wasm_v128_store(d + R, wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7));
            wasm_v128_store(d + 2 * R, wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5));
            wasm_v128_store(d + 3 * R, wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7));
          }
    for (int i = 0; i < R; i++)
      for (int j = (i < R4 ? C4 : 0); j < C; j++) dst[(long)j * R + i] = src[(long)i * C + j];
  }
}

/**
 * Column sums of x [n, c] (the bias and LayerNorm-shift gradients), 16 columns at a time in
 * registers over all rows; float32 accumulation as tfjs's own Sum.
 */
EXPORT void column_sum(const float *x, float *out, int n, int c) {
  int j = 0;
  for (; j + 16 <= c; j += 16) {
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (int r = 0; r < n; r++) {
      const float *p = x + (long)r * c + j;
      a0 = wasm_f32x4_add(a0, wasm_v128_load(p));
      a1 = wasm_f32x4_add(a1, wasm_v128_load(p + 4));
      a2 = wasm_f32x4_add(a2, wasm_v128_load(p + 8));
      a3 = wasm_f32x4_add(a3, wasm_v128_load(p + 12));
    }
    wasm_v128_store(out + j, a0);
    wasm_v128_store(out + j + 4, a1);
    wasm_v128_store(out + j + 8, a2);
    wasm_v128_store(out + j + 12, a3);
  }
  for (; j < c; j++) {
    float s = 0.0f;
    for (int r = 0; r < n; r++) s += x[(long)r * c + j];
    out[j] = s;
  }
}

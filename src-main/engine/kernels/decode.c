// GPT-2 generation (HF layout) for B rows, one call per prompt chunk or per generated token:
// embedding + position, per layer LayerNorm → c_attn → attention of the new positions over the KV
// cache (appending their keys and values) → c_proj + residual → LayerNorm → c_fc → gelu_new →
// c_proj + residual, final LayerNorm, tied logits and the temperature-scaled softmax. Loaded by
// engine/kernels/decode-kernel.ts, which lays out the weights (packed once per generate() call), the cache
// and the scratch in this module's own memory and describes them in an int32 table (DESC_* below).
//
// Why hand-written: with tfjs a step is ~45 kernels per token of < 1 MFLOP each at the tiny
// size, each paying 10–15 µs of dispatch; no library runs a whole transformer step from one
// call on wasm. The products are GEMVs (one row) or small GEMMs (B rows, or B × a prompt chunk).
#include <wasm_simd128.h>

#include "simd-math.h"
#include "attend-one-head.h"

#define EXPORT __attribute__((visibility("default")))
#define INLINE static inline __attribute__((always_inline))

// ---- weight packing (once per generate() call) ----
// A [K, N] matrix is stored as panels of 8 columns, P[n / 8][k][8], the last one zero-padded, so
// the products below read every weight once, sequentially.

/** Packs w [K, N] row-major (HF Conv1D [in, out]); N % 8 == 0 (n_embd is a multiple of 8). */
EXPORT void pack_panels(const float *w, float *p, int K, int N) {
  for (int n0 = 0; n0 < N; n0 += 8) {
    float *dst = p + (n0 / 8) * K * 8;
    for (int k = 0; k < K; k++) {
      wasm_v128_store(dst + k * 8, wasm_v128_load(w + k * N + n0));
      wasm_v128_store(dst + k * 8 + 4, wasm_v128_load(w + k * N + n0 + 4));
    }
  }
}

/**
 * Packs the transpose of e [N, K] (the tied embedding wte [V, C], so logits = h · wteᵀ); K % 4
 * == 0, N any (the last panel's missing rows are zeros). 4×4 blocks are transposed in registers.
 */
EXPORT void pack_panels_t(const float *e, float *p, int K, int N) {
  for (int n0 = 0; n0 < N; n0 += 8) {
    float *dst = p + (n0 / 8) * K * 8;
    for (int half = 0; half < 8; half += 4) {
      const float *rows[4];
      for (int j = 0; j < 4; j++) rows[j] = n0 + half + j < N ? e + (n0 + half + j) * K : 0;
      for (int k = 0; k < K; k += 4) {
        v128_t r0 = rows[0] ? wasm_v128_load(rows[0] + k) : wasm_f32x4_splat(0);
        v128_t r1 = rows[1] ? wasm_v128_load(rows[1] + k) : wasm_f32x4_splat(0);
        v128_t r2 = rows[2] ? wasm_v128_load(rows[2] + k) : wasm_f32x4_splat(0);
        v128_t r3 = rows[3] ? wasm_v128_load(rows[3] + k) : wasm_f32x4_splat(0);
        v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
        v128_t t2 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
        float *d = dst + k * 8 + half;
        wasm_v128_store(d, wasm_i64x2_shuffle(t0, t1, 0, 2));
        wasm_v128_store(d + 8, wasm_i64x2_shuffle(t0, t1, 1, 3));
        wasm_v128_store(d + 16, wasm_i64x2_shuffle(t2, t3, 0, 2));
        wasm_v128_store(d + 24, wasm_i64x2_shuffle(t2, t3, 1, 3));
      }
    }
  }
}

// ---- products ----

/**
 * rb (≤ 4, a constant after inlining) rows × one 8-column panel: Y = X · panel (+ bias, + Y when
 * acc). Accumulators stay in registers while k runs.
 */
INLINE void tile(int rb, const float *X, int K, const float *p, const float *bias, float *Y, int ldy, int acc) {
  v128_t c0[4], c1[4];
  for (int r = 0; r < rb; r++) c0[r] = c1[r] = wasm_f32x4_splat(0);
  for (int k = 0; k < K; k++) {
    v128_t w0 = wasm_v128_load(p + k * 8), w1 = wasm_v128_load(p + k * 8 + 4);
    for (int r = 0; r < rb; r++) {
      v128_t x = wasm_v128_load32_splat(X + r * K + k);
      c0[r] = wasm_f32x4_add(c0[r], wasm_f32x4_mul(x, w0));
      c1[r] = wasm_f32x4_add(c1[r], wasm_f32x4_mul(x, w1));
    }
  }
  v128_t b0 = bias ? wasm_v128_load(bias) : wasm_f32x4_splat(0), b1 = bias ? wasm_v128_load(bias + 4) : wasm_f32x4_splat(0);
  for (int r = 0; r < rb; r++) {
    float *y = Y + r * ldy;
    v128_t y0 = wasm_f32x4_add(c0[r], b0), y1 = wasm_f32x4_add(c1[r], b1);
    if (acc) {
      y0 = wasm_f32x4_add(y0, wasm_v128_load(y));
      y1 = wasm_f32x4_add(y1, wasm_v128_load(y + 4));
    }
    wasm_v128_store(y, y0);
    wasm_v128_store(y + 4, y1);
  }
}

/** One row (a GEMV) × one panel: k unrolled by two with separate sums, so adds do not wait on each other. */
INLINE void tile1(const float *x, int K, const float *p, const float *bias, float *y, int acc) {
  v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
  int k = 0;
  for (; k + 2 <= K; k += 2) {
    v128_t x0 = wasm_v128_load32_splat(x + k), x1 = wasm_v128_load32_splat(x + k + 1);
    a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(x0, wasm_v128_load(p + k * 8)));
    a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(x0, wasm_v128_load(p + k * 8 + 4)));
    a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(x1, wasm_v128_load(p + k * 8 + 8)));
    a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(x1, wasm_v128_load(p + k * 8 + 12)));
  }
  for (; k < K; k++) {
    v128_t x0 = wasm_v128_load32_splat(x + k);
    a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(x0, wasm_v128_load(p + k * 8)));
    a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(x0, wasm_v128_load(p + k * 8 + 4)));
  }
  v128_t y0 = wasm_f32x4_add(a0, a2), y1 = wasm_f32x4_add(a1, a3);
  if (bias) {
    y0 = wasm_f32x4_add(y0, wasm_v128_load(bias));
    y1 = wasm_f32x4_add(y1, wasm_v128_load(bias + 4));
  }
  if (acc) {
    y0 = wasm_f32x4_add(y0, wasm_v128_load(y));
    y1 = wasm_f32x4_add(y1, wasm_v128_load(y + 4));
  }
  wasm_v128_store(y, y0);
  wasm_v128_store(y + 4, y1);
}

/** Rows per block of a product: a block's X (up to 64 × 4C floats) stays in cache across all panels. */
#define ROW_BLOCK 64

/**
 * Y[b, :N] = X[b, :K] · P + bias (+ Y[b] when acc) for b < B; N a multiple of 8 (padded panels),
 * Y's rows ldy apart. Each panel is used by every row tile of a block while it is in cache.
 */
static void gemm(const float *X, int B, int K, const float *P, int N, const float *bias, float *Y, int ldy, int acc) {
  for (int r0 = 0; r0 < B; r0 += ROW_BLOCK) {
    int rows = B - r0 < ROW_BLOCK ? B - r0 : ROW_BLOCK;
    const float *Xb = X + r0 * K;
    float *Yb = Y + r0 * ldy;
    for (int n0 = 0; n0 < N; n0 += 8) {
      const float *p = P + (n0 / 8) * K * 8, *bb = bias ? bias + n0 : 0;
      if (rows == 1) {
        tile1(Xb, K, p, bb, Yb + n0, acc);
        continue;
      }
      int b = 0;
      for (; b + 4 <= rows; b += 4) tile(4, Xb + b * K, K, p, bb, Yb + b * ldy + n0, ldy, acc);
      switch (rows - b) {
        case 3: tile(3, Xb + b * K, K, p, bb, Yb + b * ldy + n0, ldy, acc); break;
        case 2: tile(2, Xb + b * K, K, p, bb, Yb + b * ldy + n0, ldy, acc); break;
        case 1: tile(1, Xb + b * K, K, p, bb, Yb + b * ldy + n0, ldy, acc); break;
        default: break;
      }
    }
  }
}

// ---- element-wise pieces ----

/** y = LayerNorm(x) · g + b over rows of C (C % 4 == 0), two-pass variance as fast-ops.ts. */
static void layer_norm(const float *x, float *y, const float *g, const float *beta, int B, int C, float eps) {
  for (int r = 0; r < B; r++) {
    const float *xr = x + r * C;
    float *yr = y + r * C;
    v128_t s = wasm_f32x4_splat(0);
    for (int c = 0; c < C; c += 4) s = wasm_f32x4_add(s, wasm_v128_load(xr + c));
    v128_t mean = wasm_f32x4_splat(hsum(s) / (float)C);
    v128_t q = wasm_f32x4_splat(0);
    for (int c = 0; c < C; c += 4) {
      v128_t d = wasm_f32x4_sub(wasm_v128_load(xr + c), mean);
      q = wasm_f32x4_add(q, wasm_f32x4_mul(d, d));
    }
    v128_t rstd = wasm_f32x4_splat(1.0f / __builtin_sqrtf(hsum(q) / (float)C + eps));
    for (int c = 0; c < C; c += 4) {
      v128_t d = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), mean), rstd);
      wasm_v128_store(yr + c, wasm_f32x4_add(wasm_f32x4_mul(d, wasm_v128_load(g + c)), wasm_v128_load(beta + c)));
    }
  }
}

/** gelu_new in place: x·σ(2u), u = √(2/π)(x + 0.044715x³), as fast-ops.ts; n % 4 == 0. */
static void gelu_new(float *x, int n) {
  const float c = 0.7978845608028654f;
  for (int i = 0; i < n; i += 4) {
    v128_t v = wasm_v128_load(x + i);
    v128_t z = wasm_f32x4_mul(v, wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(v, v), wasm_f32x4_splat(2 * c * 0.044715f)), wasm_f32x4_splat(2 * c)));
    // σ(z) from e^−|z| (never overflows): 1/(1+e) for z ≥ 0, e/(1+e) below.
    v128_t e = exp4(wasm_f32x4_neg(wasm_f32x4_abs(z)));
    v128_t inv = wasm_f32x4_div(wasm_f32x4_splat(1.0f), wasm_f32x4_add(wasm_f32x4_splat(1.0f), e));
    v128_t sig = wasm_v128_bitselect(inv, wasm_f32x4_mul(e, inv), wasm_f32x4_ge(z, wasm_f32x4_splat(0)));
    wasm_v128_store(x + i, wasm_f32x4_mul(v, sig));
  }
}

/** softmax(row / temperature) in place over n values (temperature ≤ 0 means 1, as generate.ts). */
static void softmax_row(float *z, int n, float temperature) {
  if (temperature > 0 && temperature != 1.0f) {
    v128_t t = wasm_f32x4_splat(temperature);
    int i = 0;
    for (; i + 4 <= n; i += 4) wasm_v128_store(z + i, wasm_f32x4_div(wasm_v128_load(z + i), t));
    for (; i < n; i++) z[i] /= temperature;
  }
  v128_t mx = wasm_f32x4_splat(-3.0e38f);
  int i = 0;
  for (; i + 4 <= n; i += 4) mx = wasm_f32x4_max(mx, wasm_v128_load(z + i));
  float top = hmax(mx);
  for (; i < n; i++) top = z[i] > top ? z[i] : top;
  v128_t t4 = wasm_f32x4_splat(top), sum = wasm_f32x4_splat(0);
  for (i = 0; i + 4 <= n; i += 4) {
    v128_t e = exp4(wasm_f32x4_sub(wasm_v128_load(z + i), t4));
    wasm_v128_store(z + i, e);
    sum = wasm_f32x4_add(sum, e);
  }
  float total = hsum(sum);
  for (; i < n; i++) {
    // The tail (n % 4 values) through the same vector exp, one lane used.
    float e = wasm_f32x4_extract_lane(exp4(wasm_f32x4_splat(z[i] - top)), 0);
    z[i] = e;
    total += e;
  }
  v128_t inv = wasm_f32x4_splat(1.0f / total);
  for (i = 0; i + 4 <= n; i += 4) wasm_v128_store(z + i, wasm_f32x4_mul(wasm_v128_load(z + i), inv));
  for (; i < n; i++) z[i] *= 1.0f / total;
}

// ---- the step ----

// The int32 table written by decode-kernel.ts: sizes, then byte offsets in this memory.
enum {
  DESC_C, DESC_H, DESC_L, DESC_V, DESC_VP, DESC_MAXT,
  DESC_WTE, DESC_WPE, DESC_LNF_G, DESC_LNF_B,
  DESC_X, DESC_A, DESC_QKV, DESC_ATT, DESC_F, DESC_LOGITS, DESC_SCORES, DESC_MASK,
  DESC_LAYERS,
};
// Per layer, from DESC_LAYERS + LAYER_FIELDS · l.
enum {
  L_LN1_G, L_LN1_B, L_ATTN_W, L_ATTN_B, L_PROJ_W, L_PROJ_B, L_LN2_G, L_LN2_B,
  L_FC_W, L_FC_B, L_MPROJ_W, L_MPROJ_B, L_KEYS, L_VALUES,
  LAYER_FIELDS,
};

#define F(i) ((float *)desc[i])


/**
 * T new tokens per row (T = 1: a generation step; T > 1: the left-padded prompt, the prefill).
 * ids, pos [B·T] (int32); keymask [B·T] additive (0 real, −1e9 padding) for the new keys, which
 * go to cache indices len..len+T−1 (the keys of layer l are [B, H, maxT, hd]); query j sees cache
 * indices ≤ len + j. With `probs`, leaves softmax(logits / temperature) of each row's last token in
 * the logits buffer, rows Vp apart (first V values valid); a prompt's earlier chunks skip that.
 */
EXPORT void decode_tokens(const int *desc, int B, int T, const int *ids, const int *pos, const float *keymask, int len, float eps, int probs, float temperature) {
  int C = desc[DESC_C], H = desc[DESC_H], L = desc[DESC_L], V = desc[DESC_V], Vp = desc[DESC_VP], maxT = desc[DESC_MAXT];
  int hd = C / H, R = B * T;
  float *x = F(DESC_X), *a = F(DESC_A), *qkv = F(DESC_QKV), *att = F(DESC_ATT), *f = F(DESC_F);
  float *scores = F(DESC_SCORES), *mask = F(DESC_MASK);
  const float *wte = F(DESC_WTE), *wpe = F(DESC_WPE);
  for (int r = 0; r < R; r++) {
    // wte row ids[r] read out of its packed transpose (column ids[r] % 8 of panel ids[r] / 8).
    const float *panel = wte + (ids[r] / 8) * C * 8 + ids[r] % 8;
    const float *pe = wpe + pos[r] * C;
    for (int c = 0; c < C; c++) x[r * C + c] = panel[c * 8] + pe[c];
    mask[(r / T) * maxT + len + r % T] = keymask[r];
  }
  for (int l = 0; l < L; l++) {
    const int *ly = desc + DESC_LAYERS + LAYER_FIELDS * l;
    float *keys = (float *)ly[L_KEYS], *values = (float *)ly[L_VALUES];
    layer_norm(x, a, (float *)ly[L_LN1_G], (float *)ly[L_LN1_B], R, C, eps);
    gemm(a, R, C, (float *)ly[L_ATTN_W], 3 * C, (float *)ly[L_ATTN_B], qkv, 3 * C, 0);
    for (int b = 0; b < B; b++) {
      for (int h = 0; h < H; h++) {
        float *kc = keys + ((b * H + h) * maxT) * hd, *vc = values + ((b * H + h) * maxT) * hd;
        for (int j = 0; j < T; j++) {
          const float *row = qkv + (b * T + j) * 3 * C + h * hd;
          for (int d = 0; d < hd; d += 4) {
            wasm_v128_store(kc + (len + j) * hd + d, wasm_v128_load(row + C + d));
            wasm_v128_store(vc + (len + j) * hd + d, wasm_v128_load(row + 2 * C + d));
          }
        }
        for (int j = 0; j < T; j++)
          attend(qkv + (b * T + j) * 3 * C + h * hd, kc, vc, mask + b * maxT, att + (b * T + j) * C + h * hd, scores, len + j + 1, hd);
      }
    }
    gemm(att, R, C, (float *)ly[L_PROJ_W], C, (float *)ly[L_PROJ_B], x, C, 1);
    layer_norm(x, a, (float *)ly[L_LN2_G], (float *)ly[L_LN2_B], R, C, eps);
    gemm(a, R, C, (float *)ly[L_FC_W], 4 * C, (float *)ly[L_FC_B], f, 4 * C, 0);
    gelu_new(f, R * 4 * C);
    gemm(f, R, 4 * C, (float *)ly[L_MPROJ_W], C, (float *)ly[L_MPROJ_B], x, C, 1);
  }
  if (!probs) return;
  // Only each row's last token is read out.
  float *logits = F(DESC_LOGITS);
  for (int b = 0; b < B; b++) layer_norm(x + (b * T + T - 1) * C, a + b * C, F(DESC_LNF_G), F(DESC_LNF_B), 1, C, eps);
  gemm(a, B, C, wte, Vp, 0, logits, Vp, 0);
  for (int b = 0; b < B; b++) softmax_row(logits + b * Vp, V, temperature);
}

// Causal multi-head self-attention, forward and backward, as two calls that do every head of
// every batch row (GPT-2 layout: qkv [B·T, 3C] with q, k, v side by side, heads side by side
// within each). Built to wasm32 + SIMD by scripts/build-wasm-kernels.mjs and called from
// engine/kernels/attention-kernel.ts on the tfjs wasm backend.
//
// Why hand-written: tfjs-wasm has no attention kernel, so attention was ~70 tfjs kernels per layer
// (per-head slices, matMuls, concats, softmax, transposes), each costing 10–15 µs of dispatch, and
// its matMuls computed the masked upper triangle too. XNNPACK (inside tfjs-wasm) cannot be called
// from outside, and no library ships a wasm attention kernel for tfjs. Here each (batch row,
// head) is gathered into small zero-padded scratch matrices and multiplied with one 4×8
// register-blocked SIMD micro-kernel that skips the blocks above the diagonal.
//
// Memory: the module owns its linear memory; the caller copies tensors in and out and passes byte
// offsets. No libc (-nostdlib): exp is a polynomial below.
#include <wasm_simd128.h>

#include "simd-math.h"

#define EXPORT __attribute__((visibility("default")))

static int round_up(int n, int m) { return (n + m - 1) / m * m; }

// Which part of C = A·B a product needs, for the 4 rows i0..i0+3 of a block:
// LOWER_N: columns n < i0+4 only (scores and dP: keys after the query are masked).
// LOWER_K: terms k < i0+4 only (A is lower-triangular: P·V, dS·K).
// UPPER_K: terms k ≥ i0 only (A is upper-triangular: Pᵀ·dO, dSᵀ·Q).
enum { FULL, LOWER_N, LOWER_K, UPPER_K };

/**
 * C[M,N] = A·B for A(i,k) = A[i·sai + k·sak] (sai/sak choose A or Aᵀ), B [K,N] row-major with
 * stride ldb, C row-major with stride ldc. M % 4 == 0 and N % 8 == 0 (callers zero-pad).
 * Each 4×8 block of C lives in 8 SIMD registers while k runs: 6 loads per 16 SIMD ops.
 */
static void gemm(const float *A, int sai, int sak, const float *B, int ldb, float *C, int ldc, int M, int N, int K, int mode) {
  for (int i0 = 0; i0 < M; i0 += 4) {
    int nEnd = mode == LOWER_N ? round_up(i0 + 4, 8) : N;
    if (nEnd > N) nEnd = N;
    int kBeg = mode == UPPER_K ? i0 : 0;
    int kEnd = mode == LOWER_K && i0 + 4 < K ? i0 + 4 : K;
    const float *a0 = A + (i0 + 0) * sai, *a1 = A + (i0 + 1) * sai, *a2 = A + (i0 + 2) * sai, *a3 = A + (i0 + 3) * sai;
    for (int n0 = 0; n0 < nEnd; n0 += 8) {
      v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      const float *b = B + kBeg * ldb + n0;
      for (int k = kBeg; k < kEnd; k++, b += ldb) {
        v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
        v128_t x0 = wasm_v128_load32_splat(a0 + k * sak);
        v128_t x1 = wasm_v128_load32_splat(a1 + k * sak);
        v128_t x2 = wasm_v128_load32_splat(a2 + k * sak);
        v128_t x3 = wasm_v128_load32_splat(a3 + k * sak);
        c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(x0, b0));
        c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(x0, b1));
        c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(x1, b0));
        c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(x1, b1));
        c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(x2, b0));
        c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(x2, b1));
        c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(x3, b0));
        c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(x3, b1));
      }
      float *c = C + i0 * ldc + n0;
      wasm_v128_store(c, c00);
      wasm_v128_store(c + 4, c01);
      wasm_v128_store(c + ldc, c10);
      wasm_v128_store(c + ldc + 4, c11);
      wasm_v128_store(c + 2 * ldc, c20);
      wasm_v128_store(c + 2 * ldc + 4, c21);
      wasm_v128_store(c + 3 * ldc, c30);
      wasm_v128_store(c + 3 * ldc + 4, c31);
    }
  }
}

static void zero(float *p, int n) {
  for (int i = 0; i < n; i++) p[i] = 0;
}

/** Scratch floats the two entry points need for sequence length T and head size hd. */
EXPORT int attention_work_floats(int T, int hd) {
  int Tp = round_up(T, 8), Dp = round_up(hd, 8);
  return 7 * Tp * Dp + 2 * Tp * Tp;
}

/**
 * Softmax probabilities of head h of batch row b into P [Tp, Tp]: keys 0..i of query i, the mask
 * row m (or none) added to the scores; keys after i and padded rows (i ≥ T) are 0. Q (scaled) and
 * Kt (K transposed, so scores vectorise over keys) are scratch.
 */
static void head_probs(const float *qkv, const float *m, int b, int h, int T, int C, int hd, float *Q, float *Kt, float *P) {
  int Tp = round_up(T, 8), Dp = round_up(hd, 8);
  float scale = 1.0f / __builtin_sqrtf((float)hd);
  for (int i = 0; i < T; i++) {
    const float *row = qkv + (b * T + i) * 3 * C + h * hd;
    for (int d = 0; d < hd; d++) {
      Q[i * Dp + d] = row[d] * scale;
      Kt[d * Tp + i] = row[C + d];
    }
  }
  gemm(Q, Dp, 1, Kt, Tp, P, Tp, Tp, Tp, Dp, LOWER_N);
  for (int i = 0; i < Tp; i++) {
    float *p = P + i * Tp;
    if (i >= T) {
      zero(p, Tp);
      continue;
    }
    int n = i + 1, n4 = round_up(n, 4);
    if (m)
      for (int j = 0; j < n; j++) p[j] += m[i * T + j];
    for (int j = n; j < n4; j++) p[j] = -1e30f;
    v128_t mx = wasm_f32x4_splat(-1e30f);
    for (int j = 0; j < n4; j += 4) mx = wasm_f32x4_pmax(mx, wasm_v128_load(p + j));
    v128_t top = wasm_f32x4_splat(hmax(mx)), sum = wasm_f32x4_splat(0);
    for (int j = 0; j < n4; j += 4) {
      v128_t e = exp4(wasm_f32x4_sub(wasm_v128_load(p + j), top));
      wasm_v128_store(p + j, e);
      sum = wasm_f32x4_add(sum, e);
    }
    v128_t inv = wasm_f32x4_splat(1.0f / hsum(sum));
    for (int j = 0; j < n4; j += 4) wasm_v128_store(p + j, wasm_f32x4_mul(wasm_v128_load(p + j), inv));
    zero(p + n4, Tp - n4);
  }
}

static const float *mask_of(const float *mask, int maskBatch, int b, int T) {
  return maskBatch == 0 ? 0 : mask + (maskBatch == 1 ? 0 : b * T * T);
}

/**
 * Forward. qkv [B·T, 3C]; mask: additive [B or 1 (maskBatch), T, T] or null (maskBatch 0), added
 * to the scores of keys j ≤ i (later keys are always hidden); out [B·T, C]; probs [B, H, T, T]
 * (softmax, zero above the diagonal) kept for the backward pass, or null when the backward pass
 * recomputes them or none follows.
 */
EXPORT void attention_forward(const float *qkv, const float *mask, int maskBatch, float *out, float *probs, int B, int T, int C, int H, float *work) {
  int hd = C / H, Tp = round_up(T, 8), Dp = round_up(hd, 8);
  float *Q = work, *Kt = Q + Tp * Dp, *V = Kt + Dp * Tp, *O = V + Tp * Dp, *P = O + Tp * Dp;
  zero(work, attention_work_floats(T, hd));
  for (int b = 0; b < B; b++) {
    for (int h = 0; h < H; h++) {
      head_probs(qkv, mask_of(mask, maskBatch, b, T), b, h, T, C, hd, Q, Kt, P);
      for (int i = 0; i < T; i++)
        for (int d = 0; d < hd; d++) V[i * Dp + d] = qkv[(b * T + i) * 3 * C + 2 * C + h * hd + d];
      gemm(P, Tp, 1, V, Dp, O, Dp, Tp, Dp, Tp, LOWER_K);
      float *saved = probs ? probs + (b * H + h) * T * T : 0;
      for (int i = 0; i < T; i++) {
        if (saved)
          for (int j = 0; j < T; j++) saved[i * T + j] = P[i * Tp + j];
        float *dst = out + (b * T + i) * C + h * hd;
        for (int d = 0; d < hd; d++) dst[d] = O[i * Dp + d];
      }
    }
  }
}

/**
 * Backward. dOut [B·T, C], qkv, mask and probs as given to / returned by attention_forward (probs
 * null: recomputed here from qkv and the mask); writes dqkv [B·T, 3C] (dq, dk, dv in qkv's
 * layout). With S = scale·Q·Kᵀ and P = softmax(S): dV = Pᵀ·dO, dP = dO·Vᵀ,
 * dS = scale·P∘(dP − rowsum(P∘dP)), dQ = dS·K, dK = dSᵀ·Q.
 */
EXPORT void attention_backward(const float *dOut, const float *qkv, const float *mask, int maskBatch, const float *probs, float *dqkv, int B, int T, int C, int H, float *work) {
  int hd = C / H, Tp = round_up(T, 8), Dp = round_up(hd, 8);
  float scale = 1.0f / __builtin_sqrtf((float)hd);
  // Scratch: Q, K, dO as rows, V transposed; P and dS (then reused for dP) [Tp, Tp]; gradients
  // reuse Q's size; scaled Q and Kᵀ for recomputing P.
  float *Q = work, *K = Q + Tp * Dp, *Vt = K + Tp * Dp, *dO = Vt + Dp * Tp, *G = dO + Tp * Dp, *P = G + Tp * Dp, *dS = P + Tp * Tp;
  float *Qs = dS + Tp * Tp, *Kt = Qs + Tp * Dp;
  zero(work, attention_work_floats(T, hd));
  for (int b = 0; b < B; b++) {
    for (int h = 0; h < H; h++) {
      for (int i = 0; i < T; i++) {
        const float *row = qkv + (b * T + i) * 3 * C + h * hd;
        const float *g = dOut + (b * T + i) * C + h * hd;
        for (int d = 0; d < hd; d++) {
          Q[i * Dp + d] = row[d];
          K[i * Dp + d] = row[C + d];
          Vt[d * Tp + i] = row[2 * C + d];
          dO[i * Dp + d] = g[d];
        }
      }
      if (probs) {
        const float *saved = probs + (b * H + h) * T * T;
        for (int i = 0; i < T; i++)
          for (int j = 0; j < T; j++) P[i * Tp + j] = saved[i * T + j];
      } else {
        head_probs(qkv, mask_of(mask, maskBatch, b, T), b, h, T, C, hd, Qs, Kt, P);
      }
      float *dst = dqkv + b * T * 3 * C + h * hd;
      // dV = Pᵀ·dO
      gemm(P, 1, Tp, dO, Dp, G, Dp, Tp, Dp, Tp, UPPER_K);
      for (int i = 0; i < T; i++)
        for (int d = 0; d < hd; d++) dst[i * 3 * C + 2 * C + d] = G[i * Dp + d];
      // dP = dO·Vᵀ into dS, then dS in place. Entries past n4 were not computed: zero them.
      gemm(dO, Dp, 1, Vt, Tp, dS, Tp, Tp, Tp, Dp, LOWER_N);
      for (int i = 0; i < Tp; i++) {
        float *p = P + i * Tp, *s = dS + i * Tp;
        int n4 = i < T ? round_up(i + 1, 4) : 0;
        v128_t acc = wasm_f32x4_splat(0);
        for (int j = 0; j < n4; j += 4) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(p + j), wasm_v128_load(s + j)));
        v128_t D = wasm_f32x4_splat(hsum(acc)), sc = wasm_f32x4_splat(scale);
        for (int j = 0; j < n4; j += 4)
          wasm_v128_store(s + j, wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(p + j), wasm_f32x4_sub(wasm_v128_load(s + j), D)), sc));
        zero(s + n4, Tp - n4);
      }
      // dQ = dS·K
      gemm(dS, Tp, 1, K, Dp, G, Dp, Tp, Dp, Tp, LOWER_K);
      for (int i = 0; i < T; i++)
        for (int d = 0; d < hd; d++) dst[i * 3 * C + d] = G[i * Dp + d];
      // dK = dSᵀ·Q
      gemm(dS, 1, Tp, Q, Dp, G, Dp, Tp, Dp, Tp, UPPER_K);
      for (int i = 0; i < T; i++)
        for (int d = 0; d < hd; d++) dst[i * 3 * C + C + d] = G[i * Dp + d];
    }
  }
}

// Pieces shared by the fused decode steps (decode_attention.cc, decode_deltanet.cc,
// decode_titans.cc, decode_hope.cc): the bias-free projection over the step's rows as one GEMM,
// SiLU, the ℓ2 row scaling, the causal depthwise conv on a rolling cache, and the block's SwiGLU
// half x ← x + (silu(RMSNorm2(x) W_gate^T) ⊙ RMSNorm2(x) W_up^T) W_down^T.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "cpu/gemm.h"
#include "cpu/nn_ops.h"

namespace nl::decode_parts {

inline void gemm_t(const GemmArgs& g, float beta, const float* a, const float* b, float* c) {
  gemm_f32(g, 1.0f, a, b, beta, c);
}
inline void gemm_t(const GemmArgs& g, double beta, const double* a, const double* b, double* c) {
  gemm_f64(g, 1.0, a, b, beta, c);
}

// y [n, out] (= or +=) x [n, in] · W^T, W [out, in] row-major (an nn.Linear weight).
template <typename T>
void linear(int64_t n, int64_t in, int64_t out, const T* x, const T* w, T* y, bool accumulate) {
  GemmArgs g;
  g.trans_b = true;
  g.m = n;
  g.n = out;
  g.k = in;
  g.lda = in;
  g.ldb = in;
  g.ldc = out;
  gemm_t(g, accumulate ? T(1) : T(0), x, w, y);
}

template <typename T>
inline T silu(T v) {
  return v / (T(1) + std::exp(-v));
}

// x ← x / √(Σ x² + 1e-6) · scale over dh elements (models/mixer-parts.ts l2norm).
template <typename T>
void l2_scale(T* x, int64_t dh, double scale) {
  double ss = 0;
  for (int64_t e = 0; e < dh; ++e) ss += static_cast<double>(x[e]) * x[e];
  const T s = static_cast<T>(scale / std::sqrt(ss + 1e-6));
  for (int64_t e = 0; e < dh; ++e) x[e] *= s;
}

// Causal depthwise conv over rows: zin [K-1+n, C] holds [cache; new rows]; out [n, C] gets
// out[i, ch] = bias[ch] + Σ_j conv[ch, j] zin[i + j, ch] (bias null: none), and cache [K-1, C]
// takes the last K-1 rows of zin.
template <typename T>
void causal_conv(int64_t n, int64_t C, int64_t K, const T* conv, const T* bias, const T* zin, T* out, T* cache) {
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t ch = 0; ch < C; ++ch) {
      T acc = bias ? bias[ch] : T(0);
      for (int64_t j = 0; j < K; ++j) acc += conv[ch * K + j] * zin[(i + j) * C + ch];
      out[i * C + ch] = acc;
    }
  }
  std::copy(zin + n * C, zin + (K - 1 + n) * C, cache);
}

// x [n, D] += SwiGLU(RMSNorm(x; norm)); scratch h [n, D], g, u [n, F], rstd [n].
template <typename T>
void swiglu_residual(int64_t n, int64_t D, int64_t F, double eps, const T* norm, const T* w_gate, const T* w_up,
                     const T* w_down, T* x, T* h, T* g, T* u, double* rstd) {
  rms_norm_forward<T>(x, norm, n, D, eps, h, rstd);
  linear(n, D, F, h, w_gate, g, false);
  linear(n, D, F, h, w_up, u, false);
  for (int64_t i = 0; i < n * F; ++i) g[i] = silu(g[i]) * u[i];
  linear(n, F, D, g, w_down, x, true);
}

// The tail of a gated mixer block (DeltaNet, Titans): per-head RMSNorm of o [n, H·Dh] in place,
// x += (norm(o) ⊙ SiLU(h W_g^T)) W_o^T, then x += SwiGLU(RMSNorm2(x)). `act` is the SiLU used for
// the gate (the Titans step's exp_fast one, or silu above); scratch g [n, D], f1, f2 [n, F],
// rstd [n·H]; h [n, D] (RMSNorm1(x)) is reused as scratch by the SwiGLU half.
template <typename T, typename Silu>
void gated_out_swiglu(int64_t n, int64_t D, int64_t H, int64_t F, double eps, const T* out_norm, const T* w_gate_out,
                      const T* w_out, const T* norm2, const T* w_gate, const T* w_up, const T* w_down, Silu act, T* o,
                      T* h, T* g, T* x, T* f1, T* f2, double* rstd) {
  rms_norm_forward<T>(o, out_norm, n * H, D / H, eps, o, rstd);  // per-head norm, in place
  linear(n, D, D, h, w_gate_out, g, false);
  for (int64_t i = 0; i < n * D; ++i) g[i] = o[i] * act(g[i]);
  linear(n, D, D, g, w_out, x, true);  // x += (norm(o) ⊙ SiLU(h W_g^T)) W_o^T
  swiglu_residual(n, D, F, eps, norm2, w_gate, w_up, w_down, x, h, f1, f2, rstd);
}

}  // namespace nl::decode_parts

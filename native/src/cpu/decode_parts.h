// Pieces shared by the fused decode steps (decode_attention.cc, decode_deltanet.cc): the
// bias-free projection over the step's rows as one GEMM, SiLU, and the block's SwiGLU half
// x ← x + (silu(RMSNorm2(x) W_gate^T) ⊙ RMSNorm2(x) W_up^T) W_down^T.
#pragma once
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

}  // namespace nl::decode_parts

// Batched Newton–Schulz (see newton_schulz.h). Version 1: normalise/transpose into a scratch X,
// three batched gemm calls per iteration (X Xᵀ, bA + cA², aX + BX), transpose back.
#include "cpu/newton_schulz.h"

#include <cmath>
#include <utility>
#include <vector>

#include "cpu/gemm.h"

namespace nl {
namespace {

void gemm_t(const GemmArgs& g, float alpha, const float* a, const float* b, float beta, float* c) {
  gemm_f32(g, alpha, a, b, beta, c);
}
void gemm_t(const GemmArgs& g, double alpha, const double* a, const double* b, double beta, double* c) {
  gemm_f64(g, alpha, a, b, beta, c);
}

template <typename T>
void newton_schulz(const T* g, T* out, int64_t batch, int64_t rows, int64_t cols, int64_t steps) {
  const double ca = 3.4445, cb = -4.7750, cc = 2.0315;
  const bool tr = rows > cols;
  const int64_t r = tr ? cols : rows, n = tr ? rows : cols, mn = r * n;
  std::vector<T> x(static_cast<size_t>(batch * mn)), y(x.size()), A(static_cast<size_t>(batch * r * r)), B(A.size());
  for (int64_t t = 0; t < batch; t++) {
    const T* src = g + t * mn;
    double ss = 0;
    for (int64_t i = 0; i < mn; i++) ss += static_cast<double>(src[i]) * static_cast<double>(src[i]);
    const double inv = 1.0 / (std::sqrt(ss) + 1e-7);
    T* dst = x.data() + t * mn;
    if (tr) {
      for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) dst[j * n + i] = static_cast<T>(src[i * cols + j] * inv);
    } else {
      for (int64_t i = 0; i < mn; i++) dst[i] = static_cast<T>(src[i] * inv);
    }
  }
  GemmArgs xxT;  // A = X Xᵀ: [r, n]·[n, r]
  xxT.trans_b = true;
  xxT.m = r; xxT.n = r; xxT.k = n; xxT.lda = n; xxT.ldb = n; xxT.ldc = r;
  xxT.batch = batch; xxT.stride_a = mn; xxT.stride_b = mn; xxT.stride_c = r * r;
  GemmArgs aa;   // B = c A·A + b B (B holds a copy of A)
  aa.m = r; aa.n = r; aa.k = r; aa.lda = r; aa.ldb = r; aa.ldc = r;
  aa.batch = batch; aa.stride_a = r * r; aa.stride_b = r * r; aa.stride_c = r * r;
  GemmArgs bx;   // Y = B·X + a Y (Y holds a copy of X)
  bx.m = r; bx.n = n; bx.k = r; bx.lda = r; bx.ldb = n; bx.ldc = n;
  bx.batch = batch; bx.stride_a = r * r; bx.stride_b = mn; bx.stride_c = mn;
  for (int64_t s = 0; s < steps; s++) {
    gemm_t(xxT, T(1), x.data(), x.data(), T(0), A.data());
    B = A;
    gemm_t(aa, static_cast<T>(cc), A.data(), A.data(), static_cast<T>(cb), B.data());
    y = x;
    gemm_t(bx, T(1), B.data(), x.data(), static_cast<T>(ca), y.data());
    std::swap(x, y);
  }
  for (int64_t t = 0; t < batch; t++) {
    const T* src = x.data() + t * mn;
    T* dst = out + t * mn;
    if (tr) {
      for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) dst[i * cols + j] = src[j * n + i];
    } else {
      for (int64_t i = 0; i < mn; i++) dst[i] = src[i];
    }
  }
}

}  // namespace

void newton_schulz_f32(const float* g, float* out, int64_t batch, int64_t rows, int64_t cols, int64_t steps) {
  newton_schulz<float>(g, out, batch, rows, cols, steps);
}
void newton_schulz_f64(const double* g, double* out, int64_t batch, int64_t rows, int64_t cols, int64_t steps) {
  newton_schulz<double>(g, out, batch, rows, cols, steps);
}

}  // namespace nl

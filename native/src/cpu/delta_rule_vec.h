// Small vector helpers for the memory kernels (delta_rule*.cc, titans*.cc): a dot product with
// independent lane accumulators (so the compiler vectorises it without -ffast-math reassociation),
// axpy and a fused "y = a*y + b*x". Plain loops; -O3 -march=native turns them into SIMD.
#pragma once
#include <cstdint>

namespace nl::memvec {

// sum_i a[i] * b[i], 16 independent partial sums.
template <typename F>
inline F dot(const F* a, const F* b, int64_t n) {
  constexpr int W = 16;
  F acc[W] = {};
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    for (int l = 0; l < W; ++l) acc[l] += a[i + l] * b[i + l];
  }
  F s = 0;
  for (; i < n; ++i) s += a[i] * b[i];
  for (int l = 0; l < W; ++l) s += acc[l];
  return s;
}

// y += alpha * x
template <typename F>
inline void axpy(int64_t n, F alpha, const F* x, F* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

// y = a * y + b * x
template <typename F>
inline void axpby(int64_t n, F b, const F* x, F a, F* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = a * y[i] + b * x[i];
}

}  // namespace nl::memvec

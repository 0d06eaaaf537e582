// Internal helpers of the CMS kernels (cms_forward.cc, cms_backward.cc, cms_observe.cc): a dtype
// dispatch over the native GEMM, sigmoid / silu' and threaded elementwise passes over rows.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "cpu/gemm.h"
#include "cpu/thread_pool.h"

namespace nl::cms_detail {

inline void gemm(const GemmArgs& g, float alpha, const float* a, const float* b, float beta, float* c) {
  gemm_f32(g, alpha, a, b, beta, c);
}
inline void gemm(const GemmArgs& g, double alpha, const double* a, const double* b, double beta, double* c) {
  gemm_f64(g, alpha, a, b, beta, c);
}

// C [m, n] = alpha op(A) op(B) + beta C with dense row-major operands (leading dims from the shapes).
template <typename F>
void mm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, F alpha, const F* a, const F* b, F beta, F* c) {
  GemmArgs g;
  g.trans_a = ta;
  g.trans_b = tb;
  g.m = m;
  g.n = n;
  g.k = k;
  g.lda = ta ? m : k;
  g.ldb = tb ? k : n;
  g.ldc = n;
  gemm(g, alpha, a, b, beta, c);
}

// silu'(x) given s = sigmoid(x)
template <typename F>
inline F dsilu(F x, F s) {
  return s * (F(1) + x * (F(1) - s));
}

// fn(begin, end) over [0, n) elements, threaded: ranges of at least 4096 that threads claim as they
// become free (a thread descheduled on a shared machine does not hold the others up).
template <typename Fn>
void rows(int64_t n, Fn&& fn) {
  parallel_for_dynamic(n, std::max<int64_t>(4096, n / (4 * num_threads())), fn);
}

// Host scratch kept between calls, per calling thread and slot (0..3), n elements, not zeroed: the
// kernels overwrite every element they read. Fresh MB-sized vectors per call cost a page fault per
// page and a memset (≈15% of a hope-tiny CMS call).
template <typename F>
F* scratch(int slot, int64_t n) {
  thread_local std::vector<F> bufs[4];
  std::vector<F>& v = bufs[slot];
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
  return v.data();
}

}  // namespace nl::cms_detail

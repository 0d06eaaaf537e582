// GEMM reference ("version 1"): threaded over rows of C, i-k-j loop order so the inner loop streams
// a row of B and a row of C (vectorised by the compiler). Correct for every layout, not blocked or
// packed. It is the plain reference the fast kernel in gemm.cc is tested against (JS:
// `native.gemmRef`), and what to read first to see what GEMM computes.
#include <algorithm>

#include "cpu/gemm.h"
#include "cpu/thread_pool.h"

namespace nl {
namespace {

template <typename T>
void gemm_ref(const GemmArgs& g, T alpha, const T* a, const T* b, T beta, T* c) {
  const int64_t rows = g.batch * g.m;
  const int64_t grain = std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(1, g.n * g.k));
  parallel_for(rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t bi = r / g.m, i = r % g.m;
      const T* A = a + bi * g.stride_a;
      const T* B = b + bi * g.stride_b;
      T* C = c + bi * g.stride_c + i * g.ldc;
      if (beta == T(0)) {
        for (int64_t j = 0; j < g.n; ++j) C[j] = T(0);
      } else if (beta != T(1)) {
        for (int64_t j = 0; j < g.n; ++j) C[j] *= beta;
      }
      for (int64_t p = 0; p < g.k; ++p) {
        const T av = alpha * (g.trans_a ? A[p * g.lda + i] : A[i * g.lda + p]);
        if (!g.trans_b) {
          const T* Brow = B + p * g.ldb;
          for (int64_t j = 0; j < g.n; ++j) C[j] += av * Brow[j];
        } else {
          for (int64_t j = 0; j < g.n; ++j) C[j] += av * B[j * g.ldb + p];
        }
      }
    }
  });
}

}  // namespace

void gemm_ref_f32(const GemmArgs& g, float alpha, const float* a, const float* b, float beta, float* c) {
  gemm_ref(g, alpha, a, b, beta, c);
}
void gemm_ref_f64(const GemmArgs& g, double alpha, const double* a, const double* b, double beta, double* c) {
  gemm_ref(g, alpha, a, b, beta, c);
}

}  // namespace nl

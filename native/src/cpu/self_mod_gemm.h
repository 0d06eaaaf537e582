// Small products and elementwise helpers of the SelfModifyingTitans CPU kernels (self_mod*.cc).
// The shapes are tiny (rows: a piece of <= 64 tokens; columns: D or Dh, often 16 or 32), so the
// column block is one SIMD vector (16 floats / 8 doubles): a 16-column product runs in full
// vectors instead of falling into a scalar remainder (tiles of self_mod_vec.h vectors).
#pragma once
#include <cstdint>

#include "cpu/self_mod_vec.h"

namespace nl::self_mod_detail {

// Rows [i0, i0 + R) of C (+)= op(A) B, columns [j0, j0 + JB): op(A) = A [M, K] (lda) or, with TA,
// A^T where A is stored [K, M] (lda). B [K, N] (ldb), C [M, N] (ldc).
template <typename F, bool TA, int64_t R>
inline void gemm_tile(int64_t i0, int64_t j0, int64_t K, const F* A, int64_t lda, const F* B, int64_t ldb, F* C,
                      int64_t ldc, bool accumulate) {
  using V = Vec<F>;
  V acc[R];
  for (int64_t r = 0; r < R; ++r) acc[r] = V{} + F(0);
  for (int64_t p = 0; p < K; ++p) {
    const V b = vload<V>(B + p * ldb + j0);
    for (int64_t r = 0; r < R; ++r) acc[r] += (TA ? A[p * lda + i0 + r] : A[(i0 + r) * lda + p]) * b;
  }
  for (int64_t r = 0; r < R; ++r) {
    F* c = C + (i0 + r) * ldc + j0;
    vstore(c, accumulate ? vload<V>(c) + acc[r] : acc[r]);
  }
}

// C [M, N] (+)= op(A) B (see gemm_tile).
template <typename F, bool TA = false>
inline void gemm(int64_t M, int64_t N, int64_t K, const F* A, int64_t lda, const F* B, int64_t ldb, F* C,
                 int64_t ldc, bool accumulate) {
  constexpr int64_t JB = kLanes<F>, RB = 4;
  int64_t j0 = 0;
  for (; j0 + JB <= N; j0 += JB) {
    int64_t i0 = 0;
    for (; i0 + RB <= M; i0 += RB) gemm_tile<F, TA, RB>(i0, j0, K, A, lda, B, ldb, C, ldc, accumulate);
    for (; i0 < M; ++i0) gemm_tile<F, TA, 1>(i0, j0, K, A, lda, B, ldb, C, ldc, accumulate);
  }
  if (j0 == N) return;
  for (int64_t i = 0; i < M; ++i) {  // column remainder
    F* c = C + i * ldc;
    if (!accumulate) {
      for (int64_t j = j0; j < N; ++j) c[j] = 0;
    }
    for (int64_t p = 0; p < K; ++p) {
      const F a = TA ? A[p * lda + i] : A[i * lda + p];
      const F* b = B + p * ldb;
      for (int64_t j = j0; j < N; ++j) c[j] += a * b[j];
    }
  }
}

}  // namespace nl::self_mod_detail

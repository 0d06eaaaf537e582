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

namespace nl::memvec {

// Small row-major product C (+)= A B with A [M, K] (lda), B [K, N] (ldb), C [M, N] (ldc).
// Register-blocked: 4 rows of C by a fixed-width column block held in local accumulators, the
// column loop vectorised; sized for the 16..128 shapes of chunk kernels (no packing, no threads).
template <typename F>
inline void matmul(int64_t M, int64_t N, int64_t K, const F* A, int64_t lda, const F* B, int64_t ldb, F* C,
                   int64_t ldc, bool accumulate) {
  constexpr int64_t JB = 64 / static_cast<int64_t>(sizeof(F)) * 2;  // two 512-bit vectors per row
  constexpr int64_t RB = 4;
  for (int64_t i0 = 0; i0 < M; i0 += RB) {
    const int64_t rows = M - i0 < RB ? M - i0 : RB;
    int64_t j0 = 0;
    for (; j0 + JB <= N; j0 += JB) {
      F acc[RB][JB] = {};
      if (rows == RB) {
        for (int64_t p = 0; p < K; ++p) {
          const F* b = B + p * ldb + j0;
          const F a0 = A[(i0 + 0) * lda + p], a1 = A[(i0 + 1) * lda + p];
          const F a2 = A[(i0 + 2) * lda + p], a3 = A[(i0 + 3) * lda + p];
          for (int64_t j = 0; j < JB; ++j) {
            acc[0][j] += a0 * b[j];
            acc[1][j] += a1 * b[j];
            acc[2][j] += a2 * b[j];
            acc[3][j] += a3 * b[j];
          }
        }
      } else {
        for (int64_t p = 0; p < K; ++p) {
          const F* b = B + p * ldb + j0;
          for (int64_t r = 0; r < rows; ++r) {
            const F a = A[(i0 + r) * lda + p];
            for (int64_t j = 0; j < JB; ++j) acc[r][j] += a * b[j];
          }
        }
      }
      for (int64_t r = 0; r < rows; ++r) {
        F* c = C + (i0 + r) * ldc + j0;
        if (accumulate) {
          for (int64_t j = 0; j < JB; ++j) c[j] += acc[r][j];
        } else {
          for (int64_t j = 0; j < JB; ++j) c[j] = acc[r][j];
        }
      }
    }
    if (j0 < N) {  // column remainder
      const int64_t w = N - j0;
      for (int64_t r = 0; r < rows; ++r) {
        F* c = C + (i0 + r) * ldc + j0;
        if (!accumulate) for (int64_t j = 0; j < w; ++j) c[j] = 0;
        for (int64_t p = 0; p < K; ++p) {
          const F a = A[(i0 + r) * lda + p];
          const F* b = B + p * ldb + j0;
          for (int64_t j = 0; j < w; ++j) c[j] += a * b[j];
        }
      }
    }
  }
}

// out [C, R] = in [R, C]^T (row-major, leading dims ld_in / ld_out), optionally scaling column i
// of out (row i of in) by scale[i].
template <typename F>
inline void transpose(int64_t R, int64_t Cc, const F* in, int64_t ld_in, F* out, int64_t ld_out,
                      const F* scale = nullptr) {
  for (int64_t i = 0; i < R; ++i) {
    const F s = scale ? scale[i] : F(1);
    for (int64_t j = 0; j < Cc; ++j) out[j * ld_out + i] = s * in[i * ld_in + j];
  }
}

}  // namespace nl::memvec

// Small-m GEMM (m < MR): see gemm_small.h. The reference for it is the same as for every GEMM path
// (gemm_ref.cc); tests in native/test/gemm.test.ts cover m = 1..5 with every transpose.
#include "cpu/gemm_small.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/gemm_kernel.h"
#include "cpu/thread_pool.h"

namespace nl::gemm_detail::NL_GEMM_ISA {
namespace {

// c <- alpha * s + beta * c, rounded as the micro-kernel's store (beta == 0 does not read c).
template <typename T>
inline void put(T* c, T s, T alpha, T beta) {
  if (beta == T(0)) {
    *c = alpha * s;
  } else if (beta == T(1)) {
    *c = std::fma(alpha, s, *c);
  } else {
    *c = std::fma(alpha, s, beta * *c);
  }
}

// op(B) = B: columns [j0, j1) of C's M rows; B rows are ldb apart. Streams B row by row (as the
// reference loop does) into M accumulator rows of up to NB columns that stay in L1.
template <typename T, int M>
void rows_times_b(int64_t k, const T* const* arow, const T* b, int64_t ldb, int64_t j0, int64_t j1, T* c,
                  int64_t ldc, T alpha, T beta) {
  using VT = Vec<T>;
  using V = typename VT::V;
  constexpr int W = VT::W;
  constexpr int64_t NB = 512;
  alignas(64) T acc[M][NB];
  for (int64_t jb = j0; jb < j1; jb += NB) {
    const int64_t nb = std::min(NB, j1 - jb), nv = nb / W * W;
    for (int i = 0; i < M; ++i) std::fill(acc[i], acc[i] + nb, T(0));
    const T* brow = b + jb;
    for (int64_t p = 0; p < k; ++p, brow += ldb) {
#pragma GCC unroll 8
      for (int i = 0; i < M; ++i) {
        const T ai = arow[i][p];
        const V av = VT::set1(ai);
        T* acc_i = acc[i];
        for (int64_t j = 0; j < nv; j += W) VT::store(acc_i + j, VT::fma(av, VT::load(brow + j), VT::load(acc_i + j)));
        for (int64_t j = nv; j < nb; ++j) acc_i[j] = std::fma(ai, brow[j], acc_i[j]);
      }
    }
    const V va = VT::set1(alpha), vb = VT::set1(beta);
    for (int i = 0; i < M; ++i) {
      T* cr = c + i * ldc + jb;
      const T* acc_i = acc[i];
      for (int64_t j = 0; j < nv; j += W) {
        if (beta == T(0)) {
          VT::store(cr + j, VT::mul(va, VT::load(acc_i + j)));
        } else if (beta == T(1)) {
          VT::store(cr + j, VT::fma(va, VT::load(acc_i + j), VT::load(cr + j)));
        } else {
          VT::store(cr + j, VT::fma(va, VT::load(acc_i + j), VT::mul(vb, VT::load(cr + j))));
        }
      }
      for (int64_t j = nv; j < nb; ++j) put(cr + j, acc_i[j], alpha, beta);
    }
  }
}

// op(B) = B, register-tiled: rows of C accumulate 4 vectors of columns over all of k in registers
// (B read in 4W-wide column strips, ldb apart). Better than streaming once M >= 3.
template <typename T, int M>
void rows_times_b_reg(int64_t k, const T* const* arow, const T* b, int64_t ldb, int64_t j0, int64_t j1, T* c,
                      int64_t ldc, T alpha, T beta) {
  using VT = Vec<T>;
  using V = typename VT::V;
  constexpr int W = VT::W, NV = 4;
  int64_t j = j0;
  for (; j + NV * W <= j1; j += NV * W) {
    V acc[M][NV];
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = VT::zero();
    const T* bp = b + j;
    for (int64_t p = 0; p < k; ++p, bp += ldb) {
      V bv[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) bv[v] = VT::load(bp + v * W);
#pragma GCC unroll 8
      for (int i = 0; i < M; ++i) {
        const V av = VT::set1(arow[i][p]);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[i][v] = VT::fma(av, bv[v], acc[i][v]);
      }
    }
    const V va = VT::set1(alpha), vb = VT::set1(beta);
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
        T* cp = c + i * ldc + j + v * W;
        if (beta == T(0)) {
          VT::store(cp, VT::mul(va, acc[i][v]));
        } else if (beta == T(1)) {
          VT::store(cp, VT::fma(va, acc[i][v], VT::load(cp)));
        } else {
          VT::store(cp, VT::fma(va, acc[i][v], VT::mul(vb, VT::load(cp))));
        }
      }
  }
  if (j < j1) rows_times_b<T, M>(k, arow, b, ldb, j, j1, c, ldc, alpha, beta);  // the last columns
}

// op(B) = B^T: C[i, j] = dot(row i of op(A), row j of B) for j in [j0, j1).
template <typename T, int M>
void rows_dot_bt(int64_t k, const T* const* arow, const T* b, int64_t ldb, int64_t j0, int64_t j1, T* c,
                 int64_t ldc, T alpha, T beta) {
  using VT = Vec<T>;
  using V = typename VT::V;
  constexpr int W = VT::W;
  constexpr int J = sizeof(V) >= 64 ? 4 : 2;  // B rows per pass: M*J accumulators stay in registers
  const int64_t kv = k / W * W;
  for (int64_t j = j0; j < j1; j += J) {
    const int nj = static_cast<int>(std::min<int64_t>(J, j1 - j));
    const T* br[J];
    for (int q = 0; q < J; ++q) br[q] = b + (j + std::min(q, nj - 1)) * ldb;  // clamp: no reads past row j1-1
    V acc[M][J];
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i)
#pragma GCC unroll 8
      for (int q = 0; q < J; ++q) acc[i][q] = VT::zero();
    for (int64_t p = 0; p < kv; p += W) {
      V bv[J];
#pragma GCC unroll 8
      for (int q = 0; q < J; ++q) bv[q] = VT::load(br[q] + p);
#pragma GCC unroll 8
      for (int i = 0; i < M; ++i) {
        const V av = VT::load(arow[i] + p);
#pragma GCC unroll 8
        for (int q = 0; q < J; ++q) acc[i][q] = VT::fma(av, bv[q], acc[i][q]);
      }
    }
    for (int i = 0; i < M; ++i)
      for (int q = 0; q < nj; ++q) {
        T s = VT::sum(acc[i][q]);
        for (int64_t p = kv; p < k; ++p) s = std::fma(arow[i][p], br[q][p], s);
        put(c + i * ldc + j + q, s, alpha, beta);
      }
  }
}

template <typename T, int M>
void run_m(const GemmArgs& g, const T* const* arow, T alpha, const T* b, T beta, T* c, bool parallel) {
  const int64_t n = g.n, k = g.k;
  // Columns per task: whole vector blocks, and enough work to be worth a hand-off.
  const int64_t step = 4 * Vec<T>::W;
  const int64_t blocks = (n + step - 1) / step;
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 15) / std::max<int64_t>(1, k * M * step));
  auto cols = [&](int64_t b0, int64_t b1) {
    const int64_t j0 = b0 * step, j1 = std::min(n, b1 * step);
    if (g.trans_b) {
      rows_dot_bt<T, M>(k, arow, b, g.ldb, j0, j1, c, g.ldc, alpha, beta);
    } else {
      if constexpr (M <= 2) {
        rows_times_b<T, M>(k, arow, b, g.ldb, j0, j1, c, g.ldc, alpha, beta);
      } else {
        rows_times_b_reg<T, M>(k, arow, b, g.ldb, j0, j1, c, g.ldc, alpha, beta);
      }
    }
  };
  if (parallel) {
    parallel_for(blocks, grain, cols);
  } else {
    cols(0, blocks);
  }
}

template <typename T>
void small_m(const GemmArgs& g, T alpha, const T* a, const T* b, T beta, T* c, bool parallel) {
  const int64_t m = g.m, k = g.k;
  std::vector<T> at;  // op(A) as contiguous rows when A is transposed (m * k elements)
  const T* arow[8];
  if (g.trans_a) {
    at.resize(static_cast<size_t>(m * k));
    for (int64_t p = 0; p < k; ++p)
      for (int64_t i = 0; i < m; ++i) at[i * k + p] = a[p * g.lda + i];
    for (int64_t i = 0; i < m; ++i) arow[i] = at.data() + i * k;
  } else {
    for (int64_t i = 0; i < m; ++i) arow[i] = a + i * g.lda;
  }
  switch (m) {
    case 1: run_m<T, 1>(g, arow, alpha, b, beta, c, parallel); break;
    case 2: run_m<T, 2>(g, arow, alpha, b, beta, c, parallel); break;
    case 3: run_m<T, 3>(g, arow, alpha, b, beta, c, parallel); break;
    case 4: run_m<T, 4>(g, arow, alpha, b, beta, c, parallel); break;
    case 5: run_m<T, 5>(g, arow, alpha, b, beta, c, parallel); break;
    default: break;  // callers only send m < MR <= 6
  }
}

}  // namespace

void gemm_small_m(const GemmArgs& g, float alpha, const float* a, const float* b, float beta, float* c,
                  bool parallel) {
  small_m(g, alpha, a, b, beta, c, parallel);
}
void gemm_small_m(const GemmArgs& g, double alpha, const double* a, const double* b, double beta, double* c,
                  bool parallel) {
  small_m(g, alpha, a, b, beta, c, parallel);
}

}  // namespace nl::gemm_detail::NL_GEMM_ISA

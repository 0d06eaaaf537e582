// GEMM for products with fewer rows than the micro-kernel's tile (m < MR): matrix-vector shapes,
// as in batch-1 inference (x[1, in] · W^T). Such products are bound by reading B once, so this
// path packs nothing and streams B straight from the caller's array:
//   op(B) = B   (row-major [k, n]): B streamed row by row into M accumulator rows held in L1
//                (m <= 2), or 4-vector column strips accumulated in registers (m >= 3)
//   op(B) = B^T (B is [n, k])     : dot products of A's rows with 4 rows of B at a time
// op(A) is read in place (copied into contiguous rows first when transposed: m * k elements).
// Used by gemm.cc; versions: SIMD through Vec<T> (gemm_kernel.h), so AVX-512, AVX2 or scalar.
#pragma once
#include "cpu/gemm.h"
#include "cpu/gemm_isa.h"

namespace nl::gemm_detail::NL_GEMM_ISA {

// One product (batch entry) with g.m < GemmTile<T>::MR and g.k > 0. With `parallel`, columns are
// split over the thread pool.
void gemm_small_m(const GemmArgs& g, float alpha, const float* a, const float* b, float beta, float* c, bool parallel);
void gemm_small_m(const GemmArgs& g, double alpha, const double* a, const double* b, double beta, double* c,
                  bool parallel);

}  // namespace nl::gemm_detail::NL_GEMM_ISA

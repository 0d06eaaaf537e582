// GEMM packing: copies a block of op(A) or op(B) into the panel layout the micro-kernel reads
// (gemm_kernel.h), handling the transposes here so the kernel only ever sees one layout.
//
//   pack_a: op(A)[i0 .. i0+mc, p0 .. p0+kc] -> ceil(mc/MR) panels, each kc columns of MR values
//   pack_b: op(B)[p0 .. p0+kc, j0 .. j0+nc] -> ceil(nc/NR) panels, each kc rows of NR values
// Rows/columns past the matrix edge are written as zeros, so edge tiles need no special kernel.
// op(A)[i, p] is A[i*lda + p], or A[p*lda + i] when transposed (likewise for B with ldb).
#pragma once
#include <algorithm>
#include <cstdint>

#include "cpu/gemm_kernel.h"

namespace nl::gemm_detail {

// One MR-row panel of op(A) (mr <= MR valid rows) starting at row i0.
template <typename T>
void pack_a_panel(T* __restrict dst, const T* A, int64_t lda, bool trans, int64_t i0, int mr, int64_t p0,
                  int64_t kc) {
  constexpr int MR = GemmTile<T>::MR;
  if (trans) {
    const T* src = A + p0 * lda + i0;
    for (int64_t p = 0; p < kc; ++p, src += lda, dst += MR) {
      if (mr == MR) {
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i) dst[i] = src[i];
      } else {
        for (int i = 0; i < MR; ++i) dst[i] = i < mr ? src[i] : T(0);
      }
    }
    return;
  }
  const T* rows[MR];
  for (int i = 0; i < MR; ++i) rows[i] = A + (i0 + std::min(i, mr - 1)) * lda + p0;
  if (mr == MR) {
    for (int64_t p = 0; p < kc; ++p, dst += MR) {
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) dst[i] = rows[i][p];
    }
  } else {
    for (int64_t p = 0; p < kc; ++p, dst += MR) {
      for (int i = 0; i < MR; ++i) dst[i] = i < mr ? rows[i][p] : T(0);
    }
  }
}

// Packs rows [i0, i0+mc) x columns [p0, p0+kc) of op(A).
template <typename T>
void pack_a(T* dst, const T* A, int64_t lda, bool trans, int64_t i0, int64_t mc, int64_t p0, int64_t kc) {
  constexpr int MR = GemmTile<T>::MR;
  for (int64_t ir = 0; ir < mc; ir += MR) {
    const int mr = static_cast<int>(std::min<int64_t>(MR, mc - ir));
    pack_a_panel(dst + ir * kc, A, lda, trans, i0 + ir, mr, p0, kc);
  }
}

// One NR-column panel of op(B) (nr <= NR valid columns) starting at column j0.
template <typename T>
void pack_b_panel(T* __restrict dst, const T* B, int64_t ldb, bool trans, int64_t p0, int64_t kc, int64_t j0,
                  int nr) {
  constexpr int NR = GemmTile<T>::NR;
  if (!trans) {
    const T* src = B + p0 * ldb + j0;
    for (int64_t p = 0; p < kc; ++p, src += ldb, dst += NR) {
      if (nr == NR) {
#pragma GCC unroll 4
        for (int j = 0; j < NR; ++j) dst[j] = src[j];
      } else {
        int j = 0;
        for (; j < nr; ++j) dst[j] = src[j];
        for (; j < NR; ++j) dst[j] = T(0);
      }
    }
    return;
  }
  // Transposed: column j of op(B) is row j of B. Walk p in short blocks so the NR destination
  // rows being written stay in L1 while each source row is read contiguously.
  constexpr int64_t PB = 16;
  for (int64_t pb = 0; pb < kc; pb += PB) {
    const int64_t pe = std::min(kc, pb + PB);
    for (int j = 0; j < nr; ++j) {
      const T* src = B + (j0 + j) * ldb + p0;
      for (int64_t p = pb; p < pe; ++p) dst[p * NR + j] = src[p];
    }
    for (int j = nr; j < NR; ++j)
      for (int64_t p = pb; p < pe; ++p) dst[p * NR + j] = T(0);
  }
}

// Packs rows [p0, p0+kc) x columns [j0, j0+nc) of op(B).
template <typename T>
void pack_b(T* dst, const T* B, int64_t ldb, bool trans, int64_t p0, int64_t kc, int64_t j0, int64_t nc) {
  constexpr int NR = GemmTile<T>::NR;
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int nr = static_cast<int>(std::min<int64_t>(NR, nc - jr));
    pack_b_panel(dst + jr * kc, B, ldb, trans, p0, kc, j0 + jr, nr);
  }
}

}  // namespace nl::gemm_detail

// GEMM packing: copies a block of op(A) or op(B) into the panel layout the micro-kernel reads
// (gemm_kernel.h), handling the transposes here so the kernel only ever sees one layout.
//
//   pack_a: op(A)[i0 .. i0+mc, p0 .. p0+kc] -> ceil(mc/MR) panels, each kc columns of MR values
//   pack_b: op(B)[p0 .. p0+kc, j0 .. j0+nc] -> ceil(nc/NR) panels, each kc rows of NR values
// Rows/columns past the matrix edge are written as zeros, so edge tiles need no special kernel.
// op(A)[i, p] is A[i*lda + p], or A[p*lda + i] when transposed (likewise for B with ldb).
// Versions: plain loops for every case; f32 with AVX2 adds 8x8 register transposes (A, and B^T)
// and, with AVX-512VL, k-masked 6-lane copies (A^T).
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "cpu/gemm_kernel.h"

namespace nl::gemm_detail::NL_GEMM_ISA {

#if defined(NL_GEMM_AVX2)
// In-register transpose of an 8x8 f32 block: r[i] holds row i on entry and column i on exit.
inline void transpose8x8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; ++i) {
    u[4 * i + 0] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

// f32 B^T panels: columns j0.. of op(B) are rows of B; 8x8 blocks are transposed in registers.
// Covers rows [0, kc8) of the panel for all NR columns; returns kc8 (a multiple of 8).
template <int NR>
inline int64_t pack_bt_f32(float* __restrict dst, const float* B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0) {
  const int64_t kc8 = kc / 8 * 8;
  for (int j = 0; j < NR; j += 8) {
    const float* src = B + (j0 + j) * ldb + p0;
    for (int64_t p = 0; p < kc8; p += 8) {
      __m256 r[8];
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * ldb + p);
      transpose8x8(r);
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) _mm256_storeu_ps(dst + (p + i) * NR + j, r[i]);
    }
  }
  return kc8;
}

// Stores lanes 0..5 of v at d (AVX-512VL: a k-masked store; AVX2: vmaskmovps, slower on AMD).
inline void store6(float* d, __m256 v) {
#if defined(NL_GEMM_AVX512)
  _mm256_mask_storeu_ps(d, 0x3f, v);
#else
  _mm256_maskstore_ps(d, _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0), v);
#endif
}

// f32, 6-row panels with AVX: the hot packing loops of the common case, vectorised.
// Not transposed: 8 columns at a time, 6 rows loaded and transposed as an 8x8 block (rows 6 and 7
// zero), each column's 6 values stored with a lane mask. Returns the columns done (a multiple of 8).
inline int64_t pack_a6_rows_f32(float* __restrict dst, const float* const* rows, int64_t kc) {
  const __m256 z = _mm256_setzero_ps();
  int64_t p = 0;
  for (; p + 8 <= kc; p += 8, dst += 48) {
    const __m256 t0 = _mm256_unpacklo_ps(_mm256_loadu_ps(rows[0] + p), _mm256_loadu_ps(rows[1] + p));
    const __m256 t1 = _mm256_unpackhi_ps(_mm256_loadu_ps(rows[0] + p), _mm256_loadu_ps(rows[1] + p));
    const __m256 t2 = _mm256_unpacklo_ps(_mm256_loadu_ps(rows[2] + p), _mm256_loadu_ps(rows[3] + p));
    const __m256 t3 = _mm256_unpackhi_ps(_mm256_loadu_ps(rows[2] + p), _mm256_loadu_ps(rows[3] + p));
    const __m256 t4 = _mm256_unpacklo_ps(_mm256_loadu_ps(rows[4] + p), _mm256_loadu_ps(rows[5] + p));
    const __m256 t5 = _mm256_unpackhi_ps(_mm256_loadu_ps(rows[4] + p), _mm256_loadu_ps(rows[5] + p));
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, z, 0x44), u5 = _mm256_shuffle_ps(t4, z, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, z, 0x44), u7 = _mm256_shuffle_ps(t5, z, 0xEE);
    store6(dst + 0, _mm256_permute2f128_ps(u0, u4, 0x20));
    store6(dst + 6, _mm256_permute2f128_ps(u1, u5, 0x20));
    store6(dst + 12, _mm256_permute2f128_ps(u2, u6, 0x20));
    store6(dst + 18, _mm256_permute2f128_ps(u3, u7, 0x20));
    store6(dst + 24, _mm256_permute2f128_ps(u0, u4, 0x31));
    store6(dst + 30, _mm256_permute2f128_ps(u1, u5, 0x31));
    store6(dst + 36, _mm256_permute2f128_ps(u2, u6, 0x31));
    store6(dst + 42, _mm256_permute2f128_ps(u3, u7, 0x31));
  }
  return p;
}
#endif

// One MR-row panel of op(A) (mr <= MR valid rows) starting at row i0.
template <typename T>
void pack_a_panel(T* __restrict dst, const T* A, int64_t lda, bool trans, int64_t i0, int mr, int64_t p0,
                  int64_t kc) {
  constexpr int MR = GemmTile<T>::MR;
  if (trans) {
    const T* src = A + p0 * lda + i0;
#if defined(NL_GEMM_AVX512)
    if constexpr (std::is_same_v<T, float> && MR == 6) {
      if (mr == MR) {
        for (int64_t p = 0; p < kc; ++p, src += lda, dst += MR) store6(dst, _mm256_maskz_loadu_ps(0x3f, src));
        return;
      }
    }
#endif
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
    int64_t p0v = 0;
#if defined(NL_GEMM_AVX2)
    if constexpr (std::is_same_v<T, float> && MR == 6) p0v = pack_a6_rows_f32(dst, rows, kc);
#endif
    for (int64_t p = p0v; p < kc; ++p) {
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) dst[p * MR + i] = rows[i][p];
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
  int64_t pdone = 0;
#if defined(NL_GEMM_AVX2)
  if constexpr (std::is_same_v<T, float> && NR % 8 == 0) {
    if (nr == NR) pdone = pack_bt_f32<NR>(dst, B, ldb, p0, kc, j0);
  }
#endif
  for (int64_t pb = pdone; pb < kc; pb += PB) {
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

}  // namespace nl::gemm_detail::NL_GEMM_ISA

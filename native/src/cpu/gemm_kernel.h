// GEMM micro-kernels: C[MR x NR] (+)= alpha * sum_p Apanel[p] (x) Bpanel[p] over packed panels.
//
// Apanel holds kc columns of MR values (one per row of the tile), Bpanel kc rows of NR values;
// both are zero-padded by the packing code, so the kernel always computes a full tile. The tile
// lives in MR x NV vector registers (NR = NV * lanes) for the whole k loop, and touches C once.
//
// Versions, chosen at compile time by NL_GEMM_AVX512 / NL_GEMM_AVX2 (gemm_isa.h: the target's SIMD
// macros, or forced by the AVX-512 copy of a portable build):
//   AVX-512F    f32: 6 x 64 (24 zmm accumulators)   f64: 6 x 32
//   AVX2 + FMA  f32: 6 x 16 (12 ymm accumulators)   f64: 6 x 8
//   portable    f32/f64: 4 x 4 scalar (the compiler may vectorise it)
// Variants of the same template: A read in place (strided) instead of packed, and 1..NV-1 vectors
// wide for a partial last column panel (micro_kernel_cols). Vec<T>::sum (horizontal add) serves
// the small-m path in gemm_small.cc. GemmTile<T> names the tile and cache-block sizes of gemm.cc.
#pragma once
#include <cstdint>

#include "cpu/gemm_isa.h"
#if defined(NL_GEMM_AVX512) || defined(NL_GEMM_AVX2)
#include <immintrin.h>
#endif

namespace nl::gemm_detail::NL_GEMM_ISA {

// ---- vector traits: one register type per (ISA, dtype) -------------------------------------
template <typename T>
struct Vec;

#if defined(NL_GEMM_AVX512)
template <>
struct Vec<float> {
  using V = __m512;
  static constexpr int W = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static float sum(V a) {  // masked forms: GCC 12 warns on the unmasked ones' undefined source
    a = _mm512_add_ps(a, _mm512_mask_shuffle_f32x4(a, 0xFFFF, a, a, 0x4E));
    a = _mm512_add_ps(a, _mm512_mask_shuffle_f32x4(a, 0xFFFF, a, a, 0xB1));
    a = _mm512_add_ps(a, _mm512_mask_permute_ps(a, 0xFFFF, a, 0x4E));
    a = _mm512_add_ps(a, _mm512_mask_permute_ps(a, 0xFFFF, a, 0xB1));
    return _mm512_cvtss_f32(a);
  }
};
template <>
struct Vec<double> {
  using V = __m512d;
  static constexpr int W = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V set1(double x) { return _mm512_set1_pd(x); }
  static V load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, V v) { _mm512_storeu_pd(p, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
  static double sum(V a) {
    a = _mm512_add_pd(a, _mm512_mask_shuffle_f64x2(a, 0xFF, a, a, 0x4E));
    a = _mm512_add_pd(a, _mm512_mask_shuffle_f64x2(a, 0xFF, a, a, 0xB1));
    a = _mm512_add_pd(a, _mm512_mask_permute_pd(a, 0xFF, a, 0x55));
    return _mm512_cvtsd_f64(a);
  }
};
constexpr int kNvF32 = 4, kNvF64 = 4, kMr = 6;
#elif defined(NL_GEMM_AVX2)
template <>
struct Vec<float> {
  using V = __m256;
  static constexpr int W = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static float sum(V a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  }
};
template <>
struct Vec<double> {
  using V = __m256d;
  static constexpr int W = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V set1(double x) { return _mm256_set1_pd(x); }
  static V load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
  static double sum(V a) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  }
};
constexpr int kNvF32 = 2, kNvF64 = 2, kMr = 6;
#else
template <typename T>
struct Vec {
  using V = T;
  static constexpr int W = 1;
  static V zero() { return T(0); }
  static V set1(T x) { return x; }
  static V load(const T* p) { return *p; }
  static void store(T* p, V v) { *p = v; }
  static V fma(V a, V b, V c) { return a * b + c; }
  static V mul(V a, V b) { return a * b; }
  static T sum(V a) { return a; }
};
constexpr int kNvF32 = 4, kNvF64 = 4, kMr = 4;
#endif

// ---- tile and cache-block sizes -------------------------------------------------------------
// KC: depth of one packed block (the B micro-panel KC x NR should sit in L1/L2);
// MC: rows of A packed per block (MC x KC in L2); NC: columns of B packed per block (L3).
// The NL_GEMM_* macros exist for tuning runs (-D on the compiler line); the defaults were measured.
#ifndef NL_GEMM_KC_F32
#define NL_GEMM_KC_F32 512
#endif
#ifndef NL_GEMM_MC_F32
#define NL_GEMM_MC_F32 144
#endif
#ifndef NL_GEMM_NC_F32
#define NL_GEMM_NC_F32 4096
#endif
#ifndef NL_GEMM_KC_F64
#define NL_GEMM_KC_F64 256
#endif
#ifndef NL_GEMM_MC_F64
#define NL_GEMM_MC_F64 72
#endif
#ifndef NL_GEMM_NC_F64
#define NL_GEMM_NC_F64 2048
#endif
template <typename T>
struct GemmTile;
template <>
struct GemmTile<float> {
  static constexpr int MR = kMr, NV = kNvF32, NR = NV * Vec<float>::W;
  static constexpr int64_t KC = NL_GEMM_KC_F32, MC = NL_GEMM_MC_F32, NC = NL_GEMM_NC_F32;
};
template <>
struct GemmTile<double> {
  static constexpr int MR = kMr, NV = kNvF64, NR = NV * Vec<double>::W;
  static constexpr int64_t KC = NL_GEMM_KC_F64, MC = NL_GEMM_MC_F64, NC = NL_GEMM_NC_F64;
};

// ---- the micro-kernel ----------------------------------------------------------------------
// c (leading dim ldc) <- alpha * A*B + beta * c; beta == 0 does not read c.
// Packed = true: a is a packed panel (element (i, p) at a[p*MR + i]). Packed = false: a points into
// the caller's op(A), element (i, p) at a[i*rs_a + p*cs_a] (used when packing would cost more than
// it saves: small products whose A panel is read only once or twice).
// NV (<= the tile's) narrows the kernel for a partial last B panel: only the first NV vectors of
// each packed row are read, computed and stored.
template <typename T, bool Packed = true, int NV = GemmTile<T>::NV>
inline void micro_kernel(int64_t kc, const T* __restrict a, int64_t rs_a, int64_t cs_a, const T* __restrict b,
                         T* __restrict c, int64_t ldc, T alpha, T beta) {
  using VT = Vec<T>;
  using V = typename VT::V;
  constexpr int MR = GemmTile<T>::MR, W = VT::W, NR = GemmTile<T>::NR;
  static_assert(NV >= 1 && NV <= GemmTile<T>::NV, "NV must not exceed the tile's vectors");
  V acc[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[i][j] = VT::zero();
#if defined(NL_GEMM_AVX512) || defined(NL_GEMM_AVX2)
  // Ask for the C tile now: it is only touched after the k loop, by which time it has arrived.
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NR; j += 64 / static_cast<int>(sizeof(T)))
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + j), _MM_HINT_T0);
#endif

  for (int64_t p = 0; p < kc; ++p) {
    V bv[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) bv[j] = VT::load(b + j * W);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const V av = VT::set1(Packed ? a[i] : a[i * rs_a]);
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = VT::fma(av, bv[j], acc[i][j]);
    }
    a += Packed ? MR : cs_a;
    b += NR;
  }

  const V va = VT::set1(alpha);
  if (beta == T(0)) {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) VT::store(c + i * ldc + j * W, VT::mul(va, acc[i][j]));
  } else if (beta == T(1)) {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        T* cp = c + i * ldc + j * W;
        VT::store(cp, VT::fma(va, acc[i][j], VT::load(cp)));
      }
  } else {
    const V vb = VT::set1(beta);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        T* cp = c + i * ldc + j * W;
        VT::store(cp, VT::fma(va, acc[i][j], VT::mul(vb, VT::load(cp))));
      }
  }
}

// The packed-A kernel.
template <typename T>
inline void micro_kernel(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, T alpha, T beta) {
  micro_kernel<T, true>(kc, a, 0, 0, b, c, ldc, alpha, beta);
}

// A kernel for a tile whose B panel has only nr <= NR valid columns: the narrowest variant that
// covers them (columns past nr are computed from zero padding or not at all).
template <typename T, bool Packed>
inline void micro_kernel_cols(int64_t nr, int64_t kc, const T* a, int64_t rs_a, int64_t cs_a, const T* b, T* c,
                              int64_t ldc, T alpha, T beta) {
  constexpr int W = Vec<T>::W, NV = GemmTile<T>::NV;
  static_assert(NV <= 4, "micro_kernel_cols covers tiles of up to 4 vectors");
  const int64_t nv = (nr + W - 1) / W;
  if (nv <= 1) {
    micro_kernel<T, Packed, 1>(kc, a, rs_a, cs_a, b, c, ldc, alpha, beta);
  } else if (nv == 2 || NV == 2) {
    micro_kernel<T, Packed, (NV >= 2 ? 2 : 1)>(kc, a, rs_a, cs_a, b, c, ldc, alpha, beta);
  } else if (nv == 3 || NV == 3) {
    micro_kernel<T, Packed, (NV >= 3 ? 3 : 1)>(kc, a, rs_a, cs_a, b, c, ldc, alpha, beta);
  } else {
    micro_kernel<T, Packed, NV>(kc, a, rs_a, cs_a, b, c, ldc, alpha, beta);
  }
}

}  // namespace nl::gemm_detail::NL_GEMM_ISA

// Which SIMD version of the GEMM a translation unit compiles, and the copies a build holds.
//
// The GEMM sources (gemm.cc, gemm_small.cc and the headers gemm_kernel.h, gemm_pack.h,
// gemm_small.h) are written once against two switches and live in nl::gemm_detail::NL_GEMM_ISA,
// so that each compiled copy has its own symbols:
//   NL_GEMM_AVX512  AVX-512 F/BW/VL/DQ vectors (default: the compiler's target macros say so)
//   NL_GEMM_AVX2    AVX2 + FMA vectors        (default: likewise)
//   NL_GEMM_ISA     the copy's namespace      (default: base)
// Default build (-march=native): one copy, `base`, for the build machine's SIMD.
// Portable build (NL_PORTABLE=ON, GCC on x86-64, NL_SIMD_DISPATCH=1): `base` at -march=x86-64-v3
// (AVX2 + FMA), plus `avx512`: gemm_avx512.cc / gemm_small_avx512.cc compile the same sources under
// `#pragma GCC target("avx512...")`. simd_dispatch.cc picks a copy once, from the CPU (and NL_SIMD).
#pragma once
#include "cpu/gemm.h"

#ifndef NL_GEMM_ISA
#define NL_GEMM_ISA base
#endif
#if !defined(NL_GEMM_AVX512) && defined(__AVX512F__) && defined(__AVX512VL__)
#define NL_GEMM_AVX512 1
#endif
#if !defined(NL_GEMM_AVX2) && defined(__AVX2__) && defined(__FMA__)
#define NL_GEMM_AVX2 1
#endif

namespace nl::gemm_detail {

// The entry points of each copy (gemm.cc); nl::gemm_f32 / gemm_f64 call one of them.
namespace base {
void gemm_f32(const GemmArgs& g, float alpha, const float* a, const float* b, float beta, float* c);
void gemm_f64(const GemmArgs& g, double alpha, const double* a, const double* b, double beta, double* c);
}  // namespace base
namespace avx512 {  // defined only in portable builds (NL_SIMD_DISPATCH)
void gemm_f32(const GemmArgs& g, float alpha, const float* a, const float* b, float beta, float* c);
void gemm_f64(const GemmArgs& g, double alpha, const double* a, const double* b, double beta, double* c);
}  // namespace avx512

}  // namespace nl::gemm_detail

// SIMD level of this build, and the one its GEMM uses at run time.
//
// Default builds are compiled for the build machine (-march=native): one level, fixed at compile
// time. Portable builds (NL_PORTABLE=ON; NL_SIMD_DISPATCH=1 with GCC on x86-64) are compiled for
// x86-64-v3 (AVX2 + FMA) and hold a second, AVX-512 copy of the GEMM (gemm_isa.h), chosen once at
// run time when the CPU has AVX-512 F/BW/VL/DQ. NL_SIMD=avx2 in the environment forces the AVX2
// copy (tests run it on AVX-512 machines); NL_SIMD=avx512 or auto (or unset) lets the CPU decide.
#pragma once

namespace nl {

// The level the compiler targeted for all code: 'avx512' | 'avx2' | 'avx' | 'sse4.2' | 'sse2' |
// 'neon' | 'scalar'.
inline const char* compiled_simd_level() {
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
  return "avx512";
#elif defined(__AVX2__) && defined(__FMA__)
  return "avx2";
#elif defined(__AVX__)
  return "avx";
#elif defined(__SSE4_2__)
  return "sse4.2";
#elif defined(__SSE2__)
  return "sse2";
#elif defined(__ARM_NEON)
  return "neon";
#else
  return "scalar";
#endif
}

// The level the GEMM runs at (simd_dispatch.cc): compiled_simd_level(), or 'avx512' where a
// portable build chose its AVX-512 copy.
const char* simd_level();

// True in portable builds, whose GEMM level is chosen at run time.
bool simd_dispatch();

}  // namespace nl

// The AVX-512 copy of the blocked GEMM (gemm.cc) for portable builds: the library's baseline is
// x86-64-v3, and this copy runs only where simd_dispatch.cc found AVX-512 on the CPU (gemm_isa.h).
// Everything outside our sources (the standard library, the thread pool) is included first, so it
// keeps the baseline target; only the functions defined by gemm.cc and its headers get AVX-512.
#if defined(NL_SIMD_DISPATCH)
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>

#include "cpu/gemm.h"
#include "cpu/thread_pool.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#define NL_GEMM_ISA avx512
#define NL_GEMM_AVX512 1
#define NL_GEMM_AVX2 1
#include "cpu/gemm.cc"  // NOLINT(bugprone-suspicious-include): the same source, compiled again
#pragma GCC pop_options
#endif

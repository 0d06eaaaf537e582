// nl::gemm_f32 / gemm_f64: the GEMM copy this process uses (gemm_isa.h), chosen once.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cpu/gemm.h"
#include "cpu/gemm_isa.h"
#include "cpu/simd.h"

namespace nl {
namespace {

#if defined(NL_SIMD_DISPATCH)
// AVX-512 F/BW/VL/DQ in the CPU and enabled by the OS (libgcc's check reads XCR0 as well).
bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

bool choose_avx512() {
  const char* want = std::getenv("NL_SIMD");
  if (want != nullptr && std::strcmp(want, "avx2") == 0) return false;
  if (want != nullptr && *want != '\0' && std::strcmp(want, "avx512") != 0 && std::strcmp(want, "auto") != 0) {
    std::fprintf(stderr, "@nl/native: NL_SIMD=%s is not one of avx2, avx512, auto; choosing from the CPU\n", want);
  }
  return cpu_has_avx512();
}

bool use_avx512() {
  static const bool chosen = choose_avx512();  // thread-safe, once per process
  return chosen;
}
#endif

}  // namespace

const char* simd_level() {
#if defined(NL_SIMD_DISPATCH)
  if (use_avx512()) return "avx512";
#endif
  return compiled_simd_level();
}

bool simd_dispatch() {
#if defined(NL_SIMD_DISPATCH)
  return true;
#else
  return false;
#endif
}

void gemm_f32(const GemmArgs& g, float alpha, const float* a, const float* b, float beta, float* c) {
#if defined(NL_SIMD_DISPATCH)
  if (use_avx512()) return gemm_detail::avx512::gemm_f32(g, alpha, a, b, beta, c);
#endif
  gemm_detail::base::gemm_f32(g, alpha, a, b, beta, c);
}

void gemm_f64(const GemmArgs& g, double alpha, const double* a, const double* b, double beta, double* c) {
#if defined(NL_SIMD_DISPATCH)
  if (use_avx512()) return gemm_detail::avx512::gemm_f64(g, alpha, a, b, beta, c);
#endif
  gemm_detail::base::gemm_f64(g, alpha, a, b, beta, c);
}

}  // namespace nl

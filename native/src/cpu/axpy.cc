// Threaded axpy. Plain loops: the compiler vectorises them for the build's SIMD level.
#include "cpu/axpy.h"

#include "cpu/thread_pool.h"

namespace nl {
namespace {
constexpr int64_t kGrain = 1 << 15;  // below ~32K elements threading costs more than it gains

template <typename T>
void axpy(int64_t n, T a, const T* __restrict x, T* __restrict y) {
  parallel_for(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) y[i] += a * x[i];
  });
}
}  // namespace

void axpy_f32(int64_t n, float a, const float* x, float* y) { axpy(n, a, x, y); }
void axpy_f64(int64_t n, double a, const double* x, double* y) { axpy(n, a, x, y); }

}  // namespace nl

// Inverted dropout with counter-based masks: element i of a call with seed s is kept when
// fmix32(fmix32(s) + (i + 1) * 0x9e3779b9) / 2^32 >= p, and then scaled by 1/(1-p). Bit-identical
// to the TypeScript reference (packages/tensor/src/nn/functional/kernels/dropout-mask.ts), and
// independent of the thread count.
#include "cpu/nn_ops.h"
#include "cpu/thread_pool.h"

namespace nl {
namespace {

inline uint32_t fmix32(uint32_t h) {
  h = (h ^ (h >> 16)) * 0x85ebca6bu;
  h = (h ^ (h >> 13)) * 0xc2b2ae35u;
  return h ^ (h >> 16);
}

}  // namespace

template <typename T>
void dropout_forward(const T* x, int64_t n, uint32_t seed, double p, T* mask, T* y) {
  const uint32_t s = fmix32(seed);
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  parallel_for(n, 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const uint32_t h = fmix32(s + static_cast<uint32_t>(i + 1) * 0x9e3779b9u);
      const T m = static_cast<double>(h) / 4294967296.0 >= p ? scale : T(0);
      mask[i] = m;
      y[i] = x[i] * m;
    }
  });
}

template <typename T>
void dropout_backward(const T* g, const T* mask, int64_t n, T* dx) {
  parallel_for(n, 1 << 15, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) dx[i] = g[i] * mask[i];
  });
}

template void dropout_forward<float>(const float*, int64_t, uint32_t, double, float*, float*);
template void dropout_forward<double>(const double*, int64_t, uint32_t, double, double*, double*);
template void dropout_backward<float>(const float*, const float*, int64_t, float*);
template void dropout_backward<double>(const double*, const double*, int64_t, double*);

}  // namespace nl

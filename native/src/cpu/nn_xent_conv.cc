// Fused cross-entropy (forward: max-shifted logsumexp + softmax in one pass per row; backward:
// (p - onehot) * row_scale) and causal depthwise conv1d forward/backward. See nn_ops.h.
#include <cmath>
#include <limits>

#include "cpu/nn_blocks.h"
#include "cpu/nn_ops.h"
#include "cpu/thread_pool.h"

namespace nl {

template <typename T>
void cross_entropy_forward(const T* logits, const int32_t* targets, int64_t n, int64_t c, int32_t ignore_index,
                           double* losses, T* probs) {
  parallel_for(n, row_grain(c), [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      const T* l = logits + i * c;
      T* p = probs + i * c;
      T mx = -std::numeric_limits<T>::infinity();
      for (int64_t j = 0; j < c; ++j) mx = l[j] > mx ? l[j] : mx;
      if (mx == -std::numeric_limits<T>::infinity()) mx = 0;
      double sum = 0;
      for (int64_t j = 0; j < c; ++j) {
        const T e = std::exp(l[j] - mx);
        p[j] = e;
        sum += e;
      }
      const T inv = static_cast<T>(1.0 / sum);
      for (int64_t j = 0; j < c; ++j) p[j] *= inv;
      const int32_t t = targets[i];
      losses[i] = t == ignore_index ? 0.0 : static_cast<double>(mx) + std::log(sum) - static_cast<double>(l[t]);
    }
  });
}

template <typename T>
void cross_entropy_backward(const T* probs, const int32_t* targets, int64_t n, int64_t c, int32_t ignore_index,
                            const double* row_scale, T* grad) {
  parallel_for(n, row_grain(c), [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      const T* p = probs + i * c;
      T* g = grad + i * c;
      const int32_t t = targets[i];
      if (t == ignore_index) {
        for (int64_t j = 0; j < c; ++j) g[j] = 0;
        continue;
      }
      const T s = static_cast<T>(row_scale[i]);
      for (int64_t j = 0; j < c; ++j) g[j] = s * p[j];
      g[t] -= s;
    }
  });
}

template <typename T>
void causal_conv1d_forward(const T* x, const T* w, const T* bias, int64_t b, int64_t t, int64_t c, int64_t k, T* y) {
  // rows are (batch, time) pairs; each row's C outputs read K earlier rows of the same batch
  parallel_for(b * t, row_grain(c * k), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t ti = r % t;
      T* yr = y + r * c;
      for (int64_t ci = 0; ci < c; ++ci) yr[ci] = bias ? bias[ci] : T(0);
      for (int64_t j = 0; j < k; ++j) {
        const int64_t src = ti - (k - 1) + j;
        if (src < 0) continue;
        const T* xr = x + (r - ti + src) * c;
        for (int64_t ci = 0; ci < c; ++ci) yr[ci] += w[ci * k + j] * xr[ci];
      }
    }
  });
}

template <typename T>
void causal_conv1d_backward(const T* g, const T* x, const T* w, int64_t b, int64_t t, int64_t c, int64_t k, T* dx,
                            double* dw, double* db) {
  // dx[b, s, c] = sum_j w[c, j] g[b, s + K - 1 - j, c]: a gather, parallel over rows
  parallel_for(b * t, row_grain(c * k), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t s = r % t;
      T* dxr = dx + r * c;
      for (int64_t ci = 0; ci < c; ++ci) dxr[ci] = 0;
      for (int64_t j = 0; j < k; ++j) {
        const int64_t out = s + (k - 1) - j;
        if (out >= t) continue;
        const T* gr = g + (r - s + out) * c;
        for (int64_t ci = 0; ci < c; ++ci) dxr[ci] += w[ci * k + j] * gr[ci];
      }
    }
  });
  if (!dw && !db) return;
  blocked_rows(b * t, dw ? c * k : 0, db ? c : 0, dw, db, [&](int64_t r0, int64_t r1, double* pdw, double* pdb) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t ti = r % t;
      const T* gr = g + r * c;
      if (db) for (int64_t ci = 0; ci < c; ++ci) pdb[ci] += gr[ci];
      if (!dw) continue;
      for (int64_t j = 0; j < k; ++j) {
        const int64_t src = ti - (k - 1) + j;
        if (src < 0) continue;
        const T* xr = x + (r - ti + src) * c;
        for (int64_t ci = 0; ci < c; ++ci) pdw[ci * k + j] += static_cast<double>(gr[ci]) * xr[ci];
      }
    }
  });
}

#define NL_XENT_CONV_INSTANTIATE(T)                                                                              \
  template void cross_entropy_forward<T>(const T*, const int32_t*, int64_t, int64_t, int32_t, double*, T*);     \
  template void cross_entropy_backward<T>(const T*, const int32_t*, int64_t, int64_t, int32_t, const double*,  \
                                          T*);                                                                 \
  template void causal_conv1d_forward<T>(const T*, const T*, const T*, int64_t, int64_t, int64_t, int64_t, T*); \
  template void causal_conv1d_backward<T>(const T*, const T*, const T*, int64_t, int64_t, int64_t, int64_t, T*, \
                                          double*, double*);
NL_XENT_CONV_INSTANTIATE(float)
NL_XENT_CONV_INSTANTIATE(double)
#undef NL_XENT_CONV_INSTANTIATE

}  // namespace nl

// RMSNorm and LayerNorm forward/backward over the last dim (see nn_ops.h for the formulas).
// Rows run in parallel; dw/db are summed per fixed row block into float64 partials, then the
// partials are added in block order (deterministic for any thread count).
#include <cmath>

#include "cpu/nn_blocks.h"
#include "cpu/nn_ops.h"
#include "cpu/thread_pool.h"

namespace nl {

template <typename T>
void rms_norm_forward(const T* x, const T* w, int64_t rows, int64_t d, double eps, T* y, double* rstd) {
  parallel_for(rows, row_grain(d), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * d;
      T* yr = y + r * d;
      double ss = 0;
      for (int64_t j = 0; j < d; ++j) ss += static_cast<double>(xr[j]) * xr[j];
      const double inv = 1.0 / std::sqrt(ss / static_cast<double>(d) + eps);
      rstd[r] = inv;
      const T s = static_cast<T>(inv);
      if (w) {
        for (int64_t j = 0; j < d; ++j) yr[j] = xr[j] * s * w[j];
      } else {
        for (int64_t j = 0; j < d; ++j) yr[j] = xr[j] * s;
      }
    }
  });
}

template <typename T>
void rms_norm_backward(const T* g, const T* x, const T* w, const double* rstd, int64_t rows, int64_t d, T* dx,
                       double* dw) {
  blocked_rows(rows, dw ? d : 0, 0, dw, nullptr, [&](int64_t r0, int64_t r1, double* pdw, double*) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* gr = g + r * d;
      const T* xr = x + r * d;
      T* dxr = dx + r * d;
      const double inv = rstd[r];
      double dot = 0;
      for (int64_t j = 0; j < d; ++j) dot += static_cast<double>(gr[j]) * (w ? w[j] : T(1)) * xr[j];
      const double c = inv * inv * inv * dot / static_cast<double>(d);
      for (int64_t j = 0; j < d; ++j) {
        const double gw = static_cast<double>(gr[j]) * (w ? w[j] : T(1));
        dxr[j] = static_cast<T>(inv * gw - static_cast<double>(xr[j]) * c);
      }
      if (dw) {
        for (int64_t j = 0; j < d; ++j) pdw[j] += static_cast<double>(gr[j]) * xr[j] * inv;
      }
    }
  });
}

template <typename T>
void layer_norm_forward(const T* x, const T* w, const T* b, int64_t rows, int64_t d, double eps, T* y, double* mean,
                        double* rstd) {
  parallel_for(rows, row_grain(d), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * d;
      T* yr = y + r * d;
      double s = 0;
      for (int64_t j = 0; j < d; ++j) s += xr[j];
      const double mu = s / static_cast<double>(d);
      double v = 0;
      for (int64_t j = 0; j < d; ++j) {
        const double c = xr[j] - mu;
        v += c * c;
      }
      const double inv = 1.0 / std::sqrt(v / static_cast<double>(d) + eps);
      mean[r] = mu;
      rstd[r] = inv;
      for (int64_t j = 0; j < d; ++j) {
        const double xh = (xr[j] - mu) * inv;
        yr[j] = static_cast<T>(xh * (w ? static_cast<double>(w[j]) : 1.0) + (b ? static_cast<double>(b[j]) : 0.0));
      }
    }
  });
}

template <typename T>
void layer_norm_backward(const T* g, const T* x, const T* w, const double* mean, const double* rstd, int64_t rows,
                         int64_t d, T* dx, double* dw, double* db) {
  blocked_rows(rows, dw ? d : 0, db ? d : 0, dw, db, [&](int64_t r0, int64_t r1, double* pdw, double* pdb) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* gr = g + r * d;
      const T* xr = x + r * d;
      T* dxr = dx + r * d;
      const double mu = mean[r];
      const double inv = rstd[r];
      double sg = 0, sgx = 0;
      for (int64_t j = 0; j < d; ++j) {
        const double gh = static_cast<double>(gr[j]) * (w ? static_cast<double>(w[j]) : 1.0);
        const double xh = (xr[j] - mu) * inv;
        sg += gh;
        sgx += gh * xh;
        if (dw) pdw[j] += gr[j] * xh;
        if (db) pdb[j] += gr[j];
      }
      sg /= static_cast<double>(d);
      sgx /= static_cast<double>(d);
      for (int64_t j = 0; j < d; ++j) {
        const double xh = (xr[j] - mu) * inv;
        const double gh = static_cast<double>(gr[j]) * (w ? static_cast<double>(w[j]) : 1.0);
        dxr[j] = static_cast<T>(inv * (gh - sg - xh * sgx));
      }
    }
  });
}

#define NL_NORM_INSTANTIATE(T)                                                                                    \
  template void rms_norm_forward<T>(const T*, const T*, int64_t, int64_t, double, T*, double*);                \
  template void rms_norm_backward<T>(const T*, const T*, const T*, const double*, int64_t, int64_t, T*, double*); \
  template void layer_norm_forward<T>(const T*, const T*, const T*, int64_t, int64_t, double, T*, double*,      \
                                      double*);                                                                 \
  template void layer_norm_backward<T>(const T*, const T*, const T*, const double*, const double*, int64_t,     \
                                       int64_t, T*, double*, double*);
NL_NORM_INSTANTIATE(float)
NL_NORM_INSTANTIATE(double)
#undef NL_NORM_INSTANTIATE

}  // namespace nl

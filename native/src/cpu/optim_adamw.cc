// Fused Adam/AdamW step (see optim_adamw.h). Version 1: one threaded elementwise loop, double
// arithmetic, compiler-vectorised.
#include "cpu/optim_adamw.h"

#include <algorithm>
#include <cmath>

#include "cpu/thread_pool.h"

namespace nl {
namespace {

template <typename T>
void adam_step(int64_t n, T* param, const T* grad, T* m, T* v, T* vmax, const AdamHyper& h) {
  const double bc1 = 1.0 - std::pow(h.beta1, h.step);
  const double bc2_sqrt = std::sqrt(1.0 - std::pow(h.beta2, h.step));
  const double step_size = h.lr / bc1;
  const double b1 = h.beta1, b2 = h.beta2, wd = h.weight_decay, lr = h.lr, eps = h.eps;
  const bool use_max = h.amsgrad && vmax != nullptr;
  parallel_for(n, 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      double g = h.maximize ? -static_cast<double>(grad[i]) : static_cast<double>(grad[i]);
      double x = static_cast<double>(param[i]);
      if (wd != 0.0) {
        if (h.decoupled) x = x * (1.0 - lr * wd);
        else g += wd * x;
      }
      const double mi = static_cast<double>(m[i]);
      m[i] = static_cast<T>(mi + (g - mi) * (1.0 - b1));
      v[i] = static_cast<T>(static_cast<double>(v[i]) * b2 + (1.0 - b2) * g * g);
      double vv = static_cast<double>(v[i]);
      if (use_max) {
        vmax[i] = static_cast<T>(std::max(static_cast<double>(vmax[i]), vv));
        vv = static_cast<double>(vmax[i]);
      }
      const double denom = std::sqrt(vv) / bc2_sqrt + eps;
      param[i] = static_cast<T>(x - step_size * (static_cast<double>(m[i]) / denom));
    }
  });
}

}  // namespace

void adam_step_f32(int64_t n, float* param, const float* grad, float* m, float* v, float* vmax, const AdamHyper& h) {
  adam_step<float>(n, param, grad, m, v, vmax, h);
}
void adam_step_f64(int64_t n, double* param, const double* grad, double* m, double* v, double* vmax, const AdamHyper& h) {
  adam_step<double>(n, param, grad, m, v, vmax, h);
}

}  // namespace nl

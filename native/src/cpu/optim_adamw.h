// Fused Adam/AdamW step over one parameter tensor (the @nl/optim hot path): one pass that reads
// param, grad and the moment buffers and writes them back, threaded with parallel_for.
// Arithmetic is done in double in the same order as @nl/optim's TypeScript reference
// (packages/optim/src/adam.ts: adamUpdate), so f64 results agree to rounding (FMA contraction
// aside) and f32 results round once per store exactly like the reference.
#pragma once
#include <cstdint>

namespace nl {

struct AdamHyper {
  double lr, beta1, beta2, eps, weight_decay;
  double step;      // 1-based step count after increment
  bool decoupled;   // AdamW (param *= 1 - lr*wd) vs Adam (grad += wd*param)
  bool amsgrad;
  bool maximize;
};

// vmax may be null when !amsgrad. Callers check sizes.
void adam_step_f32(int64_t n, float* param, const float* grad, float* m, float* v, float* vmax, const AdamHyper& h);
void adam_step_f64(int64_t n, double* param, const double* grad, double* m, double* v, double* vmax, const AdamHyper& h);

}  // namespace nl

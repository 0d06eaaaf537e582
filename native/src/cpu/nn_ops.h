// Fused NN kernels for @nl/tensor's nn.functional (CPU, threaded over rows, float32/float64).
// Each has a plain TypeScript reference in packages/tensor/src/nn/functional/kernels/ that the
// tests diff against. Per-row statistics and weight gradients are float64. Weight/bias gradients
// are summed in fixed row blocks and then reduced in block order, so results do not depend on
// the thread count.
//
//   rms_norm:     y = x r w,  r = 1/sqrt(mean(x^2) + eps)                  x, y [R, D]; w [D]
//   layer_norm:   y = (x - mu) r w + b,  r = 1/sqrt(var + eps)             mean, rstd [R]
//   cross_entropy: loss_i = logsumexp(l_i) - l_i[t_i]; probs = softmax(l)  logits [N, C]
//   causal_conv1d: y[b,t,c] = bias[c] + sum_j w[c,j] x[b, t-K+1+j, c]      x [B, T, C]; w [C, K]
//   dropout:      mask = keep ? 1/(1-p) : 0 from a hash of (seed, index); y = x * mask  (nn_dropout.cc)
// Null weight/bias pointers mean "none" (w = 1, b = 0, no gradient).
#pragma once
#include <cstdint>

namespace nl {

template <typename T>
void rms_norm_forward(const T* x, const T* w, int64_t rows, int64_t d, double eps, T* y, double* rstd);
template <typename T>
void rms_norm_backward(const T* g, const T* x, const T* w, const double* rstd, int64_t rows, int64_t d, T* dx,
                       double* dw);
template <typename T>
void layer_norm_forward(const T* x, const T* w, const T* b, int64_t rows, int64_t d, double eps, T* y, double* mean,
                        double* rstd);
template <typename T>
void layer_norm_backward(const T* g, const T* x, const T* w, const double* mean, const double* rstd, int64_t rows,
                         int64_t d, T* dx, double* dw, double* db);
template <typename T>
void cross_entropy_forward(const T* logits, const int32_t* targets, int64_t n, int64_t c, int32_t ignore_index,
                           double* losses, T* probs);
template <typename T>
void cross_entropy_backward(const T* probs, const int32_t* targets, int64_t n, int64_t c, int32_t ignore_index,
                            const double* row_scale, T* grad);
template <typename T>
void causal_conv1d_forward(const T* x, const T* w, const T* bias, int64_t b, int64_t t, int64_t c, int64_t k, T* y);
template <typename T>
void causal_conv1d_backward(const T* g, const T* x, const T* w, int64_t b, int64_t t, int64_t c, int64_t k, T* dx,
                            double* dw, double* db);
template <typename T>
void dropout_forward(const T* x, int64_t n, uint32_t seed, double p, T* mask, T* y);
template <typename T>
void dropout_backward(const T* g, const T* mask, int64_t n, T* dx);

}  // namespace nl

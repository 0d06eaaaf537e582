// CUDA entry points: RMSNorm, LayerNorm, embedding, dropout, causal conv1d, cross-entropy (forward and backward). Buffers and extents checked with binding/cuda_args.h.
// Backward entry points take an optional float64 scratch that lets the weight / bias column sums
// split their rows into chunks (kernels/nn_rows.h col_sum). This file: RMSNorm / LayerNorm; the rest in binding/cuda_nn_more.cc. Every device operand is a
// (buffer, element offset) pair (binding/cuda_nn_args.h); statistics are float64.
#include <napi.h>

#include "binding/cuda_args.h"
#include "binding/cuda_nn_args.h"
#include "binding/register.h"
#include "cuda/ops/table.h"

namespace nl::binding {
namespace {

constexpr cuda::DT F64 = cuda::DT::F64;

// cudaRmsNormForward(dt, x, xOff, w|null, wOff, rows, d, eps, y, yOff, rstd, rstdOff)
Napi::Value RmsNormForward(const Napi::CallbackInfo& info) {
  NnArgs a(info, "cudaRmsNormForward", 12);
  cuda::RmsNormFwdArgs g{};
  g.dt = a.float_dt(0);
  g.rows = a.count_at(5, "rows");
  g.d = a.count_at(6, "d");
  g.eps = a.number_at(7, "eps");
  const int64_t n = a.product("rows * d", {g.rows, g.d});
  g.x = a.buffer(1, "x", g.dt, n);
  g.w = a.optional(3, "w", g.dt, g.d);
  g.y = a.buffer(8, "y", g.dt, n);
  g.rstd = static_cast<double*>(a.buffer(10, "rstd", F64, g.rows));
  a.run(a.rt()->ops().rms_norm_forward(a.rt(), g));
  return info.Env().Undefined();
}

// cudaRmsNormBackward(dt, g, gOff, x, xOff, w|null, wOff, rstd, rstdOff, rows, d, dx, dxOff, dw|null, dwOff,
//                     scratch|null, scratchOff, scratchLen)
Napi::Value RmsNormBackward(const Napi::CallbackInfo& info) {
  NnArgs a(info, "cudaRmsNormBackward", 18);
  cuda::RmsNormBwdArgs g{};
  g.dt = a.float_dt(0);
  g.rows = a.count_at(9, "rows");
  g.d = a.count_at(10, "d");
  const int64_t n = a.product("rows * d", {g.rows, g.d});
  g.g = a.buffer(1, "g", g.dt, n);
  g.x = a.buffer(3, "x", g.dt, n);
  g.w = a.optional(5, "w", g.dt, g.d);
  g.rstd = static_cast<const double*>(a.buffer(7, "rstd", F64, g.rows));
  g.dx = a.buffer(11, "dx", g.dt, n);
  g.dw = a.optional(13, "dw", g.dt, g.d);
  g.scratch = a.scratch(15, &g.scratch_len);
  a.run(a.rt()->ops().rms_norm_backward(a.rt(), g));
  return info.Env().Undefined();
}

// cudaLayerNormForward(dt, x, xOff, w|null, wOff, b|null, bOff, rows, d, eps, y, yOff, mean, meanOff, rstd, rstdOff)
Napi::Value LayerNormForward(const Napi::CallbackInfo& info) {
  NnArgs a(info, "cudaLayerNormForward", 16);
  cuda::LayerNormFwdArgs g{};
  g.dt = a.float_dt(0);
  g.rows = a.count_at(7, "rows");
  g.d = a.count_at(8, "d");
  g.eps = a.number_at(9, "eps");
  const int64_t n = a.product("rows * d", {g.rows, g.d});
  g.x = a.buffer(1, "x", g.dt, n);
  g.w = a.optional(3, "w", g.dt, g.d);
  g.b = a.optional(5, "b", g.dt, g.d);
  g.y = a.buffer(10, "y", g.dt, n);
  g.mean = static_cast<double*>(a.buffer(12, "mean", F64, g.rows));
  g.rstd = static_cast<double*>(a.buffer(14, "rstd", F64, g.rows));
  a.run(a.rt()->ops().layer_norm_forward(a.rt(), g));
  return info.Env().Undefined();
}

// cudaLayerNormBackward(dt, g, gOff, x, xOff, w|null, wOff, mean, meanOff, rstd, rstdOff, rows, d,
//                       dx, dxOff, dw|null, dwOff, db|null, dbOff, scratch|null, scratchOff, scratchLen)
Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  NnArgs a(info, "cudaLayerNormBackward", 22);
  cuda::LayerNormBwdArgs g{};
  g.dt = a.float_dt(0);
  g.rows = a.count_at(11, "rows");
  g.d = a.count_at(12, "d");
  const int64_t n = a.product("rows * d", {g.rows, g.d});
  g.g = a.buffer(1, "g", g.dt, n);
  g.x = a.buffer(3, "x", g.dt, n);
  g.w = a.optional(5, "w", g.dt, g.d);
  g.mean = static_cast<const double*>(a.buffer(7, "mean", F64, g.rows));
  g.rstd = static_cast<const double*>(a.buffer(9, "rstd", F64, g.rows));
  g.dx = a.buffer(13, "dx", g.dt, n);
  g.dw = a.optional(15, "dw", g.dt, g.d);
  g.db = a.optional(17, "db", g.dt, g.d);
  g.scratch = a.scratch(19, &g.scratch_len);
  a.run(a.rt()->ops().layer_norm_backward(a.rt(), g));
  return info.Env().Undefined();
}

}  // namespace

void register_cuda_nn(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "cudaRmsNormForward", RmsNormForward);
  export_fn(env, exports, "cudaRmsNormBackward", RmsNormBackward);
  export_fn(env, exports, "cudaLayerNormForward", LayerNormForward);
  export_fn(env, exports, "cudaLayerNormBackward", LayerNormBackward);
  register_cuda_nn_more(env, exports);
}

}  // namespace nl::binding

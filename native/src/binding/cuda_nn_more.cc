// CUDA entry points: embedding, dropout, causal conv1d, cross-entropy (registered by
// register_cuda_nn, binding/cuda_nn.cc). Every device operand is a (buffer, element offset) pair
// (binding/cuda_nn_args.h). Ids and targets are int32 and bounds-checked inside the kernels.
#include <napi.h>

#include "binding/cuda_args.h"
#include "binding/cuda_nn_args.h"
#include "cuda/ops/table.h"

namespace nl::binding {
namespace {

constexpr cuda::DT F64 = cuda::DT::F64, I32 = cuda::DT::I32;

// cudaEmbeddingForward(dt, w, wOff, v, d, ids, idsOff, m, out, outOff)
Napi::Value EmbeddingForward(const Napi::CallbackInfo& info) {
  NnArgs a(info, "cudaEmbeddingForward", 10);
  cuda::EmbeddingArgs g{};
  g.dt = a.float_dt(0);
  g.v = a.count_at(3, "v");
  g.d = a.count_at(4, "d");
  g.m = a.count_at(7, "m");
  g.src = a.buffer(1, "w", g.dt, a.product("v * d", {g.v, g.d}));
  g.ids = static_cast<const int32_t*>(a.buffer(5, "ids", I32, g.m));
  g.dst = a.buffer(8, "out", g.dt, a.product("m * d", {g.m, g.d}));
  a.run(a.rt()->ops().embedding_forward(a.rt(), g));
  return info.Env().Undefined();
}

// cudaEmbeddingBackward(dt, g, gOff, ids, idsOff, m, d, v, dw, dwOff): dw (zeroed) += scatter of g
Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  NnArgs a(info, "cudaEmbeddingBackward", 10);
  cuda::EmbeddingArgs g{};
  g.dt = a.float_dt(0);
  g.m = a.count_at(5, "m");
  g.d = a.count_at(6, "d");
  g.v = a.count_at(7, "v");
  g.src = a.buffer(1, "g", g.dt, a.product("m * d", {g.m, g.d}));
  g.ids = static_cast<const int32_t*>(a.buffer(3, "ids", I32, g.m));
  g.dst = a.buffer(8, "dw", g.dt, a.product("v * d", {g.v, g.d}));
  a.run(a.rt()->ops().embedding_backward(a.rt(), g));
  return info.Env().Undefined();
}

// cudaDropoutForward(dt, x, xOff, n, seed, p, mask, maskOff, y, yOff)
Napi::Value DropoutForward(const Napi::CallbackInfo& info) {
  NnArgs a(info, "cudaDropoutForward", 10);
  cuda::DropoutArgs g{};
  g.dt = a.float_dt(0);
  g.n = a.count_at(3, "n");
  g.seed = static_cast<uint32_t>(a.integer_at(4, "seed"));  // mod 2^32, as the CPU binding
  g.p = a.number_at(5, "p");
  if (!(g.p >= 0 && g.p < 1)) throw_range(a.env(), a.op(), "p must be in [0, 1), got " + num_text(g.p));
  g.x = a.buffer(1, "x", g.dt, g.n);
  g.mask = a.buffer(6, "mask", g.dt, g.n);
  g.y = a.buffer(8, "y", g.dt, g.n);
  a.run(a.rt()->ops().dropout_forward(a.rt(), g));
  return info.Env().Undefined();
}

// cudaCausalConv1dForward(dt, x, xOff, w, wOff, bias|null, biasOff, b, t, c, k, y, yOff)
Napi::Value CausalConv1dForward(const Napi::CallbackInfo& info) {
  NnArgs a(info, "cudaCausalConv1dForward", 13);
  cuda::Conv1dFwdArgs g{};
  g.dt = a.float_dt(0);
  g.b = a.count_at(7, "b");
  g.t = a.count_at(8, "t");
  g.c = a.count_at(9, "c");
  g.k = a.count_at(10, "k");
  const int64_t n = a.product("b * t * c", {g.b, g.t, g.c});
  g.x = a.buffer(1, "x", g.dt, n);
  g.w = a.buffer(3, "w", g.dt, a.product("c * k", {g.c, g.k}));
  g.bias = a.optional(5, "bias", g.dt, g.c);
  g.y = a.buffer(11, "y", g.dt, n);
  a.run(a.rt()->ops().causal_conv1d_forward(a.rt(), g));
  return info.Env().Undefined();
}

// cudaCausalConv1dBackward(dt, g, gOff, x, xOff, w, wOff, b, t, c, k, dx, dxOff, dw|null, dwOff, db|null, dbOff,
//                          scratch|null, scratchOff, scratchLen)
Napi::Value CausalConv1dBackward(const Napi::CallbackInfo& info) {
  NnArgs a(info, "cudaCausalConv1dBackward", 20);
  cuda::Conv1dBwdArgs g{};
  g.dt = a.float_dt(0);
  g.b = a.count_at(7, "b");
  g.t = a.count_at(8, "t");
  g.c = a.count_at(9, "c");
  g.k = a.count_at(10, "k");
  const int64_t n = a.product("b * t * c", {g.b, g.t, g.c}), ck = a.product("c * k", {g.c, g.k});
  g.g = a.buffer(1, "g", g.dt, n);
  g.x = a.buffer(3, "x", g.dt, n);
  g.w = a.buffer(5, "w", g.dt, ck);
  g.dx = a.buffer(11, "dx", g.dt, n);
  g.dw = a.optional(13, "dw", g.dt, ck);
  g.db = a.optional(15, "db", g.dt, g.c);
  g.scratch = a.scratch(17, &g.scratch_len);
  a.run(a.rt()->ops().causal_conv1d_backward(a.rt(), g));
  return info.Env().Undefined();
}

int reduction_mode(NnArgs& a, size_t i) {
  const int64_t m = a.count_at(i, "reduction");
  if (m > 2) throw_range(a.env(), a.op(), "reduction must be 0 (none), 1 (sum) or 2 (mean)");
  return int(m);
}

// cudaCrossEntropyForward(dt, logits, lOff, targets, tOff, n, c, ignoreIndex, reduction, probs, pOff,
//                         losses, lsOff, stats, sOff, out|null, outOff)   reduction: 0 none, 1 sum, 2 mean
Napi::Value CrossEntropyForward(const Napi::CallbackInfo& info) {
  NnArgs a(info, "cudaCrossEntropyForward", 17);
  cuda::XentFwdArgs g{};
  g.dt = a.float_dt(0);
  g.n = a.count_at(5, "n");
  g.c = a.count_at(6, "c");
  g.ignore = a.integer_at(7, "ignoreIndex");
  g.mode = reduction_mode(a, 8);
  const int64_t nc = a.product("n * c", {g.n, g.c});
  g.logits = a.buffer(1, "logits", g.dt, nc);
  g.targets = static_cast<const int32_t*>(a.buffer(3, "targets", I32, g.n));
  g.probs = a.buffer(9, "probs", g.dt, nc);
  g.losses = static_cast<double*>(a.buffer(11, "losses", F64, g.n));
  g.stats = static_cast<double*>(a.buffer(13, "stats", F64, 2));
  g.out = g.mode == cuda::kXentNone ? nullptr : a.buffer(15, "out", g.dt, 1);
  a.run(a.rt()->ops().cross_entropy_forward(a.rt(), g));
  return info.Env().Undefined();
}

// cudaCrossEntropyBackward(dt, probs, pOff, targets, tOff, n, c, ignoreIndex, reduction, g, gOff,
//                          stats, sOff, grad, gradOff)   g: [n] for 'none', else [1]
Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  NnArgs a(info, "cudaCrossEntropyBackward", 15);
  cuda::XentBwdArgs g{};
  g.dt = a.float_dt(0);
  g.n = a.count_at(5, "n");
  g.c = a.count_at(6, "c");
  g.ignore = a.integer_at(7, "ignoreIndex");
  g.mode = reduction_mode(a, 8);
  const int64_t nc = a.product("n * c", {g.n, g.c});
  g.probs = a.buffer(1, "probs", g.dt, nc);
  g.targets = static_cast<const int32_t*>(a.buffer(3, "targets", I32, g.n));
  g.g = a.buffer(9, "g", g.dt, g.mode == cuda::kXentNone ? g.n : 1);
  g.stats = static_cast<const double*>(a.buffer(11, "stats", F64, 2));
  g.grad = a.buffer(13, "grad", g.dt, nc);
  a.run(a.rt()->ops().cross_entropy_backward(a.rt(), g));
  return info.Env().Undefined();
}

}  // namespace

void register_cuda_nn_more(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "cudaEmbeddingForward", EmbeddingForward);
  export_fn(env, exports, "cudaEmbeddingBackward", EmbeddingBackward);
  export_fn(env, exports, "cudaDropoutForward", DropoutForward);
  export_fn(env, exports, "cudaCausalConv1dForward", CausalConv1dForward);
  export_fn(env, exports, "cudaCausalConv1dBackward", CausalConv1dBackward);
  export_fn(env, exports, "cudaCrossEntropyForward", CrossEntropyForward);
  export_fn(env, exports, "cudaCrossEntropyBackward", CrossEntropyBackward);
}

}  // namespace nl::binding

// deltaRuleForward / deltaRuleBackward: the gated delta rule kernels of @nl/memory (cpu/delta_rule.h).
//
//   deltaRuleForward(q, k, v, alpha, beta, s0|null, o, stateOut, B, T, H, Dk, Dv, chunkSize[, snapshot, erase])
//   deltaRuleBackward(q, k, v, alpha, beta, s0|null, dO, dState|null,
//                     dq, dk, dv, dAlpha, dBeta, dS0, B, T, H, Dk, Dv, chunkSize[, snapshot, erase])
// snapshot (default false): subtract alpha_t S_xi^T k_t from each value, S_xi = the state at the
// start of t's chunk; erase (default true): false drops the erase term (gated linear attention).
// See cpu/delta_rule.h.
// q, k [B,T,H,Dk]; v, o, dO [B,T,H,Dv]; alpha, beta [B,T,H]; s0, state, dS0 [B,H,Dk,Dv].
// Outputs are caller-allocated and overwritten. One dtype (Float32Array or Float64Array) per call.
#include <napi.h>

#include "binding/memory_common.h"
#include "binding/register.h"
#include "cpu/delta_rule.h"

namespace nl::binding {
namespace {

using memory::float_array;

struct Inputs {
  ArrayView q, k, v, alpha, beta, s0;
  DType dtype = DType::Other;
  DeltaRuleDims d;
};

Inputs read_inputs(const Napi::CallbackInfo& info, const char* op, size_t dims_at) {
  Inputs x;
  memory::SeqArgs s = memory::seq_args(info, dims_at, op);
  x.d = DeltaRuleDims{s.batch, s.seq, s.heads, s.dk, s.dv, s.chunk, false};
  const size_t snap_at = dims_at + 6;
  if (info.Length() > snap_at && !info[snap_at].IsUndefined()) x.d.snapshot = boolean(info, snap_at, op, "snapshot");
  if (info.Length() > snap_at + 1 && !info[snap_at + 1].IsUndefined()) {
    x.d.erase = boolean(info, snap_at + 1, op, "erase");
  }
  const int64_t B = s.batch, T = s.seq, H = s.heads;
  x.q = float_array(info, 0, op, "q", {B, T, H, s.dk}, false, &x.dtype);
  x.k = float_array(info, 1, op, "k", {B, T, H, s.dk}, false, &x.dtype);
  x.v = float_array(info, 2, op, "v", {B, T, H, s.dv}, false, &x.dtype);
  x.alpha = float_array(info, 3, op, "alpha", {B, T, H}, false, &x.dtype);
  x.beta = float_array(info, 4, op, "beta", {B, T, H}, false, &x.dtype);
  x.s0 = float_array(info, 5, op, "s0", {B, H, s.dk, s.dv}, true, &x.dtype);
  memory::check_finite(info.Env(), op, "alpha", x.alpha, T, H);
  memory::check_finite(info.Env(), op, "beta", x.beta, T, H);
  return x;
}

Napi::Value Forward(const Napi::CallbackInfo& info) {
  const char* op = "deltaRuleForward";
  expect_args(info, op, 14);
  Inputs x = read_inputs(info, op, 8);
  const int64_t B = x.d.batch, T = x.d.seq, H = x.d.heads;
  ArrayView o = float_array(info, 6, op, "o", {B, T, H, x.d.dv}, false, &x.dtype);
  ArrayView st = float_array(info, 7, op, "stateOut", {B, H, x.d.dk, x.d.dv}, false, &x.dtype);
  if (x.dtype == DType::F32) {
    using F = float;
    delta_rule_forward<F>(x.d, memory::ptr<F>(x.q), memory::ptr<F>(x.k), memory::ptr<F>(x.v),
                          memory::ptr<F>(x.alpha), memory::ptr<F>(x.beta), memory::ptr<F>(x.s0), memory::mut<F>(o),
                          memory::mut<F>(st));
  } else {
    using F = double;
    delta_rule_forward<F>(x.d, memory::ptr<F>(x.q), memory::ptr<F>(x.k), memory::ptr<F>(x.v),
                          memory::ptr<F>(x.alpha), memory::ptr<F>(x.beta), memory::ptr<F>(x.s0), memory::mut<F>(o),
                          memory::mut<F>(st));
  }
  return info.Env().Undefined();
}

Napi::Value Backward(const Napi::CallbackInfo& info) {
  const char* op = "deltaRuleBackward";
  expect_args(info, op, 20);
  Inputs x = read_inputs(info, op, 14);
  const int64_t B = x.d.batch, T = x.d.seq, H = x.d.heads, dk = x.d.dk, dv = x.d.dv;
  ArrayView d_o = float_array(info, 6, op, "dO", {B, T, H, dv}, false, &x.dtype);
  ArrayView d_st = float_array(info, 7, op, "dState", {B, H, dk, dv}, true, &x.dtype);
  ArrayView dq = float_array(info, 8, op, "dq", {B, T, H, dk}, false, &x.dtype);
  ArrayView dkk = float_array(info, 9, op, "dk", {B, T, H, dk}, false, &x.dtype);
  ArrayView dvv = float_array(info, 10, op, "dv", {B, T, H, dv}, false, &x.dtype);
  ArrayView da = float_array(info, 11, op, "dAlpha", {B, T, H}, false, &x.dtype);
  ArrayView db = float_array(info, 12, op, "dBeta", {B, T, H}, false, &x.dtype);
  ArrayView ds0 = float_array(info, 13, op, "dS0", {B, H, dk, dv}, false, &x.dtype);
  auto run = [&](auto tag) {
    using F = decltype(tag);
    delta_rule_backward<F>(x.d, memory::ptr<F>(x.q), memory::ptr<F>(x.k), memory::ptr<F>(x.v),
                           memory::ptr<F>(x.alpha), memory::ptr<F>(x.beta), memory::ptr<F>(x.s0),
                           memory::ptr<F>(d_o), memory::ptr<F>(d_st), memory::mut<F>(dq), memory::mut<F>(dkk),
                           memory::mut<F>(dvv), memory::mut<F>(da), memory::mut<F>(db), memory::mut<F>(ds0));
  };
  if (x.dtype == DType::F32) run(float{});
  else run(double{});
  return info.Env().Undefined();
}

}  // namespace

void register_memory_delta_rule(Napi::Env env, Napi::Object exports) {
  exports.Set("deltaRuleForward", Napi::Function::New(env, Forward, "deltaRuleForward"));
  exports.Set("deltaRuleBackward", Napi::Function::New(env, Backward, "deltaRuleBackward"));
}

}  // namespace nl::binding

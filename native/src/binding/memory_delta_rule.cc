// deltaRuleForward / deltaRuleBackward: the gated delta rule kernels of @nl/memory (cpu/delta_rule.h).
//
//   deltaRuleForward({ q, k, v, alpha, beta, s0?, o, state }, dims)
//   deltaRuleBackward({ q, k, v, alpha, beta, s0?, dO, dState?, dq, dk, dv, dAlpha, dBeta, dS0 }, dims)
//   dims = { batch, seqLen, heads, dk, dv, chunkSize, snapshot? = false, erase? = true }
// snapshot: subtract alpha_t S_xi^T k_t from each value, S_xi = the state at the start of t's
// chunk; erase = false drops the erase term (gated linear attention). See cpu/delta_rule.h.
// q, k [B,T,H,Dk]; v, o, dO [B,T,H,Dv]; alpha, beta [B,T,H]; s0, state, dState, dS0 [B,H,Dk,Dv].
// Outputs are caller-allocated and overwritten. One dtype (Float32Array or Float64Array) per call.
// The field names and types are those of native/lib/memory.ts (DeltaRule*Arrays, DeltaRuleDims).
#include <napi.h>

#include "binding/memory_common.h"
#include "binding/register.h"
#include "cpu/delta_rule.h"

namespace nl::binding {
namespace {

using memory::Fields;
using memory::mut;
using memory::ptr;

struct Inputs {
  ArrayView q, k, v, alpha, beta, s0;
  DType dtype = DType::Other;
  DeltaRuleDims d;
};

DeltaRuleDims read_dims(const Napi::CallbackInfo& info, const char* op) {
  Fields f(info, 1, op, "dims");
  DeltaRuleDims d;
  d.batch = f.integer("batch", 1);
  d.seq = f.integer("seqLen", 0);
  d.heads = f.integer("heads", 1);
  d.dk = f.integer("dk", 1);
  d.dv = f.integer("dv", 1);
  d.chunk = f.integer("chunkSize", 1);
  d.snapshot = f.flag("snapshot", 0);
  d.erase = f.flag("erase", 1);
  f.done();
  return d;
}

Inputs read_inputs(Fields& a, const DeltaRuleDims& d, const char* op, const Napi::CallbackInfo& info) {
  Inputs x;
  x.d = d;
  const int64_t B = d.batch, T = d.seq, H = d.heads;
  x.q = a.array("q", {B, T, H, d.dk}, "[B, T, H, Dk]", false, &x.dtype);
  x.k = a.array("k", {B, T, H, d.dk}, "[B, T, H, Dk]", false, &x.dtype);
  x.v = a.array("v", {B, T, H, d.dv}, "[B, T, H, Dv]", false, &x.dtype);
  x.alpha = a.array("alpha", {B, T, H}, "[B, T, H]", false, &x.dtype);
  x.beta = a.array("beta", {B, T, H}, "[B, T, H]", false, &x.dtype);
  x.s0 = a.array("s0", {B, H, d.dk, d.dv}, "[B, H, Dk, Dv]", true, &x.dtype);
  memory::check_finite(info.Env(), op, "alpha", x.alpha, T, H);
  memory::check_finite(info.Env(), op, "beta", x.beta, T, H);
  return x;
}

Napi::Value Forward(const Napi::CallbackInfo& info) {
  const char* op = "deltaRuleForward";
  expect_args(info, op, 2);
  const DeltaRuleDims d = read_dims(info, op);
  Fields a(info, 0, op, "arrays");
  Inputs x = read_inputs(a, d, op, info);
  const int64_t B = d.batch, T = d.seq, H = d.heads;
  ArrayView o = a.array("o", {B, T, H, d.dv}, "[B, T, H, Dv]", false, &x.dtype);
  ArrayView st = a.array("state", {B, H, d.dk, d.dv}, "[B, H, Dk, Dv]", false, &x.dtype);
  a.done();
  auto run = [&](auto tag) {
    using F = decltype(tag);
    delta_rule_forward<F>(d, ptr<F>(x.q), ptr<F>(x.k), ptr<F>(x.v), ptr<F>(x.alpha), ptr<F>(x.beta), ptr<F>(x.s0),
                          mut<F>(o), mut<F>(st));
  };
  if (x.dtype == DType::F32) run(float{});
  else run(double{});
  return info.Env().Undefined();
}

Napi::Value Backward(const Napi::CallbackInfo& info) {
  const char* op = "deltaRuleBackward";
  expect_args(info, op, 2);
  const DeltaRuleDims d = read_dims(info, op);
  Fields a(info, 0, op, "arrays");
  Inputs x = read_inputs(a, d, op, info);
  const int64_t B = d.batch, T = d.seq, H = d.heads, dk = d.dk, dv = d.dv;
  ArrayView d_o = a.array("dO", {B, T, H, dv}, "[B, T, H, Dv]", false, &x.dtype);
  ArrayView d_st = a.array("dState", {B, H, dk, dv}, "[B, H, Dk, Dv]", true, &x.dtype);
  ArrayView dq = a.array("dq", {B, T, H, dk}, "[B, T, H, Dk]", false, &x.dtype);
  ArrayView dkk = a.array("dk", {B, T, H, dk}, "[B, T, H, Dk]", false, &x.dtype);
  ArrayView dvv = a.array("dv", {B, T, H, dv}, "[B, T, H, Dv]", false, &x.dtype);
  ArrayView da = a.array("dAlpha", {B, T, H}, "[B, T, H]", false, &x.dtype);
  ArrayView db = a.array("dBeta", {B, T, H}, "[B, T, H]", false, &x.dtype);
  ArrayView ds0 = a.array("dS0", {B, H, dk, dv}, "[B, H, Dk, Dv]", false, &x.dtype);
  a.done();
  auto run = [&](auto tag) {
    using F = decltype(tag);
    delta_rule_backward<F>(d, ptr<F>(x.q), ptr<F>(x.k), ptr<F>(x.v), ptr<F>(x.alpha), ptr<F>(x.beta), ptr<F>(x.s0),
                           ptr<F>(d_o), ptr<F>(d_st), mut<F>(dq), mut<F>(dkk), mut<F>(dvv), mut<F>(da), mut<F>(db),
                           mut<F>(ds0));
  };
  if (x.dtype == DType::F32) run(float{});
  else run(double{});
  return info.Env().Undefined();
}

}  // namespace

void register_memory_delta_rule(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "deltaRuleForward", Forward);
  export_fn(env, exports, "deltaRuleBackward", Backward);
}

}  // namespace nl::binding

// titansMlpForward / titansMlpBackward: the Titans MLP-memory kernels of @nl/memory (cpu/titans_mlp.h).
//
//   titansMlpForward({ q, k, v, theta, eta, alpha, w1, w2, s1?, s2?, o, w1Out, w2Out, s1Out, s2Out }, dims)
//   titansMlpBackward({ q, k, v, theta, eta, alpha, w1, w2, s1?, s2?, dO, dW1?, dW2?, dS1?, dS2?,
//                       dq, dk, dv, dTheta, dEta, dAlpha, dW1Out, dW2Out, dS1Out, dS2Out }, dims)
//   dims = { batch, seqLen, heads, d, hidden, chunkSize, readAfterWrite }
// q, k, v, o, dO [B,T,H,D]; gates [B,T,H]; w1, s1 [B,H,D,Dh]; w2, s2 [B,H,Dh,D]. One dtype per call.
// Field names and types: native/lib/memory.ts (TitansMlp*Arrays, TitansMlpDims).
#include <napi.h>

#include "binding/memory_common.h"
#include "binding/register.h"
#include "cpu/titans_mlp.h"

namespace nl::binding {
namespace {

using memory::Fields;
using memory::mut;
using memory::ptr;

constexpr const char* kSeq = "[B, T, H, D]";
constexpr const char* kGate = "[B, T, H]";
constexpr const char* kW1 = "[B, H, D, Dh]";
constexpr const char* kW2 = "[B, H, Dh, D]";

struct Inputs {
  ArrayView q, k, v, theta, eta, alpha, w1, w2, s1, s2;
  DType dtype = DType::Other;
};

TitansMlpDims read_dims(const Napi::CallbackInfo& info, const char* op) {
  Fields f(info, 1, op, "dims");
  TitansMlpDims d;
  d.batch = f.integer("batch", 1);
  d.seq = f.integer("seqLen", 0);
  d.heads = f.integer("heads", 1);
  d.d = f.integer("d", 1);
  d.hidden = f.integer("hidden", 1);
  d.chunk = f.integer("chunkSize", 1);
  d.read_after = f.flag("readAfterWrite");
  f.done();
  return d;
}

Inputs read_inputs(Fields& a, const TitansMlpDims& d, const char* op, const Napi::CallbackInfo& info) {
  Inputs x;
  const int64_t B = d.batch, T = d.seq, H = d.heads, D = d.d, Dh = d.hidden;
  x.q = a.array("q", {B, T, H, D}, kSeq, false, &x.dtype);
  x.k = a.array("k", {B, T, H, D}, kSeq, false, &x.dtype);
  x.v = a.array("v", {B, T, H, D}, kSeq, false, &x.dtype);
  x.theta = a.array("theta", {B, T, H}, kGate, false, &x.dtype);
  x.eta = a.array("eta", {B, T, H}, kGate, false, &x.dtype);
  x.alpha = a.array("alpha", {B, T, H}, kGate, false, &x.dtype);
  x.w1 = a.array("w1", {B, H, D, Dh}, kW1, false, &x.dtype);
  x.w2 = a.array("w2", {B, H, Dh, D}, kW2, false, &x.dtype);
  x.s1 = a.array("s1", {B, H, D, Dh}, kW1, true, &x.dtype);
  x.s2 = a.array("s2", {B, H, Dh, D}, kW2, true, &x.dtype);
  memory::check_finite(info.Env(), op, "theta", x.theta, T, H);
  memory::check_finite(info.Env(), op, "eta", x.eta, T, H);
  memory::check_finite(info.Env(), op, "alpha", x.alpha, T, H);
  return x;
}

Napi::Value Forward(const Napi::CallbackInfo& info) {
  const char* op = "titansMlpForward";
  expect_args(info, op, 2);
  const TitansMlpDims d = read_dims(info, op);
  Fields a(info, 0, op, "arrays");
  Inputs x = read_inputs(a, d, op, info);
  const int64_t B = d.batch, T = d.seq, H = d.heads, D = d.d, Dh = d.hidden;
  ArrayView o = a.array("o", {B, T, H, D}, kSeq, false, &x.dtype);
  ArrayView w1o = a.array("w1Out", {B, H, D, Dh}, kW1, false, &x.dtype);
  ArrayView w2o = a.array("w2Out", {B, H, Dh, D}, kW2, false, &x.dtype);
  ArrayView s1o = a.array("s1Out", {B, H, D, Dh}, kW1, false, &x.dtype);
  ArrayView s2o = a.array("s2Out", {B, H, Dh, D}, kW2, false, &x.dtype);
  a.done();
  auto run = [&](auto tag) {
    using F = decltype(tag);
    titans_mlp_forward<F>(d, ptr<F>(x.q), ptr<F>(x.k), ptr<F>(x.v), ptr<F>(x.theta), ptr<F>(x.eta), ptr<F>(x.alpha),
                          ptr<F>(x.w1), ptr<F>(x.w2), ptr<F>(x.s1), ptr<F>(x.s2), mut<F>(o), mut<F>(w1o),
                          mut<F>(w2o), mut<F>(s1o), mut<F>(s2o));
  };
  if (x.dtype == DType::F32) run(float{});
  else run(double{});
  return info.Env().Undefined();
}

Napi::Value Backward(const Napi::CallbackInfo& info) {
  const char* op = "titansMlpBackward";
  expect_args(info, op, 2);
  const TitansMlpDims d = read_dims(info, op);
  Fields a(info, 0, op, "arrays");
  Inputs x = read_inputs(a, d, op, info);
  const int64_t B = d.batch, T = d.seq, H = d.heads, D = d.d, Dh = d.hidden;
  ArrayView d_o = a.array("dO", {B, T, H, D}, kSeq, false, &x.dtype);
  ArrayView gw1 = a.array("dW1", {B, H, D, Dh}, kW1, true, &x.dtype);
  ArrayView gw2 = a.array("dW2", {B, H, Dh, D}, kW2, true, &x.dtype);
  ArrayView gs1 = a.array("dS1", {B, H, D, Dh}, kW1, true, &x.dtype);
  ArrayView gs2 = a.array("dS2", {B, H, Dh, D}, kW2, true, &x.dtype);
  ArrayView dq = a.array("dq", {B, T, H, D}, kSeq, false, &x.dtype);
  ArrayView dk = a.array("dk", {B, T, H, D}, kSeq, false, &x.dtype);
  ArrayView dv = a.array("dv", {B, T, H, D}, kSeq, false, &x.dtype);
  ArrayView dth = a.array("dTheta", {B, T, H}, kGate, false, &x.dtype);
  ArrayView det = a.array("dEta", {B, T, H}, kGate, false, &x.dtype);
  ArrayView dal = a.array("dAlpha", {B, T, H}, kGate, false, &x.dtype);
  ArrayView dw1 = a.array("dW1Out", {B, H, D, Dh}, kW1, false, &x.dtype);
  ArrayView dw2 = a.array("dW2Out", {B, H, Dh, D}, kW2, false, &x.dtype);
  ArrayView ds1 = a.array("dS1Out", {B, H, D, Dh}, kW1, false, &x.dtype);
  ArrayView ds2 = a.array("dS2Out", {B, H, Dh, D}, kW2, false, &x.dtype);
  a.done();
  auto run = [&](auto tag) {
    using F = decltype(tag);
    titans_mlp_backward<F>(d, ptr<F>(x.q), ptr<F>(x.k), ptr<F>(x.v), ptr<F>(x.theta), ptr<F>(x.eta),
                           ptr<F>(x.alpha), ptr<F>(x.w1), ptr<F>(x.w2), ptr<F>(x.s1), ptr<F>(x.s2), ptr<F>(d_o),
                           ptr<F>(gw1), ptr<F>(gw2), ptr<F>(gs1), ptr<F>(gs2), mut<F>(dq), mut<F>(dk), mut<F>(dv),
                           mut<F>(dth), mut<F>(det), mut<F>(dal), mut<F>(dw1), mut<F>(dw2), mut<F>(ds1),
                           mut<F>(ds2));
  };
  if (x.dtype == DType::F32) run(float{});
  else run(double{});
  return info.Env().Undefined();
}

}  // namespace

void register_memory_titans_mlp(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "titansMlpForward", Forward);
  export_fn(env, exports, "titansMlpBackward", Backward);
}

}  // namespace nl::binding

// titansLinearForward / titansLinearBackward: the Titans linear-memory chunk kernels of @nl/memory
// (cpu/titans_linear.h).
//
//   titansLinearForward({ q, k, v, theta, eta, alpha, m0?, s0?, o, mOut, sOut }, dims)
//   titansLinearBackward({ q, k, v, theta, eta, alpha, m0?, s0?, dO, dM?, dS?,
//                          dq, dk, dv, dTheta, dEta, dAlpha, dM0, dS0 }, dims)
//   dims = { batch, seqLen, heads, dk, dv, chunkSize, readAfterWrite }
// q, k [B,T,H,Dk]; v, o, dO [B,T,H,Dv]; gates [B,T,H]; M, S and their gradients [B,H,Dv,Dk].
// Outputs are caller-allocated and overwritten; one dtype per call. Field names and types:
// native/lib/memory.ts (TitansLinear*Arrays, TitansLinearDims).
#include <napi.h>

#include "binding/memory_common.h"
#include "binding/register.h"
#include "cpu/titans_linear.h"

namespace nl::binding {
namespace {

using memory::Fields;
using memory::mut;
using memory::ptr;

struct Inputs {
  ArrayView q, k, v, theta, eta, alpha, m0, s0;
  DType dtype = DType::Other;
};

TitansLinearDims read_dims(const Napi::CallbackInfo& info, const char* op) {
  Fields f(info, 1, op, "dims");
  TitansLinearDims d;
  d.batch = f.integer("batch", 1);
  d.seq = f.integer("seqLen", 0);
  d.heads = f.integer("heads", 1);
  d.dk = f.integer("dk", 1);
  d.dv = f.integer("dv", 1);
  d.chunk = f.integer("chunkSize", 1);
  d.read_after = f.flag("readAfterWrite");
  f.done();
  return d;
}

Inputs read_inputs(Fields& a, const TitansLinearDims& d, const char* op, const Napi::CallbackInfo& info) {
  Inputs x;
  const int64_t B = d.batch, T = d.seq, H = d.heads;
  x.q = a.array("q", {B, T, H, d.dk}, "[B, T, H, Dk]", false, &x.dtype);
  x.k = a.array("k", {B, T, H, d.dk}, "[B, T, H, Dk]", false, &x.dtype);
  x.v = a.array("v", {B, T, H, d.dv}, "[B, T, H, Dv]", false, &x.dtype);
  x.theta = a.array("theta", {B, T, H}, "[B, T, H]", false, &x.dtype);
  x.eta = a.array("eta", {B, T, H}, "[B, T, H]", false, &x.dtype);
  x.alpha = a.array("alpha", {B, T, H}, "[B, T, H]", false, &x.dtype);
  x.m0 = a.array("m0", {B, H, d.dv, d.dk}, "[B, H, Dv, Dk]", true, &x.dtype);
  x.s0 = a.array("s0", {B, H, d.dv, d.dk}, "[B, H, Dv, Dk]", true, &x.dtype);
  memory::check_finite(info.Env(), op, "theta", x.theta, T, H);
  memory::check_finite(info.Env(), op, "eta", x.eta, T, H);
  memory::check_finite(info.Env(), op, "alpha", x.alpha, T, H);
  return x;
}

Napi::Value Forward(const Napi::CallbackInfo& info) {
  const char* op = "titansLinearForward";
  expect_args(info, op, 2);
  const TitansLinearDims d = read_dims(info, op);
  Fields a(info, 0, op, "arrays");
  Inputs x = read_inputs(a, d, op, info);
  const int64_t B = d.batch, T = d.seq, H = d.heads, dk = d.dk, dv = d.dv;
  ArrayView o = a.array("o", {B, T, H, dv}, "[B, T, H, Dv]", false, &x.dtype);
  ArrayView mo = a.array("mOut", {B, H, dv, dk}, "[B, H, Dv, Dk]", false, &x.dtype);
  ArrayView so = a.array("sOut", {B, H, dv, dk}, "[B, H, Dv, Dk]", false, &x.dtype);
  a.done();
  auto run = [&](auto tag) {
    using F = decltype(tag);
    titans_linear_forward<F>(d, ptr<F>(x.q), ptr<F>(x.k), ptr<F>(x.v), ptr<F>(x.theta), ptr<F>(x.eta),
                             ptr<F>(x.alpha), ptr<F>(x.m0), ptr<F>(x.s0), mut<F>(o), mut<F>(mo), mut<F>(so));
  };
  if (x.dtype == DType::F32) run(float{});
  else run(double{});
  return info.Env().Undefined();
}

Napi::Value Backward(const Napi::CallbackInfo& info) {
  const char* op = "titansLinearBackward";
  expect_args(info, op, 2);
  const TitansLinearDims d = read_dims(info, op);
  Fields a(info, 0, op, "arrays");
  Inputs x = read_inputs(a, d, op, info);
  const int64_t B = d.batch, T = d.seq, H = d.heads, dk = d.dk, dv = d.dv;
  const char* seqk = "[B, T, H, Dk]";
  const char* seqv = "[B, T, H, Dv]";
  const char* gate = "[B, T, H]";
  const char* mat = "[B, H, Dv, Dk]";
  ArrayView d_o = a.array("dO", {B, T, H, dv}, seqv, false, &x.dtype);
  ArrayView d_m = a.array("dM", {B, H, dv, dk}, mat, true, &x.dtype);
  ArrayView d_s = a.array("dS", {B, H, dv, dk}, mat, true, &x.dtype);
  ArrayView dq = a.array("dq", {B, T, H, dk}, seqk, false, &x.dtype);
  ArrayView dkk = a.array("dk", {B, T, H, dk}, seqk, false, &x.dtype);
  ArrayView dvv = a.array("dv", {B, T, H, dv}, seqv, false, &x.dtype);
  ArrayView dth = a.array("dTheta", {B, T, H}, gate, false, &x.dtype);
  ArrayView det = a.array("dEta", {B, T, H}, gate, false, &x.dtype);
  ArrayView dal = a.array("dAlpha", {B, T, H}, gate, false, &x.dtype);
  ArrayView dm0 = a.array("dM0", {B, H, dv, dk}, mat, false, &x.dtype);
  ArrayView ds0 = a.array("dS0", {B, H, dv, dk}, mat, false, &x.dtype);
  a.done();
  auto run = [&](auto tag) {
    using F = decltype(tag);
    titans_linear_backward<F>(d, ptr<F>(x.q), ptr<F>(x.k), ptr<F>(x.v), ptr<F>(x.theta), ptr<F>(x.eta),
                              ptr<F>(x.alpha), ptr<F>(x.m0), ptr<F>(x.s0), ptr<F>(d_o), ptr<F>(d_m), ptr<F>(d_s),
                              mut<F>(dq), mut<F>(dkk), mut<F>(dvv), mut<F>(dth), mut<F>(det), mut<F>(dal),
                              mut<F>(dm0), mut<F>(ds0));
  };
  if (x.dtype == DType::F32) run(float{});
  else run(double{});
  return info.Env().Undefined();
}

}  // namespace

void register_memory_titans(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "titansLinearForward", Forward);
  export_fn(env, exports, "titansLinearBackward", Backward);
}

}  // namespace nl::binding

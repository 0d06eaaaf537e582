// titansLinearForward / titansLinearBackward: the Titans linear-memory chunk kernels of @nl/memory
// (cpu/titans_linear.h).
//
//   titansLinearForward(q, k, v, theta, eta, alpha, m0|null, s0|null, o, mOut, sOut,
//                       B, T, H, Dk, Dv, chunkSize, readAfterWrite)
//   titansLinearBackward(q, k, v, theta, eta, alpha, m0|null, s0|null, dO, dM|null, dS|null,
//                        dq, dk, dv, dTheta, dEta, dAlpha, dM0, dS0, B, T, H, Dk, Dv, chunkSize, readAfterWrite)
// q, k [B,T,H,Dk]; v, o, dO [B,T,H,Dv]; gates [B,T,H]; M, S and their gradients [B,H,Dv,Dk].
// Outputs are caller-allocated and overwritten; one dtype per call.
#include <napi.h>

#include "binding/memory_common.h"
#include "binding/register.h"
#include "cpu/titans_linear.h"

namespace nl::binding {
namespace {

using memory::float_array;
using memory::mut;
using memory::ptr;

struct Inputs {
  ArrayView q, k, v, theta, eta, alpha, m0, s0;
  DType dtype = DType::Other;
  TitansLinearDims d;
};

Inputs read_inputs(const Napi::CallbackInfo& info, const char* op, size_t dims_at) {
  Inputs x;
  memory::SeqArgs s = memory::seq_args(info, dims_at, op);
  x.d = TitansLinearDims{s.batch, s.seq, s.heads, s.dk, s.dv, s.chunk, boolean(info, dims_at + 6, op, "readAfterWrite")};
  const int64_t B = s.batch, T = s.seq, H = s.heads;
  x.q = float_array(info, 0, op, "q", {B, T, H, s.dk}, false, &x.dtype);
  x.k = float_array(info, 1, op, "k", {B, T, H, s.dk}, false, &x.dtype);
  x.v = float_array(info, 2, op, "v", {B, T, H, s.dv}, false, &x.dtype);
  x.theta = float_array(info, 3, op, "theta", {B, T, H}, false, &x.dtype);
  x.eta = float_array(info, 4, op, "eta", {B, T, H}, false, &x.dtype);
  x.alpha = float_array(info, 5, op, "alpha", {B, T, H}, false, &x.dtype);
  x.m0 = float_array(info, 6, op, "m0", {B, H, s.dv, s.dk}, true, &x.dtype);
  x.s0 = float_array(info, 7, op, "s0", {B, H, s.dv, s.dk}, true, &x.dtype);
  memory::check_finite(info.Env(), op, "theta", x.theta, T, H);
  memory::check_finite(info.Env(), op, "eta", x.eta, T, H);
  memory::check_finite(info.Env(), op, "alpha", x.alpha, T, H);
  return x;
}

Napi::Value Forward(const Napi::CallbackInfo& info) {
  const char* op = "titansLinearForward";
  expect_args(info, op, 18);
  Inputs x = read_inputs(info, op, 11);
  const int64_t B = x.d.batch, T = x.d.seq, H = x.d.heads, dk = x.d.dk, dv = x.d.dv;
  ArrayView o = float_array(info, 8, op, "o", {B, T, H, dv}, false, &x.dtype);
  ArrayView mo = float_array(info, 9, op, "mOut", {B, H, dv, dk}, false, &x.dtype);
  ArrayView so = float_array(info, 10, op, "sOut", {B, H, dv, dk}, false, &x.dtype);
  auto run = [&](auto tag) {
    using F = decltype(tag);
    titans_linear_forward<F>(x.d, ptr<F>(x.q), ptr<F>(x.k), ptr<F>(x.v), ptr<F>(x.theta), ptr<F>(x.eta),
                             ptr<F>(x.alpha), ptr<F>(x.m0), ptr<F>(x.s0), mut<F>(o), mut<F>(mo), mut<F>(so));
  };
  if (x.dtype == DType::F32) run(float{});
  else run(double{});
  return info.Env().Undefined();
}

Napi::Value Backward(const Napi::CallbackInfo& info) {
  const char* op = "titansLinearBackward";
  expect_args(info, op, 26);
  Inputs x = read_inputs(info, op, 19);
  const int64_t B = x.d.batch, T = x.d.seq, H = x.d.heads, dk = x.d.dk, dv = x.d.dv;
  ArrayView d_o = float_array(info, 8, op, "dO", {B, T, H, dv}, false, &x.dtype);
  ArrayView d_m = float_array(info, 9, op, "dM", {B, H, dv, dk}, true, &x.dtype);
  ArrayView d_s = float_array(info, 10, op, "dS", {B, H, dv, dk}, true, &x.dtype);
  ArrayView dq = float_array(info, 11, op, "dq", {B, T, H, dk}, false, &x.dtype);
  ArrayView dkk = float_array(info, 12, op, "dk", {B, T, H, dk}, false, &x.dtype);
  ArrayView dvv = float_array(info, 13, op, "dv", {B, T, H, dv}, false, &x.dtype);
  ArrayView dth = float_array(info, 14, op, "dTheta", {B, T, H}, false, &x.dtype);
  ArrayView det = float_array(info, 15, op, "dEta", {B, T, H}, false, &x.dtype);
  ArrayView dal = float_array(info, 16, op, "dAlpha", {B, T, H}, false, &x.dtype);
  ArrayView dm0 = float_array(info, 17, op, "dM0", {B, H, dv, dk}, false, &x.dtype);
  ArrayView ds0 = float_array(info, 18, op, "dS0", {B, H, dv, dk}, false, &x.dtype);
  auto run = [&](auto tag) {
    using F = decltype(tag);
    titans_linear_backward<F>(x.d, ptr<F>(x.q), ptr<F>(x.k), ptr<F>(x.v), ptr<F>(x.theta), ptr<F>(x.eta),
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
  exports.Set("titansLinearForward", Napi::Function::New(env, Forward, "titansLinearForward"));
  exports.Set("titansLinearBackward", Napi::Function::New(env, Backward, "titansLinearBackward"));
}

}  // namespace nl::binding

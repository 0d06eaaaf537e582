// titansMlpForward / titansMlpBackward: the Titans MLP-memory kernels of @nl/memory (cpu/titans_mlp.h).
//
//   titansMlpForward(q, k, v, theta, eta, alpha, w1, w2, s1|null, s2|null,
//                    o, w1Out, w2Out, s1Out, s2Out, B, T, H, D, Dh, chunkSize, readAfterWrite)
//   titansMlpBackward(q, k, v, theta, eta, alpha, w1, w2, s1|null, s2|null,
//                     dO, dW1|null, dW2|null, dS1|null, dS2|null,
//                     dq, dk, dv, dTheta, dEta, dAlpha, dW1out, dW2out, dS1out, dS2out,
//                     B, T, H, D, Dh, chunkSize, readAfterWrite)
// q, k, v, o, dO [B,T,H,D]; gates [B,T,H]; w1, s1 [B,H,D,Dh]; w2, s2 [B,H,Dh,D]. One dtype per call.
#include <napi.h>

#include "binding/memory_common.h"
#include "binding/register.h"
#include "cpu/titans_mlp.h"

namespace nl::binding {
namespace {

using memory::float_array;
using memory::mut;
using memory::ptr;

struct Inputs {
  ArrayView q, k, v, theta, eta, alpha, w1, w2, s1, s2;
  DType dtype = DType::Other;
  TitansMlpDims d;
};

Inputs read_inputs(const Napi::CallbackInfo& info, const char* op, size_t at) {
  Inputs x;
  x.d.batch = count(info, at, op, "batch");
  x.d.seq = count(info, at + 1, op, "seqLen");
  x.d.heads = count(info, at + 2, op, "heads");
  x.d.d = count(info, at + 3, op, "d");
  x.d.hidden = count(info, at + 4, op, "hidden");
  x.d.chunk = count(info, at + 5, op, "chunkSize");
  x.d.read_after = boolean(info, at + 6, op, "readAfterWrite");
  if (x.d.batch < 1 || x.d.heads < 1 || x.d.d < 1 || x.d.hidden < 1) {
    throw_range(info.Env(), op, "batch, heads, d and hidden must be >= 1");
  }
  if (x.d.chunk < 1) throw_range(info.Env(), op, "chunkSize must be >= 1, got " + std::to_string(x.d.chunk));
  const int64_t B = x.d.batch, T = x.d.seq, H = x.d.heads, D = x.d.d, Dh = x.d.hidden;
  x.q = float_array(info, 0, op, "q", {B, T, H, D}, false, &x.dtype);
  x.k = float_array(info, 1, op, "k", {B, T, H, D}, false, &x.dtype);
  x.v = float_array(info, 2, op, "v", {B, T, H, D}, false, &x.dtype);
  x.theta = float_array(info, 3, op, "theta", {B, T, H}, false, &x.dtype);
  x.eta = float_array(info, 4, op, "eta", {B, T, H}, false, &x.dtype);
  x.alpha = float_array(info, 5, op, "alpha", {B, T, H}, false, &x.dtype);
  x.w1 = float_array(info, 6, op, "w1", {B, H, D, Dh}, false, &x.dtype);
  x.w2 = float_array(info, 7, op, "w2", {B, H, Dh, D}, false, &x.dtype);
  x.s1 = float_array(info, 8, op, "s1", {B, H, D, Dh}, true, &x.dtype);
  x.s2 = float_array(info, 9, op, "s2", {B, H, Dh, D}, true, &x.dtype);
  memory::check_finite(info.Env(), op, "theta", x.theta, T, H);
  memory::check_finite(info.Env(), op, "eta", x.eta, T, H);
  memory::check_finite(info.Env(), op, "alpha", x.alpha, T, H);
  return x;
}

Napi::Value Forward(const Napi::CallbackInfo& info) {
  const char* op = "titansMlpForward";
  expect_args(info, op, 22);
  Inputs x = read_inputs(info, op, 15);
  const int64_t B = x.d.batch, T = x.d.seq, H = x.d.heads, D = x.d.d, Dh = x.d.hidden;
  ArrayView o = float_array(info, 10, op, "o", {B, T, H, D}, false, &x.dtype);
  ArrayView w1o = float_array(info, 11, op, "w1Out", {B, H, D, Dh}, false, &x.dtype);
  ArrayView w2o = float_array(info, 12, op, "w2Out", {B, H, Dh, D}, false, &x.dtype);
  ArrayView s1o = float_array(info, 13, op, "s1Out", {B, H, D, Dh}, false, &x.dtype);
  ArrayView s2o = float_array(info, 14, op, "s2Out", {B, H, Dh, D}, false, &x.dtype);
  auto run = [&](auto tag) {
    using F = decltype(tag);
    titans_mlp_forward<F>(x.d, ptr<F>(x.q), ptr<F>(x.k), ptr<F>(x.v), ptr<F>(x.theta), ptr<F>(x.eta),
                          ptr<F>(x.alpha), ptr<F>(x.w1), ptr<F>(x.w2), ptr<F>(x.s1), ptr<F>(x.s2), mut<F>(o),
                          mut<F>(w1o), mut<F>(w2o), mut<F>(s1o), mut<F>(s2o));
  };
  if (x.dtype == DType::F32) run(float{});
  else run(double{});
  return info.Env().Undefined();
}

Napi::Value Backward(const Napi::CallbackInfo& info) {
  const char* op = "titansMlpBackward";
  expect_args(info, op, 32);
  Inputs x = read_inputs(info, op, 25);
  const int64_t B = x.d.batch, T = x.d.seq, H = x.d.heads, D = x.d.d, Dh = x.d.hidden;
  ArrayView d_o = float_array(info, 10, op, "dO", {B, T, H, D}, false, &x.dtype);
  ArrayView gw1 = float_array(info, 11, op, "dW1", {B, H, D, Dh}, true, &x.dtype);
  ArrayView gw2 = float_array(info, 12, op, "dW2", {B, H, Dh, D}, true, &x.dtype);
  ArrayView gs1 = float_array(info, 13, op, "dS1", {B, H, D, Dh}, true, &x.dtype);
  ArrayView gs2 = float_array(info, 14, op, "dS2", {B, H, Dh, D}, true, &x.dtype);
  ArrayView dq = float_array(info, 15, op, "dq", {B, T, H, D}, false, &x.dtype);
  ArrayView dk = float_array(info, 16, op, "dk", {B, T, H, D}, false, &x.dtype);
  ArrayView dv = float_array(info, 17, op, "dv", {B, T, H, D}, false, &x.dtype);
  ArrayView dth = float_array(info, 18, op, "dTheta", {B, T, H}, false, &x.dtype);
  ArrayView det = float_array(info, 19, op, "dEta", {B, T, H}, false, &x.dtype);
  ArrayView dal = float_array(info, 20, op, "dAlpha", {B, T, H}, false, &x.dtype);
  ArrayView dw1 = float_array(info, 21, op, "dW1out", {B, H, D, Dh}, false, &x.dtype);
  ArrayView dw2 = float_array(info, 22, op, "dW2out", {B, H, Dh, D}, false, &x.dtype);
  ArrayView ds1 = float_array(info, 23, op, "dS1out", {B, H, D, Dh}, false, &x.dtype);
  ArrayView ds2 = float_array(info, 24, op, "dS2out", {B, H, Dh, D}, false, &x.dtype);
  auto run = [&](auto tag) {
    using F = decltype(tag);
    titans_mlp_backward<F>(x.d, ptr<F>(x.q), ptr<F>(x.k), ptr<F>(x.v), ptr<F>(x.theta), ptr<F>(x.eta),
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
  exports.Set("titansMlpForward", Napi::Function::New(env, Forward, "titansMlpForward"));
  exports.Set("titansMlpBackward", Napi::Function::New(env, Backward, "titansMlpBackward"));
}

}  // namespace nl::binding

// selfModForward / selfModBackward: the fused SelfModifyingTitans kernels of @nl/memory (cpu/self_mod.h).
//
//   selfModForward(x, q, w1, w2, s1, s2, a1, a2, o, w1Out, w2Out, s1Out, s2Out, a1Out, a2Out, <dims>,
//                  ckpt?)
//   selfModBackward(x, q, w1, w2, s1, s2, a1, a2, dO, dW1|null, dW2|null, dS1|null, dS2|null,
//                   dA1|null, dA2|null, dx, dq, gW1, gW2, gS1, gS2, gA1, gA2, <dims>, ckpt?)
//   ckpt (optional, null = none): the block-start states the forward keeps for the backward
//   (B H ceil(T / block) 6 M D Dh elements, opaque layout; same dims and block in both calls).
//   <dims> = B, T, H, D, Dh, M, tokens, chunkMem, chunkOther, block (0 = automatic), momentum,
//            alphaBias, etaBias, adaptiveQ, readSnapshot
// x, q, o, dO, dx, dq [B,T,H,D]; w1, s1, a1 (and their gradients) [B,M,H,D,Dh]; w2, s2, a2 [B,M,H,Dh,D].
// One dtype per call.
#include <napi.h>

#include <cmath>

#include "binding/memory_common.h"
#include "binding/register.h"
#include "cpu/self_mod.h"

namespace nl::binding {
namespace {

using memory::float_array;
using memory::mut;
using memory::ptr;

double finite(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  const double v = number(info, i, op, name);
  if (!std::isfinite(v)) throw_range(info.Env(), op, std::string(name) + " must be finite");
  return v;
}

SelfModDims read_dims(const Napi::CallbackInfo& info, const char* op, size_t at) {
  SelfModDims d;
  d.batch = count(info, at, op, "batch");
  d.seq = count(info, at + 1, op, "seqLen");
  d.heads = count(info, at + 2, op, "heads");
  d.d = count(info, at + 3, op, "d");
  d.hidden = count(info, at + 4, op, "hidden");
  d.mems = count(info, at + 5, op, "mems");
  d.tokens = count(info, at + 6, op, "tokens");
  d.chunk_mem = count(info, at + 7, op, "chunkMem");
  d.chunk_other = count(info, at + 8, op, "chunkOther");
  d.block = count(info, at + 9, op, "block");
  d.momentum = finite(info, at + 10, op, "momentum");
  d.alpha_bias = finite(info, at + 11, op, "alphaBias");
  d.eta_bias = finite(info, at + 12, op, "etaBias");
  d.adaptive_q = boolean(info, at + 13, op, "adaptiveQ");
  d.read_snapshot = boolean(info, at + 14, op, "readSnapshot");
  if (d.batch < 1 || d.heads < 1 || d.d < 1 || d.hidden < 1) {
    throw_range(info.Env(), op, "batch, heads, d and hidden must be >= 1");
  }
  if (d.mems != (d.adaptive_q ? 6 : 5)) {
    throw_range(info.Env(), op, "mems must be 5 (k, v, eta, alpha, mem), or 6 with adaptiveQ (+ q), got " +
                                    std::to_string(d.mems));
  }
  if (d.chunk_mem < 1 || d.chunk_other < 1) throw_range(info.Env(), op, "chunkMem and chunkOther must be >= 1");
  if (d.block == 0) d.block = self_mod_auto_block(d.seq);  // 0 = automatic
  return d;
}

struct Arrays {
  ArrayView x, q, st[kSelfModStates];
  DType dtype = DType::Other;
};

void state_arrays(const Napi::CallbackInfo& info, const char* op, size_t at, const SelfModDims& d,
                  const char* const* names, bool optional, ArrayView* out, DType* dtype) {
  const int64_t B = d.batch, M = d.mems, H = d.heads, D = d.d, Dh = d.hidden;
  for (int s = 0; s < kSelfModStates; ++s) {
    const bool first = s % 2 == 0;  // w1, s1, a1 [B,M,H,D,Dh]; w2, s2, a2 [B,M,H,Dh,D]
    out[s] = float_array(info, at + s, op, names[s], first ? std::vector<int64_t>{B, M, H, D, Dh}
                                                          : std::vector<int64_t>{B, M, H, Dh, D},
                         optional, dtype);
  }
}

Arrays read_inputs(const Napi::CallbackInfo& info, const char* op, const SelfModDims& d) {
  Arrays a;
  const int64_t B = d.batch, T = d.seq, H = d.heads, D = d.d;
  a.x = float_array(info, 0, op, "x", {B, T, H, D}, false, &a.dtype);
  a.q = float_array(info, 1, op, "q", {B, T, H, D}, false, &a.dtype);
  static const char* names[] = {"w1", "w2", "s1", "s2", "a1", "a2"};
  state_arrays(info, op, 2, d, names, false, a.st, &a.dtype);
  return a;
}

Napi::Value Forward(const Napi::CallbackInfo& info) {
  const char* op = "selfModForward";
  expect_args(info, op, 30);
  const SelfModDims d = read_dims(info, op, 15);
  Arrays a = read_inputs(info, op, d);
  const int64_t B = d.batch, T = d.seq, H = d.heads, D = d.d;
  ArrayView o = float_array(info, 8, op, "o", {B, T, H, D}, false, &a.dtype);
  ArrayView out[kSelfModStates];
  static const char* names[] = {"w1Out", "w2Out", "s1Out", "s2Out", "a1Out", "a2Out"};
  state_arrays(info, op, 9, d, names, false, out, &a.dtype);
  const ArrayView ck = float_array(info, 30, op, "ckpt", {self_mod_ckpt_size(d)}, true, &a.dtype);
  auto run = [&](auto tag) {
    using F = decltype(tag);
    const F* st[kSelfModStates];
    F* so[kSelfModStates];
    for (int s = 0; s < kSelfModStates; ++s) {
      st[s] = ptr<F>(a.st[s]);
      so[s] = mut<F>(out[s]);
    }
    self_mod_forward<F>(d, ptr<F>(a.x), ptr<F>(a.q), st, mut<F>(o), so, mut<F>(ck));
  };
  if (a.dtype == DType::F32) run(float{});
  else run(double{});
  return info.Env().Undefined();
}

Napi::Value Backward(const Napi::CallbackInfo& info) {
  const char* op = "selfModBackward";
  expect_args(info, op, 38);
  const SelfModDims d = read_dims(info, op, 23);
  Arrays a = read_inputs(info, op, d);
  const int64_t B = d.batch, T = d.seq, H = d.heads, D = d.d;
  ArrayView d_o = float_array(info, 8, op, "dO", {B, T, H, D}, false, &a.dtype);
  ArrayView gst[kSelfModStates], gin[kSelfModStates];
  static const char* gnames[] = {"dW1", "dW2", "dS1", "dS2", "dA1", "dA2"};
  static const char* inames[] = {"gW1", "gW2", "gS1", "gS2", "gA1", "gA2"};
  state_arrays(info, op, 9, d, gnames, true, gst, &a.dtype);
  ArrayView dx = float_array(info, 15, op, "dx", {B, T, H, D}, false, &a.dtype);
  ArrayView dq = float_array(info, 16, op, "dq", {B, T, H, D}, false, &a.dtype);
  state_arrays(info, op, 17, d, inames, false, gin, &a.dtype);
  const ArrayView ck = float_array(info, 38, op, "ckpt", {self_mod_ckpt_size(d)}, true, &a.dtype);
  auto run = [&](auto tag) {
    using F = decltype(tag);
    const F *st[kSelfModStates], *gs[kSelfModStates];
    F* gi[kSelfModStates];
    for (int s = 0; s < kSelfModStates; ++s) {
      st[s] = ptr<F>(a.st[s]);
      gs[s] = ptr<F>(gst[s]);
      gi[s] = mut<F>(gin[s]);
    }
    self_mod_backward<F>(d, ptr<F>(a.x), ptr<F>(a.q), st, ptr<F>(d_o), gs, mut<F>(dx), mut<F>(dq), gi, ptr<F>(ck));
  };
  if (a.dtype == DType::F32) run(float{});
  else run(double{});
  return info.Env().Undefined();
}

}  // namespace

void register_memory_self_mod(Napi::Env env, Napi::Object exports) {
  exports.Set("selfModForward", Napi::Function::New(env, Forward, "selfModForward"));
  exports.Set("selfModBackward", Napi::Function::New(env, Backward, "selfModBackward"));
}

}  // namespace nl::binding

// selfModForward / selfModBackward: the fused SelfModifyingTitans kernels of @nl/memory (cpu/self_mod.h).
//
//   selfModForward({ x, q, xv?, w1, w2, s1, s2, a1, a2, o, w1Out, w2Out, s1Out, s2Out, a1Out, a2Out, ckpt? }, dims)
//   selfModBackward({ x, q, xv?, w1, w2, s1, s2, a1, a2, dO, dW1?, dW2?, dS1?, dS2?, dA1?, dA2?,
//                     dx, dq, dxv?, gW1, gW2, gS1, gS2, gA1, gA2, ckpt? }, dims)
//   dims = { batch, seqLen, heads, d, hidden, mems, tokens, chunkMem, chunkOther, block? = 0 (automatic),
//            momentum, alphaBias, etaBias, adaptiveQ, readSnapshot, dual? = true, innerGradClip? = 0 }
//   innerGradClip > 0: the per-token inner-gradient clip (cpu/self_mod_clip.h; CUDA: cuda/kernels/self_mod_clip_back.h).
//   ckpt (optional): the block-start states the forward keeps for the backward
//   (B H ceil(T / block) 6 M D Dh elements, opaque layout; same dims and block in both calls).
//   xv (optional): a separate value input, v = M_v(xv) instead of M_v(x); the backward then needs
//   dxv (its gradient; required iff xv is given).
// x, q, xv, o, dO, dx, dq, dxv [B,T,H,D]; w1, s1, a1 (and their gradients) [B,M,H,D,Dh]; w2, s2, a2 [B,M,H,Dh,D].
// One dtype per call. Field names and types: native/lib/memory.ts (SelfMod*Arrays, SelfModDims).
#include <napi.h>

#include <string>

#include "binding/memory_common.h"
#include "binding/register.h"
#include "binding/self_mod_dims.h"
#include "cpu/self_mod.h"

namespace nl::binding {
namespace {

using memory::Fields;
using memory::mut;
using memory::ptr;

constexpr const char* kSeq = "[B, T, H, D]";

// self_mod_ckpt_size, overflow-checked.
int64_t ckpt_size(const Napi::CallbackInfo& info, const char* op, const SelfModDims& d) {
  const int64_t nblk = d.seq == 0 ? 0 : (d.seq - 1) / d.block + 1;
  return checked_product(info.Env(), op, "ckpt elements B * H * ceil(T / block) * 6 * M * D * Dh",
                         {d.batch, d.heads, nblk, kSelfModStates, d.mems, d.d, d.hidden});
}

// The six state arrays named prefix + {W1, W2, S1, S2, A1, A2} (or names[]), in kernel order.
void states(Fields& a, const SelfModDims& d, const char* const* names, bool optional, ArrayView* out, DType* dtype) {
  const int64_t B = d.batch, M = d.mems, H = d.heads, D = d.d, Dh = d.hidden;
  for (int s = 0; s < kSelfModStates; ++s) {
    const bool first = s % 2 == 0;  // w1, s1, a1 [B,M,H,D,Dh]; w2, s2, a2 [B,M,H,Dh,D]
    out[s] = first ? a.array(names[s], {B, M, H, D, Dh}, "[B, M, H, D, Dh]", optional, dtype)
                   : a.array(names[s], {B, M, H, Dh, D}, "[B, M, H, Dh, D]", optional, dtype);
  }
}

// Whether field `name` of the arrays argument is set (not absent, undefined or null; an empty
// array counts, unlike a null ArrayView::data).
bool given(const Napi::CallbackInfo& info, const char* name) {
  const Napi::Value v = info[0].As<Napi::Object>().Get(name);
  return !v.IsUndefined() && !v.IsNull();
}

struct Inputs {
  ArrayView x, q, xv, st[kSelfModStates];
  DType dtype = DType::Other;
};

Inputs read_inputs(Fields& a, const SelfModDims& d) {
  Inputs x;
  const int64_t B = d.batch, T = d.seq, H = d.heads, D = d.d;
  x.x = a.array("x", {B, T, H, D}, kSeq, false, &x.dtype);
  x.q = a.array("q", {B, T, H, D}, kSeq, false, &x.dtype);
  x.xv = a.array("xv", {B, T, H, D}, kSeq, true, &x.dtype);
  static const char* names[] = {"w1", "w2", "s1", "s2", "a1", "a2"};
  states(a, d, names, false, x.st, &x.dtype);
  return x;
}

Napi::Value Forward(const Napi::CallbackInfo& info) {
  const char* op = "selfModForward";
  expect_args(info, op, 2);
  const SelfModDims d = read_self_mod_dims(info, op);
  Fields a(info, 0, op, "arrays");
  Inputs x = read_inputs(a, d);
  const int64_t B = d.batch, T = d.seq, H = d.heads, D = d.d;
  ArrayView o = a.array("o", {B, T, H, D}, kSeq, false, &x.dtype);
  ArrayView out[kSelfModStates];
  static const char* names[] = {"w1Out", "w2Out", "s1Out", "s2Out", "a1Out", "a2Out"};
  states(a, d, names, false, out, &x.dtype);
  const ArrayView ck = a.array("ckpt", {ckpt_size(info, op, d)}, "[ckpt elements]", true, &x.dtype);
  a.done();
  auto run = [&](auto tag) {
    using F = decltype(tag);
    const F* st[kSelfModStates];
    F* so[kSelfModStates];
    for (int s = 0; s < kSelfModStates; ++s) {
      st[s] = ptr<F>(x.st[s]);
      so[s] = mut<F>(out[s]);
    }
    self_mod_forward<F>(d, ptr<F>(x.x), ptr<F>(x.q), st, mut<F>(o), so, mut<F>(ck), ptr<F>(x.xv));
  };
  if (x.dtype == DType::F32) run(float{});
  else run(double{});
  return info.Env().Undefined();
}

Napi::Value Backward(const Napi::CallbackInfo& info) {
  const char* op = "selfModBackward";
  expect_args(info, op, 2);
  const SelfModDims d = read_self_mod_dims(info, op);
  Fields a(info, 0, op, "arrays");
  Inputs x = read_inputs(a, d);
  const int64_t B = d.batch, T = d.seq, H = d.heads, D = d.d;
  ArrayView d_o = a.array("dO", {B, T, H, D}, kSeq, false, &x.dtype);
  ArrayView gst[kSelfModStates], gin[kSelfModStates];
  static const char* gnames[] = {"dW1", "dW2", "dS1", "dS2", "dA1", "dA2"};
  static const char* inames[] = {"gW1", "gW2", "gS1", "gS2", "gA1", "gA2"};
  states(a, d, gnames, true, gst, &x.dtype);
  ArrayView dx = a.array("dx", {B, T, H, D}, kSeq, false, &x.dtype);
  ArrayView dq = a.array("dq", {B, T, H, D}, kSeq, false, &x.dtype);
  ArrayView dxv = a.array("dxv", {B, T, H, D}, kSeq, true, &x.dtype);
  if (given(info, "xv") != given(info, "dxv")) {  // dxv: required iff xv is given
    throw_type(info.Env(), op, given(info, "xv")
                                   ? "arrays.dxv is missing (required with arrays.xv: its gradient, [B, T, H, D])"
                                   : "arrays.dxv is given without arrays.xv (no value input to differentiate)");
  }
  states(a, d, inames, false, gin, &x.dtype);
  const ArrayView ck = a.array("ckpt", {ckpt_size(info, op, d)}, "[ckpt elements]", true, &x.dtype);
  a.done();
  auto run = [&](auto tag) {
    using F = decltype(tag);
    const F *st[kSelfModStates], *gs[kSelfModStates];
    F* gi[kSelfModStates];
    for (int s = 0; s < kSelfModStates; ++s) {
      st[s] = ptr<F>(x.st[s]);
      gs[s] = ptr<F>(gst[s]);
      gi[s] = mut<F>(gin[s]);
    }
    self_mod_backward<F>(d, ptr<F>(x.x), ptr<F>(x.q), st, ptr<F>(d_o), gs, mut<F>(dx), mut<F>(dq), gi, ptr<F>(ck),
                         ptr<F>(x.xv), mut<F>(dxv));
  };
  if (x.dtype == DType::F32) run(float{});
  else run(double{});
  return info.Env().Undefined();
}

}  // namespace

void register_memory_self_mod(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "selfModForward", Forward);
  export_fn(env, exports, "selfModBackward", Backward);
}

}  // namespace nl::binding

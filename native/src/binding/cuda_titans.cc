// CUDA entry points: the fused Titans MLP memory (memory.titansMlp), forward and backward
// (ops/titans.h); register_cuda_titans also registers the linear memory's (cuda_titans_linear.cc).
// Operands are contiguous, given as (device buffer, element offset) pairs; every
// buffer is a live buffer of one device and every operand's extent lies inside its buffer.
//   cudaTitansMlpForward(dt, dims, chunk, readAfter, ptrs, offs): dims = [B, T, H, D, Dh];
//     ptrs = [q, k, v, theta, eta, alpha, w1, w2, s1 | null, s2 | null, o, w1Out, w2Out, s1Out, s2Out]
//   cudaTitansMlpBackward(dt, dims, chunk, readAfter, ptrs, offs):
//     ptrs = [q, k, v, theta, eta, alpha, w1, w2, s1 | null, s2 | null, dO | null, dW1 | null,
//             dW2 | null, dS1 | null, dS2 | null, dq, dk, dv, dTheta, dEta, dAlpha, dW1_0, dW2_0, dS1_0, dS2_0]
#include <napi.h>

#include <string>
#include <vector>

#include "binding/cuda_args.h"
#include "binding/cuda_operands.h"
#include "binding/register.h"
#include "cuda/ops/table.h"

namespace nl::binding {
namespace {

// Extent kinds: token rows [B, T, H, D], gates [B, T, H], weights / momenta [B, H, D, Dh].
enum Ext { kQ, kG, kW };

cuda::TitansDims dims_arg(const Napi::CallbackInfo& info, size_t i, const std::string& op) {
  cuda::Shape s = shape_arg(info, i, op, "dims");
  if (s.rank != 5) throw_range(info.Env(), op, "dims must be [B, T, H, D, Dh]");
  cuda::TitansDims d{s.dim[0], s.dim[1], s.dim[2], s.dim[3], s.dim[4]};
  int64_t bh = 0, bth = 0, x = 0;
  if (__builtin_mul_overflow(d.B, d.H, &bh) || bh > 0x7fffffff || __builtin_mul_overflow(bh, d.T, &bth) ||
      __builtin_mul_overflow(bth, d.D, &x) || __builtin_mul_overflow(bh, d.D, &x) ||
      __builtin_mul_overflow(x, d.Dh, &x) || __builtin_mul_overflow(x, 8 * (d.T + 2), &x) ||
      __builtin_mul_overflow(bth, 5 * d.Dh + d.D + 4, &x))  // the backward's scratch
    throw_range(info.Env(), op, "dims too large");
  return d;
}

std::vector<int64_t> extents(const cuda::TitansDims& d, const std::vector<Ext>& ext) {  // products checked
  const int64_t bth = d.B * d.T * d.H;
  std::vector<int64_t> out;
  for (Ext e : ext) out.push_back(e == kQ ? bth * d.D : e == kG ? bth : d.B * d.H * d.D * d.Dh);
  return out;
}

std::string detail(const cuda::TitansDims& d, int64_t chunk, cuda::DT dt) {
  return "B=" + std::to_string(d.B) + " T=" + std::to_string(d.T) + " H=" + std::to_string(d.H) +
         " D=" + std::to_string(d.D) + " Dh=" + std::to_string(d.Dh) + " chunk=" + std::to_string(chunk) + " " +
         dt_name(dt);
}

// The ten inputs: q, k, v, theta, eta, alpha, w1, w2, s1 | null, s2 | null.
const std::vector<Ext> kInputs = {kQ, kQ, kQ, kG, kG, kG, kW, kW, kW, kW};
const std::vector<bool> kInputsOptional = {false, false, false, false, false, false, false, false, true, true};
// The five outputs: o, w1Out, w2Out, s1Out, s2Out (backward: their upstream gradients).
const std::vector<Ext> kOutputs = {kQ, kW, kW, kW, kW};

Napi::Value Forward(const Napi::CallbackInfo& info) {
  const std::string op = "cudaTitansMlpForward";
  cuda::TitansMlpFwdArgs g{};
  cuda_titans_head(info, op, g, dims_arg);
  const CudaSlots<Ext> slots = cuda_slots(kInputs, kInputsOptional, kOutputs, false);
  cuda::Runtime* rt = nullptr;
  auto p = cuda_operands(info, 4, op, g.dt, extents(g.d, slots.ext), slots.optional, rt);
  g.q = p[0], g.k = p[1], g.v = p[2], g.th = p[3], g.et = p[4], g.al = p[5];
  g.w1 = p[6], g.w2 = p[7], g.s1 = p[8], g.s2 = p[9];
  g.o = const_cast<void*>(p[10]), g.w1_out = const_cast<void*>(p[11]), g.w2_out = const_cast<void*>(p[12]);
  g.s1_out = const_cast<void*>(p[13]), g.s2_out = const_cast<void*>(p[14]);
  check_cuda(info.Env(), op, rt->ops().titans_mlp_fwd(rt, g), rt, detail(g.d, g.chunk, g.dt));
  return info.Env().Undefined();
}

Napi::Value Backward(const Napi::CallbackInfo& info) {
  const std::string op = "cudaTitansMlpBackward";
  cuda::TitansMlpBwdArgs g{};
  cuda_titans_head(info, op, g, dims_arg);
  const CudaSlots<Ext> slots = cuda_slots(kInputs, kInputsOptional, kOutputs, true);
  cuda::Runtime* rt = nullptr;
  auto p = cuda_operands(info, 4, op, g.dt, extents(g.d, slots.ext), slots.optional, rt);
  g.q = p[0], g.k = p[1], g.v = p[2], g.th = p[3], g.et = p[4], g.al = p[5];
  g.w1 = p[6], g.w2 = p[7], g.s1 = p[8], g.s2 = p[9];
  g.dO = p[10], g.gW1 = p[11], g.gW2 = p[12], g.gS1 = p[13], g.gS2 = p[14];
  void* out[10];
  for (int i = 0; i < 10; ++i) out[i] = const_cast<void*>(p[15 + i]);
  g.dq = out[0], g.dk = out[1], g.dv = out[2], g.dth = out[3], g.det = out[4], g.dal = out[5];
  g.dw1 = out[6], g.dw2 = out[7], g.ds1 = out[8], g.ds2 = out[9];
  check_cuda(info.Env(), op, rt->ops().titans_mlp_bwd(rt, g), rt, detail(g.d, g.chunk, g.dt));
  return info.Env().Undefined();
}

}  // namespace

void register_cuda_titans_linear(Napi::Env env, Napi::Object exports);  // cuda_titans_linear.cc

void register_cuda_titans(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaTitansMlpForward", Napi::Function::New(env, Forward, "cudaTitansMlpForward"));
  exports.Set("cudaTitansMlpBackward", Napi::Function::New(env, Backward, "cudaTitansMlpBackward"));
  register_cuda_titans_linear(env, exports);
}

}  // namespace nl::binding

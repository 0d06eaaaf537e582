// CUDA entry points: the fused Titans linear memory (memory.titansLinear), forward and backward
// (ops/titans_linear.h). Operands are contiguous, given as (device buffer, element offset) pairs;
// every buffer is a live buffer of one device and every operand's extent lies inside its buffer.
//   cudaTitansLinearForward(dt, dims, chunk, readAfter, ptrs, offs): dims = [B, T, H, Dk, Dv];
//     ptrs = [q, k, v, theta, eta, alpha, m0 | null, s0 | null, o, mOut, sOut]
//   cudaTitansLinearBackward(dt, dims, chunk, readAfter, ptrs, offs):
//     ptrs = [q, k, v, theta, eta, alpha, m0 | null, s0 | null, dO | null, dM | null, dS | null,
//             dq, dk, dv, dTheta, dEta, dAlpha, dM0, dS0]
#include <napi.h>

#include <string>
#include <vector>

#include "binding/cuda_args.h"
#include "binding/cuda_operands.h"
#include "binding/register.h"
#include "cuda/ops/table.h"

namespace nl::binding {
namespace {

// Extent kinds: q-like [B, T, H, Dk], v-like [B, T, H, Dv], gates [B, T, H], states [B, H, Dv, Dk].
enum Ext { kQ, kV, kG, kS };

cuda::TitansLinDims dims_arg(const Napi::CallbackInfo& info, size_t i, const std::string& op) {
  cuda::Shape s = shape_arg(info, i, op, "dims");
  if (s.rank != 5) throw_range(info.Env(), op, "dims must be [B, T, H, Dk, Dv]");
  cuda::TitansLinDims d{s.dim[0], s.dim[1], s.dim[2], s.dim[3], s.dim[4]};
  int64_t bh = 0, bth = 0, x = 0;
  if (__builtin_mul_overflow(d.B, d.H, &bh) || bh > 0x7fffffff || __builtin_mul_overflow(bh, d.T, &bth) ||
      __builtin_mul_overflow(bth, d.dk, &x) || __builtin_mul_overflow(bth, d.dv + 1, &x) ||
      __builtin_mul_overflow(bh, d.dk, &x) || __builtin_mul_overflow(x, d.dv, &x) ||
      __builtin_mul_overflow(x, 4 * (d.T + 2), &x))  // the backward's scratch
    throw_range(info.Env(), op, "dims too large");
  return d;
}

std::vector<int64_t> extents(const cuda::TitansLinDims& d, const std::vector<Ext>& ext) {  // products checked
  const int64_t bth = d.B * d.T * d.H;
  std::vector<int64_t> out;
  for (Ext e : ext) out.push_back(e == kQ ? bth * d.dk : e == kV ? bth * d.dv : e == kG ? bth : d.B * d.H * d.n());
  return out;
}

std::string detail(const cuda::TitansLinDims& d, int64_t chunk, cuda::DT dt) {
  return "B=" + std::to_string(d.B) + " T=" + std::to_string(d.T) + " H=" + std::to_string(d.H) +
         " Dk=" + std::to_string(d.dk) + " Dv=" + std::to_string(d.dv) + " chunk=" + std::to_string(chunk) + " " +
         dt_name(dt);
}

// The eight inputs: q, k, v, theta, eta, alpha, m0 | null, s0 | null.
const std::vector<Ext> kInputs = {kQ, kQ, kV, kG, kG, kG, kS, kS};
const std::vector<bool> kInputsOptional = {false, false, false, false, false, false, true, true};
// The three outputs: o, mOut, sOut (backward: their upstream gradients).
const std::vector<Ext> kOutputs = {kV, kS, kS};

Napi::Value Forward(const Napi::CallbackInfo& info) {
  const std::string op = "cudaTitansLinearForward";
  cuda::TitansLinFwdArgs g{};
  cuda_titans_head(info, op, g, dims_arg);
  const CudaSlots<Ext> slots = cuda_slots(kInputs, kInputsOptional, kOutputs, false);
  cuda::Runtime* rt = nullptr;
  auto p = cuda_operands(info, 4, op, g.dt, extents(g.d, slots.ext), slots.optional, rt);
  g.q = p[0], g.k = p[1], g.v = p[2], g.th = p[3], g.et = p[4], g.al = p[5], g.m0 = p[6], g.s0 = p[7];
  g.o = const_cast<void*>(p[8]), g.m_out = const_cast<void*>(p[9]), g.s_out = const_cast<void*>(p[10]);
  check_cuda(info.Env(), op, rt->ops().titans_linear_fwd(rt, g), rt, detail(g.d, g.chunk, g.dt));
  return info.Env().Undefined();
}

Napi::Value Backward(const Napi::CallbackInfo& info) {
  const std::string op = "cudaTitansLinearBackward";
  cuda::TitansLinBwdArgs g{};
  cuda_titans_head(info, op, g, dims_arg);
  const CudaSlots<Ext> slots = cuda_slots(kInputs, kInputsOptional, kOutputs, true);
  cuda::Runtime* rt = nullptr;
  auto p = cuda_operands(info, 4, op, g.dt, extents(g.d, slots.ext), slots.optional, rt);
  g.q = p[0], g.k = p[1], g.v = p[2], g.th = p[3], g.et = p[4], g.al = p[5], g.m0 = p[6], g.s0 = p[7];
  g.dO = p[8], g.gM = p[9], g.gS = p[10];
  void* out[8];
  for (int i = 0; i < 8; ++i) out[i] = const_cast<void*>(p[11 + i]);
  g.dq = out[0], g.dk = out[1], g.dv = out[2], g.dth = out[3], g.det = out[4], g.dal = out[5];
  g.dm0 = out[6], g.ds0 = out[7];
  check_cuda(info.Env(), op, rt->ops().titans_linear_bwd(rt, g), rt, detail(g.d, g.chunk, g.dt));
  return info.Env().Undefined();
}

}  // namespace

void register_cuda_titans_linear(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaTitansLinearForward", Napi::Function::New(env, Forward, "cudaTitansLinearForward"));
  exports.Set("cudaTitansLinearBackward", Napi::Function::New(env, Backward, "cudaTitansLinearBackward"));
}

}  // namespace nl::binding

// CUDA entry points: the fused gated delta rule (memory.gatedDeltaRule), forward and backward
// (ops/memory.h). Operands are contiguous, given as (device buffer, element offset) pairs; every
// buffer is a live buffer of one device and every operand's extent lies inside its buffer.
//   cudaDeltaRuleForward(dt, dims, erase, ptrs, offs): dims = [B, T, H, Dk, Dv];
//     ptrs = [q, k, v, alpha, beta, s0 | null, o, state]
//   cudaDeltaRuleBackward(dt, dims, erase, chunk, ptrs, offs):
//     ptrs = [q, k, v, alpha, beta, s0 | null, dO | null, gS | null, dq, dk, dv, dAlpha, dBeta, dS0]
#include <napi.h>

#include <string>
#include <vector>

#include "binding/cuda_args.h"
#include "binding/cuda_operands.h"
#include "binding/register.h"
#include "cuda/ops/table.h"

namespace nl::binding {
namespace {

// Extent kinds of the operands: q-like [B,T,H,Dk], v-like [B,T,H,Dv], gate [B,T,H], state [B,H,Dk,Dv].
enum Ext { kQ, kV, kG, kS };

cuda::DeltaDims dims_arg(const Napi::CallbackInfo& info, size_t i, const std::string& op) {
  cuda::Shape s = shape_arg(info, i, op, "dims");
  if (s.rank != 5) throw_range(info.Env(), op, "dims must be [B, T, H, Dk, Dv]");
  cuda::DeltaDims d{s.dim[0], s.dim[1], s.dim[2], s.dim[3], s.dim[4]};
  int64_t bh = 0, bth = 0, x = 0;
  if (__builtin_mul_overflow(d.B, d.H, &bh) || bh > 0x7fffffff || __builtin_mul_overflow(bh, d.T, &bth) ||
      __builtin_mul_overflow(bth, d.dk, &x) || __builtin_mul_overflow(bth, d.dv, &x) ||
      __builtin_mul_overflow(bh, d.dk, &x) || __builtin_mul_overflow(x, d.dv, &x))
    throw_range(info.Env(), op, "dims too large");
  return d;
}

// Each slot's element count (dims_arg checked the products).
std::vector<int64_t> extents(const cuda::DeltaDims& d, const std::vector<Ext>& ext) {
  const int64_t bth = d.B * d.T * d.H;
  std::vector<int64_t> out;
  for (Ext e : ext)
    out.push_back(e == kQ ? bth * d.dk : e == kV ? bth * d.dv : e == kG ? bth : d.B * d.H * d.dk * d.dv);
  return out;
}

// The six inputs: q, k, v, alpha, beta, s0 | null; the two outputs: o, state.
const std::vector<Ext> kInputs = {kQ, kQ, kV, kG, kG, kS};
const std::vector<bool> kInputsOptional = {false, false, false, false, false, true};
const std::vector<Ext> kOutputs = {kV, kS};

std::string detail(const cuda::DeltaDims& d, cuda::DT dt) {
  return "B=" + std::to_string(d.B) + " T=" + std::to_string(d.T) + " H=" + std::to_string(d.H) +
         " Dk=" + std::to_string(d.dk) + " Dv=" + std::to_string(d.dv) + " " + dt_name(dt);
}

Napi::Value Forward(const Napi::CallbackInfo& info) {
  const std::string op = "cudaDeltaRuleForward";
  expect_args(info, op, 5);
  cuda::DeltaRuleFwdArgs g{};
  g.dt = float_dt_arg(info, 0, op);
  g.d = dims_arg(info, 1, op);
  g.erase = info[2].ToBoolean();
  cuda::Runtime* rt = nullptr;
  const CudaSlots<Ext> slots = cuda_slots(kInputs, kInputsOptional, kOutputs, false);
  auto p = cuda_operands(info, 3, op, g.dt, extents(g.d, slots.ext), slots.optional, rt);
  g.q = p[0], g.k = p[1], g.v = p[2], g.al = p[3], g.be = p[4], g.s0 = p[5];
  g.o = const_cast<void*>(p[6]), g.state = const_cast<void*>(p[7]);
  check_cuda(info.Env(), op, rt->ops().delta_rule_fwd(rt, g), rt, detail(g.d, g.dt));
  return info.Env().Undefined();
}

Napi::Value Backward(const Napi::CallbackInfo& info) {
  const std::string op = "cudaDeltaRuleBackward";
  expect_args(info, op, 6);
  cuda::DeltaRuleBwdArgs g{};
  g.dt = float_dt_arg(info, 0, op);
  g.d = dims_arg(info, 1, op);
  g.erase = info[2].ToBoolean();
  g.chunk = cuda_chunk_arg(info, 3, op);
  cuda::Runtime* rt = nullptr;
  const CudaSlots<Ext> slots = cuda_slots(kInputs, kInputsOptional, kOutputs, true);
  auto p = cuda_operands(info, 4, op, g.dt, extents(g.d, slots.ext), slots.optional, rt);
  g.q = p[0], g.k = p[1], g.v = p[2], g.al = p[3], g.be = p[4], g.s0 = p[5], g.dO = p[6], g.gS = p[7];
  g.dq = const_cast<void*>(p[8]), g.dk = const_cast<void*>(p[9]), g.dv = const_cast<void*>(p[10]);
  g.dal = const_cast<void*>(p[11]), g.dbe = const_cast<void*>(p[12]), g.ds0 = const_cast<void*>(p[13]);
  check_cuda(info.Env(), op, rt->ops().delta_rule_bwd(rt, g), rt, detail(g.d, g.dt));
  return info.Env().Undefined();
}

}  // namespace

void register_cuda_memory(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaDeltaRuleForward", Napi::Function::New(env, Forward, "cudaDeltaRuleForward"));
  exports.Set("cudaDeltaRuleBackward", Napi::Function::New(env, Backward, "cudaDeltaRuleBackward"));
}

}  // namespace nl::binding

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

int64_t extent(const cuda::DeltaDims& d, Ext e) {  // dims_arg checked the products
  const int64_t bth = d.B * d.T * d.H;
  return e == kQ ? bth * d.dk : e == kV ? bth * d.dv : e == kG ? bth : d.B * d.H * d.dk * d.dv;
}

// Checks the operands against their slots; `optional` marks those that may be null (absent).
std::vector<const void*> operands(const Napi::CallbackInfo& info, size_t pi, const std::string& op, cuda::DT dt,
                                  const cuda::DeltaDims& d, const std::vector<Ext>& ext,
                                  const std::vector<bool>& optional, cuda::Runtime*& rt) {
  Napi::Env env = info.Env();
  if (!info[pi].IsArray() || !info[pi + 1].IsArray()) throw_type(env, op, "ptrs and offs must be arrays");
  Napi::Array ptrs = info[pi].As<Napi::Array>(), offs = info[pi + 1].As<Napi::Array>();
  if (ptrs.Length() != ext.size() || offs.Length() != ext.size())
    throw_range(env, op, "takes " + std::to_string(ext.size()) + " operands");
  std::vector<const void*> out(ext.size(), nullptr);
  for (uint32_t i = 0; i < ext.size(); ++i) {
    const std::string name = "operand " + std::to_string(i);
    Napi::Value p = ptrs[i], o = offs[i];
    if (p.IsNull() || p.IsUndefined()) {
      if (!optional[i]) throw_type(env, op, name + " is required");
      continue;
    }
    DevBuf b = dev_buffer_value(env, p, op, name);
    if (!o.IsNumber() || !is_count(o.As<Napi::Number>().DoubleValue()))
      throw_range(env, op, name + " offset must be a non-negative integer");
    if (rt != nullptr && b.rt != rt) throw_range(env, op, "operands are on different CUDA devices");
    rt = b.rt;
    out[i] = span_at(env, op, name, b, dt, int64_t(o.As<Napi::Number>().DoubleValue()), extent(d, ext[i]));
  }
  return out;
}

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
  auto p = operands(info, 3, op, g.dt, g.d, {kQ, kQ, kV, kG, kG, kS, kV, kS},
                    {false, false, false, false, false, true, false, false}, rt);
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
  g.chunk = count(info, 3, op, "chunk");
  if (g.chunk == 0) throw_range(info.Env(), op, "chunk must be positive");
  cuda::Runtime* rt = nullptr;
  auto p = operands(info, 4, op, g.dt, g.d, {kQ, kQ, kV, kG, kG, kS, kV, kS, kQ, kQ, kV, kG, kG, kS},
                    {false, false, false, false, false, true, true, true, false, false, false, false, false, false},
                    rt);
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

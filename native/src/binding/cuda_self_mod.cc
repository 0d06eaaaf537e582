// CUDA entry points: the fused SelfModifyingTitans memory (memory.selfModifyingTitans), forward and
// backward (ops/self_mod.h). Operands are contiguous, given as (device buffer, element offset)
// pairs; every buffer is a live buffer of one device and every operand's extent lies inside it.
// dims: the SelfModDims object of the CPU entry points (native/lib/memory.ts; block 0 = automatic).
//   cudaSelfModForward(dt, dims, ptrs, offs):
//     ptrs = [x, q, w1, w2, s1, s2, a1, a2, o, w1Out, w2Out, s1Out, s2Out, a1Out, a2Out]
//   cudaSelfModBackward(dt, dims, ptrs, offs):
//     ptrs = [x, q, w1, w2, s1, s2, a1, a2, dO | null, dW1 | null, ..., dA2 | null (final-state
//             gradients), dx, dq, gW1, gW2, gS1, gS2, gA1, gA2 (initial-state gradients)]
// x, q, o, dO, dx, dq [B, T, H, D]; w1, s1, a1 [B, M, H, D, Dh]; w2, s2, a2 [B, M, H, Dh, D].
#include <napi.h>

#include <string>
#include <vector>

#include "binding/cuda_args.h"
#include "binding/memory_common.h"
#include "binding/register.h"
#include "cpu/self_mod.h"
#include "cuda/ops/table.h"

namespace nl::binding {
namespace {

struct Dims {
  cuda::SelfModCudaDims d;
  int64_t block = 0, seq = 0, state = 0;  // block: backward recompute block; extents of [B,T,H,D], states
};

Dims read_dims(const Napi::CallbackInfo& info, const char* op) {
  memory::Fields f(info, 1, op, "dims");
  Dims r;
  cuda::SelfModCudaDims& d = r.d;
  d.B = f.integer("batch", 1);
  d.T = f.integer("seqLen", 0);
  d.H = f.integer("heads", 1);
  d.D = f.integer("d", 1);
  d.Dh = f.integer("hidden", 1);
  d.M = f.integer("mems", 1);
  d.tokens = f.integer("tokens", 0);
  d.chunk_mem = f.integer("chunkMem", 1);
  d.chunk_other = f.integer("chunkOther", 1);
  r.block = f.integer("block", 0, 0);
  d.momentum = f.finite("momentum");
  d.alpha_bias = f.finite("alphaBias");
  d.eta_bias = f.finite("etaBias");
  d.adaptive_q = f.flag("adaptiveQ");
  d.read_snapshot = f.flag("readSnapshot");
  f.done();
  if (d.M != (d.adaptive_q ? 6 : 5))
    throw_range(info.Env(), op, "dims.mems must be 5 (k, v, eta, alpha, mem), or 6 with adaptiveQ (+ q), got " +
                                    std::to_string(d.M));
  if (r.block == 0) r.block = self_mod_auto_block(d.T);
  Napi::Env env = info.Env();
  if (checked_product(env, op, "B * H", {d.B, d.H}) > 0x7fffffff) throw_range(env, op, "B * H too large");
  r.seq = checked_product(env, op, "elements B * T * H * D", {d.B, d.T, d.H, d.D});
  r.state = checked_product(env, op, "state elements B * M * H * D * Dh", {d.B, d.M, d.H, d.D, d.Dh});
  const int64_t nb = d.T == 0 ? 1 : (d.T - 1) / r.block + 1;
  checked_product(env, op, "boundary elements B * H * ceil(T / block) * 6 * M * D * Dh",
                  {d.B, d.H, nb, 6, d.M, d.D, d.Dh});
  checked_product(env, op, "slot elements B * H * (block + 1) * 2 * M * D * Dh",
                  {d.B, d.H, r.block + 1, 2, d.M, d.D, d.Dh});
  return r;
}

// Checks the operands (extents `ext`, `optional` may be null); their first addresses.
std::vector<const void*> operands(const Napi::CallbackInfo& info, const std::string& op, cuda::DT dt,
                                  const std::vector<int64_t>& ext, const std::vector<bool>& optional,
                                  cuda::Runtime*& rt) {
  Napi::Env env = info.Env();
  if (!info[2].IsArray() || !info[3].IsArray()) throw_type(env, op, "ptrs and offs must be arrays");
  Napi::Array ptrs = info[2].As<Napi::Array>(), offs = info[3].As<Napi::Array>();
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
    out[i] = span_at(env, op, name, b, dt, int64_t(o.As<Napi::Number>().DoubleValue()), ext[i]);
  }
  return out;
}

std::string detail(const cuda::SelfModCudaDims& d, cuda::DT dt) {
  return "B=" + std::to_string(d.B) + " T=" + std::to_string(d.T) + " H=" + std::to_string(d.H) +
         " D=" + std::to_string(d.D) + " Dh=" + std::to_string(d.Dh) + " M=" + std::to_string(d.M) + " " + dt_name(dt);
}

Napi::Value Forward(const Napi::CallbackInfo& info) {
  const std::string op = "cudaSelfModForward";
  expect_args(info, op, 4);
  cuda::SelfModFwdArgs g{};
  g.dt = float_dt_arg(info, 0, op);
  const Dims r = read_dims(info, op.c_str());
  g.d = r.d;
  std::vector<int64_t> ext(15, r.state);
  ext[0] = ext[1] = ext[8] = r.seq;
  cuda::Runtime* rt = nullptr;
  auto p = operands(info, op, g.dt, ext, std::vector<bool>(15, false), rt);
  g.x = p[0], g.q = p[1], g.o = const_cast<void*>(p[8]);
  for (int s = 0; s < 6; ++s) g.st[s] = p[2 + s], g.out[s] = const_cast<void*>(p[9 + s]);
  check_cuda(info.Env(), op, rt->ops().self_mod_fwd(rt, g), rt, detail(g.d, g.dt));
  return info.Env().Undefined();
}

Napi::Value Backward(const Napi::CallbackInfo& info) {
  const std::string op = "cudaSelfModBackward";
  expect_args(info, op, 4);
  cuda::SelfModBwdArgs g{};
  g.dt = float_dt_arg(info, 0, op);
  const Dims r = read_dims(info, op.c_str());
  g.d = r.d;
  g.block = r.block;
  std::vector<int64_t> ext(23, r.state);
  ext[0] = ext[1] = ext[8] = ext[15] = ext[16] = r.seq;
  std::vector<bool> optional(23, false);
  for (int i = 8; i < 15; ++i) optional[i] = true;
  cuda::Runtime* rt = nullptr;
  auto p = operands(info, op, g.dt, ext, optional, rt);
  g.x = p[0], g.q = p[1], g.dO = p[8], g.dx = const_cast<void*>(p[15]), g.dq = const_cast<void*>(p[16]);
  for (int s = 0; s < 6; ++s) g.st[s] = p[2 + s], g.gst[s] = p[9 + s], g.dst[s] = const_cast<void*>(p[17 + s]);
  check_cuda(info.Env(), op, rt->ops().self_mod_bwd(rt, g), rt, detail(g.d, g.dt));
  return info.Env().Undefined();
}

}  // namespace

void register_cuda_self_mod(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaSelfModForward", Napi::Function::New(env, Forward, "cudaSelfModForward"));
  exports.Set("cudaSelfModBackward", Napi::Function::New(env, Backward, "cudaSelfModBackward"));
}

}  // namespace nl::binding

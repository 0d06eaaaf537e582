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
#include "binding/cuda_operands.h"
#include "binding/memory_common.h"
#include "binding/register.h"
#include "binding/self_mod_dims.h"
#include "cuda/ops/table.h"

namespace nl::binding {
namespace {

struct Dims {
  cuda::SelfModCudaDims d;
  int64_t block = 0, seq = 0, state = 0;  // block: backward recompute block; extents of [B,T,H,D], states
};

Dims read_dims(const Napi::CallbackInfo& info, const char* op) {
  const SelfModDims s = read_self_mod_dims(info, op);
  Dims r;
  cuda::SelfModCudaDims& d = r.d;
  d.B = s.batch, d.T = s.seq, d.H = s.heads, d.D = s.d, d.Dh = s.hidden, d.M = s.mems;
  d.tokens = s.tokens, d.chunk_mem = s.chunk_mem, d.chunk_other = s.chunk_other;
  d.momentum = s.momentum, d.alpha_bias = s.alpha_bias, d.eta_bias = s.eta_bias;
  d.adaptive_q = s.adaptive_q, d.read_snapshot = s.read_snapshot, d.dual = s.dual, d.clip = s.clip;
  r.block = s.block;
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

// Inputs x, q [B,T,H,D] and the six states; outputs o and the six states (no input optional).
CudaSlots<int64_t> slots_of(const Dims& r, bool backward) {
  const std::vector<int64_t> inputs = {r.seq, r.seq, r.state, r.state, r.state, r.state, r.state, r.state};
  const std::vector<int64_t> outputs = {r.seq, r.state, r.state, r.state, r.state, r.state, r.state};
  return cuda_slots(inputs, std::vector<bool>(inputs.size(), false), outputs, backward);
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
  g.block = r.block;
  const CudaSlots<int64_t> slots = slots_of(r, false);
  cuda::Runtime* rt = nullptr;
  auto p = cuda_operands(info, 2, op, g.dt, slots.ext, slots.optional, rt);
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
  const CudaSlots<int64_t> slots = slots_of(r, true);
  cuda::Runtime* rt = nullptr;
  auto p = cuda_operands(info, 2, op, g.dt, slots.ext, slots.optional, rt);
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

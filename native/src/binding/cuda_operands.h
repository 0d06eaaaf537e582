// Operand lists of the CUDA memory entry points: `ptrs` and `offs` arrays of (device buffer,
// element offset) pairs, each checked against its slot's element count before any launch.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "binding/cuda_args.h"

namespace nl::binding {

// Checks the operands against their slots; `optional` marks those that may be null (absent).
// `ext`: each operand's element count.
inline std::vector<const void*> cuda_operands(const Napi::CallbackInfo& info, size_t pi, const std::string& op,
                                              cuda::DT dt, const std::vector<int64_t>& ext,
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
    out[i] = span_at(env, op, name, b, dt, int64_t(o.As<Napi::Number>().DoubleValue()), ext[i]);
  }
  return out;
}

// A positive `chunk` argument.
inline int64_t cuda_chunk_arg(const Napi::CallbackInfo& info, size_t i, const std::string& op) {
  const int64_t c = count(info, i, op, "chunk");
  if (c == 0) throw_range(info.Env(), op, "chunk must be positive");
  return c;
}

// The four leading arguments of the Titans entry points, (dt, dims, chunk, readAfterWrite, ptrs,
// offs), into `g` (fields dt, d, chunk, read_after); `dims_arg` reads and checks the dims.
template <class Args, class DimsArg>
void cuda_titans_head(const Napi::CallbackInfo& info, const std::string& op, Args& g, DimsArg dims_arg) {
  expect_args(info, op, 6);
  g.dt = float_dt_arg(info, 0, op);
  g.d = dims_arg(info, 1, op);
  g.chunk = cuda_chunk_arg(info, 2, op);
  g.read_after = info[3].ToBoolean();
}

// The slots of a fused memory entry point, in order: its inputs (`optional` marks those that may be
// null); then, forward, its outputs (all required), or, backward, the upstream gradients of those
// outputs (all optional) and a gradient per input (all required). E: an extent kind or count.
template <class E>
struct CudaSlots {
  std::vector<E> ext;
  std::vector<bool> optional;
};

template <class E>
CudaSlots<E> cuda_slots(const std::vector<E>& inputs, const std::vector<bool>& optional, const std::vector<E>& outputs,
                        bool backward) {
  CudaSlots<E> s{inputs, optional};
  s.ext.insert(s.ext.end(), outputs.begin(), outputs.end());
  s.optional.insert(s.optional.end(), outputs.size(), backward);
  if (backward) {
    s.ext.insert(s.ext.end(), inputs.begin(), inputs.end());
    s.optional.insert(s.optional.end(), inputs.size(), false);
  }
  return s;
}

}  // namespace nl::binding

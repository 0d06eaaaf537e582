// Argument checking for the CUDA entry points (cudaXxx): device buffers arrive from JS as the
// numbers of their base addresses; every one is looked up in the runtime's buffer table (unknown
// or freed pointers throw) and every operand's furthest element is checked against its buffer's
// size before a kernel is queued, so no launch reads or writes outside a buffer.
#pragma once
#include <napi.h>

#include "binding/args.h"
#include "cuda/kernels/strided.h"
#include "cuda/runtime.h"

namespace nl::binding {

struct DevBuf {
  void* ptr = nullptr;
  size_t bytes = 0;
  cuda::Runtime* rt = nullptr;
};

inline size_t dt_size(cuda::DT d) { return d == cuda::DT::F64 ? 8 : 4; }
inline const char* dt_name(cuda::DT d) {
  return d == cuda::DT::F32 ? "float32" : d == cuda::DT::F64 ? "float64" : "int32";
}

// A device buffer given as a JS value (an element of an operand array, a field): its address
// looked up in the buffer table.
inline DevBuf dev_buffer_value(Napi::Env env, const Napi::Value& v, const std::string& op, const std::string& name) {
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!is_count(d) || d == 0) throw_type(env, op, name + " is not a device buffer");
  DevBuf b;
  b.ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(d));
  if (!cuda::find_buffer(b.ptr, &b.rt, &b.bytes))
    throw_range(env, op, name + " is not a live CUDA buffer (freed, or not from cudaAlloc)");
  return b;
}

inline DevBuf dev_buffer(const Napi::CallbackInfo& info, size_t i, const std::string& op, const char* name) {
  number(info, i, op, name);  // "must be a number" for other types
  return dev_buffer_value(info.Env(), info[i], op, name);
}

inline cuda::DT dt_arg(const Napi::CallbackInfo& info, size_t i, const std::string& op, const char* name) {
  int64_t c = count(info, i, op, name);
  if (c > 2) throw_range(info.Env(), op, std::string(name) + ": unknown dtype code " + std::to_string(c));
  return static_cast<cuda::DT>(c);
}

// A dtype code that must be float32 or float64.
inline cuda::DT float_dt_arg(const Napi::CallbackInfo& info, size_t i, const std::string& op) {
  cuda::DT dt = dt_arg(info, i, op, "dtype");
  if (dt == cuda::DT::I32) throw_type(info.Env(), op, "dtype must be float32 or float64");
  return dt;
}

inline cuda::Shape shape_arg(const Napi::CallbackInfo& info, size_t i, const std::string& op, const char* name) {
  if (!info[i].IsArray()) throw_type(info.Env(), op, std::string(name) + " must be an array");
  Napi::Array a = info[i].As<Napi::Array>();
  if (a.Length() > uint32_t(cuda::kMaxRank))
    throw_range(info.Env(), op, std::string(name) + " has " + std::to_string(a.Length()) + " dims (at most 8)");
  cuda::Shape s;
  s.rank = int(a.Length());
  int64_t n = 1;
  for (uint32_t d = 0; d < a.Length(); ++d) {
    Napi::Value v = a[d];
    if (!v.IsNumber() || !is_count(v.As<Napi::Number>().DoubleValue()))
      throw_range(info.Env(), op, std::string(name) + "[" + std::to_string(d) + "] must be a non-negative integer");
    s.dim[d] = int64_t(v.As<Napi::Number>().DoubleValue());
    if (s.dim[d] != 0 && __builtin_mul_overflow(n, s.dim[d], &n))
      throw_range(info.Env(), op, std::string(name) + ": element count overflows");
  }
  return s;
}

// Strides (integers, may be 0; negative strides are refused) of an operand over `shape`.
inline cuda::Strides strides_arg(const Napi::CallbackInfo& info, size_t i, const std::string& op, const char* name,
                                 const cuda::Shape& shape, int64_t offset) {
  if (!info[i].IsArray()) throw_type(info.Env(), op, std::string(name) + " strides must be an array");
  Napi::Array a = info[i].As<Napi::Array>();
  if (int(a.Length()) != shape.rank)
    throw_range(info.Env(), op, std::string(name) + " has " + std::to_string(a.Length()) + " strides for " +
                                    std::to_string(shape.rank) + " dims");
  cuda::Strides s;
  s.offset = offset;
  for (int d = 0; d < shape.rank; ++d) {
    Napi::Value v = a[uint32_t(d)];
    if (!v.IsNumber() || !is_count(v.As<Napi::Number>().DoubleValue()))
      throw_range(info.Env(), op, std::string(name) + " strides must be non-negative integers");
    s.s[d] = int64_t(v.As<Napi::Number>().DoubleValue());
  }
  return s;
}

// Elements [first, last] an operand touches must lie inside its buffer.
inline void check_span(Napi::Env env, const std::string& op, const char* name, const DevBuf& b, cuda::DT dt,
                       int64_t offset, int64_t last_index) {
  const int64_t cap = int64_t(b.bytes / dt_size(dt));
  if (offset < 0 || last_index >= cap)
    throw_range(env, op, std::string(name) + " reaches element " + std::to_string(last_index) + " of a buffer of " +
                             std::to_string(cap) + " " + dt_name(dt) + " elements");
}

// `n` elements of dtype dt from element `off` of buffer b, checked; their first address.
inline void* span_at(Napi::Env env, const std::string& op, const std::string& name, const DevBuf& b, cuda::DT dt,
                     int64_t off, int64_t n) {
  if (n == 0) return b.ptr;
  int64_t last = 0;
  if (__builtin_add_overflow(off, n - 1, &last)) throw_range(env, op, name + ": extent overflows");
  check_span(env, op, name.c_str(), b, dt, off, last);
  return static_cast<char*>(b.ptr) + off * int64_t(dt_size(dt));
}

inline void check_strided(Napi::Env env, const std::string& op, const char* name, const DevBuf& b, cuda::DT dt,
                          const cuda::Shape& shape, const cuda::Strides& s) {
  if (shape.numel() == 0) return;
  int64_t last = s.offset;
  for (int d = 0; d < shape.rank; ++d) {
    int64_t step = 0;
    if (__builtin_mul_overflow(shape.dim[d] - 1, s.s[d], &step) || __builtin_add_overflow(last, step, &last))
      throw_range(env, op, std::string(name) + ": strided extent overflows");
  }
  check_span(env, op, name, b, dt, s.offset, last);
}

inline void same_device(Napi::Env env, const std::string& op, std::initializer_list<const DevBuf*> bufs) {
  const cuda::Runtime* rt = (*bufs.begin())->rt;
  for (const DevBuf* b : bufs)
    if (b->rt != rt) throw_range(env, op, "operands are on different CUDA devices");
}

// "[2, 3, 4]" for error messages.
inline std::string shape_text(const cuda::Shape& s) {
  std::string t = "[";
  for (int d = 0; d < s.rank; ++d) t += (d ? ", " : "") + std::to_string(s.dim[d]);
  return t + "]";
}

// Throws "nl.<op>: <err> (<detail>) [cuda:N]" when a runtime call failed; `detail` names the
// shapes / dtypes of the call so a device error says which launch it came from.
inline void check_cuda(Napi::Env env, const std::string& op, const std::string& err, const cuda::Runtime* rt,
                       const std::string& detail = "") {
  if (!err.empty())
    throw Napi::Error::New(env, "nl." + op + ": " + err + (detail.empty() ? "" : " (" + detail + ")") +
                                    (rt ? " [" + std::string(rt->emulated() ? "emulated" : "cuda:" + std::to_string(rt->device())) + "]" : ""));
}

}  // namespace nl::binding

// Argument checks shared by the @nl/memory kernel bindings (memory_*.cc): sequence dims, arrays
// of an expected [dims] size and one shared dtype, optional arrays (null/undefined), finite gates.
// Errors read "nl.<op>: <argument> ..." and name the expected shape. No maths here.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "binding/args.h"

namespace nl::binding::memory {

inline std::string dims_text(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// Typed array argument i, or a null view when optional and null/undefined.
inline ArrayView float_array(const Napi::CallbackInfo& info, size_t i, const std::string& op, const char* name,
                             const std::vector<int64_t>& dims, bool optional, DType* dtype) {
  if (optional && (info[i].IsNull() || info[i].IsUndefined())) return ArrayView{};
  ArrayView a = typed_array(info, i, op, name);
  if (a.dtype != DType::F32 && a.dtype != DType::F64) {
    throw_type(info.Env(), op, std::string(name) + " must be a Float32Array or Float64Array");
  }
  if (*dtype == DType::Other) {
    *dtype = a.dtype;
  } else if (a.dtype != *dtype) {
    throw_type(info.Env(), op, std::string(name) + " is a " + dtype_name(a.dtype) + " but earlier arrays are " +
                                   dtype_name(*dtype) + "; all arrays must share a dtype");
  }
  int64_t n = 1;
  for (int64_t x : dims) n *= x;
  if (a.length != n) {
    throw_range(info.Env(), op, std::string(name) + " must have " + std::to_string(n) + " elements for shape " +
                                    dims_text(dims) + ", got " + std::to_string(a.length));
  }
  return a;
}

// Throws at the first non-finite gate, naming its [b, t, h] index.
inline void check_finite(Napi::Env env, const std::string& op, const char* name, const ArrayView& a, int64_t T,
                         int64_t H) {
  for (int64_t i = 0; i < a.length; ++i) {
    const double x = a.dtype == DType::F32 ? static_cast<double>(a.as<float>()[i]) : a.as<double>()[i];
    if (!std::isfinite(x)) {
      throw_range(env, op, std::string(name) + "[" + std::to_string(i / (T * H)) + ", " + std::to_string((i / H) % T) +
                               ", " + std::to_string(i % H) + "] is not finite (" + std::to_string(x) + ")");
    }
  }
}

struct SeqArgs {
  int64_t batch, seq, heads, dk, dv, chunk;
};

// Reads B, T, H, Dk, Dv, chunk from arguments first..first+5: B, H, Dk, Dv, chunk >= 1, T >= 0.
inline SeqArgs seq_args(const Napi::CallbackInfo& info, size_t first, const std::string& op) {
  SeqArgs s;
  s.batch = count(info, first, op, "batch");
  s.seq = count(info, first + 1, op, "seqLen");
  s.heads = count(info, first + 2, op, "heads");
  s.dk = count(info, first + 3, op, "dk");
  s.dv = count(info, first + 4, op, "dv");
  s.chunk = count(info, first + 5, op, "chunkSize");
  if (s.batch < 1 || s.heads < 1 || s.dk < 1 || s.dv < 1) {
    throw_range(info.Env(), op, "batch, heads, dk and dv must be >= 1, got " +
                                    dims_text({s.batch, s.heads, s.dk, s.dv}));
  }
  if (s.chunk < 1) throw_range(info.Env(), op, "chunkSize must be >= 1, got " + std::to_string(s.chunk));
  return s;
}

template <typename F>
inline const F* ptr(const ArrayView& a) {
  return static_cast<const F*>(a.data);
}
template <typename F>
inline F* mut(const ArrayView& a) {
  return static_cast<F*>(a.data);
}

}  // namespace nl::binding::memory

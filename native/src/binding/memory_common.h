// Argument reading shared by the @nl/memory kernel bindings (memory_*.cc). Each entry point takes
// two structs, `arrays` (named typed arrays of an expected [dims] size and one shared dtype;
// optional ones may be absent or null) and `dims` (sizes and options), read by `Fields`; gates
// are checked finite. Errors read "nl.<op>: <struct>.<field> ..." and name the expected shape.
// No maths here.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "binding/args.h"

namespace nl::binding::memory {

inline std::string dims_text(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
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

// Reads the fields of one struct argument (a plain JS object) of an entry point: `arrays` (typed
// arrays by name) or `dims` (sizes and options). Every error names the op, the struct and the
// field: "nl.titansMlpBackward: dims.hidden is missing (expected an integer >= 1)",
// "nl.selfModForward: arrays.w1 must have 40 elements for [B, M, H, D, Dh] = [1, 5, 2, 2, 2], got 8".
// `done()` rejects fields the op does not read (a misspelt optional field would otherwise be
// silently ignored).
class Fields {
 public:
  Fields(const Napi::CallbackInfo& info, size_t i, const char* op, const char* role)
      : env_(info.Env()), op_(op), role_(role) {
    if (info.Length() <= i || !info[i].IsObject() || info[i].IsArray() || info[i].IsTypedArray()) {
      throw_type(env_, op_, "argument " + std::to_string(i + 1) + " (" + role_ + ") must be an object of named fields");
    }
    obj_ = info[i].As<Napi::Object>();
  }

  // A Float32Array / Float64Array field of prod(dims) elements sharing *dtype; a null view when
  // `optional` and the field is absent, undefined or null.
  ArrayView array(const char* name, const std::vector<int64_t>& dims, const char* labels, bool optional,
                  DType* dtype) {
    Napi::Value v = get(name);
    if (v.IsUndefined() || v.IsNull()) {
      if (optional) return ArrayView{};
      fail_type(name, "is missing (expected a Float32Array or Float64Array of " + shape_text(dims, labels) + ")");
    }
    if (!v.IsTypedArray()) fail_type(name, "must be a Float32Array or Float64Array, got " + kind(v));
    Napi::TypedArray ta = v.As<Napi::TypedArray>();
    ArrayView a;
    switch (ta.TypedArrayType()) {
      case napi_float32_array: a.dtype = DType::F32; break;
      case napi_float64_array: a.dtype = DType::F64; break;
      default: fail_type(name, "must be a Float32Array or Float64Array, got another typed array");
    }
    if (*dtype == DType::Other) {
      *dtype = a.dtype;
    } else if (a.dtype != *dtype) {
      fail_type(name, std::string("is a ") + dtype_name(a.dtype) + " but earlier arrays are " + dtype_name(*dtype) +
                          "; all arrays must share a dtype");
    }
    a.length = static_cast<int64_t>(ta.ElementLength());
    a.data = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    // Overflow-checked (T = 2^52 with H = 4096 used to wrap to 0 and match an empty array); the
    // product of the non-zero dims must fit too, as the kernels multiply subsets of them.
    int64_t n = 1;
    bool zero = false;
    for (int64_t x : dims) {
      if (x == 0) {
        zero = true;
      } else if (__builtin_mul_overflow(n, x, &n)) {
        throw_range(env_, op_, field(name) + ": " + shape_text(dims, labels) + " has more elements than fit in 64-bit integers");
      }
    }
    if (zero) n = 0;
    if (a.length != n) {
      throw_range(env_, op_, field(name) + " must have " + std::to_string(n) + " elements for " +
                                 shape_text(dims, labels) + ", got " + std::to_string(a.length));
    }
    return a;
  }

  // An integer >= min (exact in a double); `dflt` when absent and dflt >= 0.
  int64_t integer(const char* name, int64_t min, int64_t dflt = -1) {
    Napi::Value v = get(name);
    const std::string want = "an integer >= " + std::to_string(min);
    if (v.IsUndefined() && dflt >= 0) return dflt;
    if (v.IsUndefined() || v.IsNull()) fail_type(name, "is missing (expected " + want + ")");
    if (!v.IsNumber()) fail_type(name, "must be " + want + ", got " + kind(v));
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= static_cast<double>(min)) || !is_count(d)) {
      throw_range(env_, op_, field(name) + " must be " + want + ", got " + number_text(d));
    }
    return static_cast<int64_t>(d);
  }

  // A finite number.
  double finite(const char* name) { return finite_value(name, get(name)); }

  // A finite number >= 0; `dflt` when absent.
  double nonnegative(const char* name, double dflt) {
    Napi::Value v = get(name);
    if (v.IsUndefined()) return dflt;
    const double d = finite_value(name, v);
    if (!(d >= 0)) throw_range(env_, op_, field(name) + " must be a finite number >= 0, got " + number_text(d));
    return d;
  }

  // A boolean; `dflt` when absent (dflt 0 or 1), required when dflt < 0.
  bool flag(const char* name, int dflt = -1) {
    Napi::Value v = get(name);
    if (v.IsUndefined() && dflt >= 0) return dflt != 0;
    if (v.IsUndefined() || v.IsNull()) fail_type(name, "is missing (expected a boolean)");
    if (!v.IsBoolean()) fail_type(name, "must be a boolean, got " + kind(v));
    return v.As<Napi::Boolean>().Value();
  }

  // Throws when the object has a field no getter above asked for. Fast path (the per-token decode
  // calls read ~30 fields; naming every key costs more than the kernel of a small block): when
  // the object has exactly as many enumerable keys as distinct fields were found, every key is a
  // field and nothing is converted to a string (only an inherited non-enumerable field could hide
  // an unknown key that way; plain objects have none).
  void done() const {
    Napi::Array keys = obj_.GetPropertyNames();
    if (keys.Length() == found_) return;
    for (uint32_t i = 0; i < keys.Length(); ++i) {
      const std::string k = keys.Get(i).ToString().Utf8Value();
      bool known = false;
      for (const std::string& s : seen_) known = known || s == k;
      if (!known) {
        std::string list;
        for (size_t j = 0; j < seen_.size(); ++j) list += (j ? ", " : "") + seen_[j];
        throw_type(env_, op_, role_ + "." + k + " is not a field of " + op_ + " " + role_ + " (fields: " + list + ")");
      }
    }
  }

 private:
  double finite_value(const char* name, const Napi::Value& v) {
    if (v.IsUndefined() || v.IsNull()) fail_type(name, "is missing (expected a finite number)");
    if (!v.IsNumber()) fail_type(name, "must be a finite number, got " + kind(v));
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d)) throw_range(env_, op_, field(name) + " must be a finite number, got " + number_text(d));
    return d;
  }
  Napi::Value get(const char* name) {
    const size_t len = std::strlen(name);
    bool again = false;
    for (const std::string& s : seen_) again = again || (s.size() == len && s.compare(0, len, name) == 0);
    seen_.emplace_back(name);
    Napi::Value v = obj_.Get(name);
    if (!again && !v.IsUndefined()) ++found_;
    return v;
  }
  std::string field(const char* name) const { return role_ + "." + name; }
  [[noreturn]] void fail_type(const char* name, const std::string& msg) const {
    throw_type(env_, op_, field(name) + " " + msg);
  }
  static std::string kind(const Napi::Value& v) {
    if (v.IsNull()) return "null";
    if (v.IsString()) return "a string";
    if (v.IsBoolean()) return "a boolean";
    if (v.IsNumber()) return "a number";
    if (v.IsArray()) return "an array";
    if (v.IsTypedArray()) return "a typed array";
    if (v.IsFunction()) return "a function";
    return "an object";
  }
  static std::string number_text(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    if (d == static_cast<double>(static_cast<int64_t>(d))) return std::to_string(static_cast<int64_t>(d));
    return std::to_string(d);
  }
  static std::string shape_text(const std::vector<int64_t>& dims, const char* labels) {
    return std::string(labels) + " = " + dims_text(dims);
  }

  Napi::Env env_;
  Napi::Object obj_;
  std::string op_, role_;
  std::vector<std::string> seen_;
  uint32_t found_ = 0;  // distinct fields read whose value was not undefined
};

template <typename F>
inline const F* ptr(const ArrayView& a) {
  return static_cast<const F*>(a.data);
}
template <typename F>
inline F* mut(const ArrayView& a) {
  return static_cast<F*>(a.data);
}

}  // namespace nl::binding::memory

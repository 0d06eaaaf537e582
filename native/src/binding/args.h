// Argument checking for N-API entry points. Every failure throws a JS TypeError/RangeError whose
// message starts with the op name ("nl.gemm: ...") and names the argument and what was wrong.
// No maths here.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <new>
#include <stdexcept>
#include <string>

namespace nl::binding {

enum class DType { F32, F64, I32, Other };

inline const char* dtype_name(DType d) {
  switch (d) {
    case DType::F32: return "Float32Array";
    case DType::F64: return "Float64Array";
    case DType::I32: return "Int32Array";
    default: return "other";
  }
}

[[noreturn]] inline void throw_type(Napi::Env env, const std::string& op, const std::string& msg) {
  throw Napi::TypeError::New(env, "nl." + op + ": " + msg);
}
[[noreturn]] inline void throw_range(Napi::Env env, const std::string& op, const std::string& msg) {
  throw Napi::RangeError::New(env, "nl." + op + ": " + msg);
}

inline void expect_args(const Napi::CallbackInfo& info, const std::string& op, size_t n) {
  if (info.Length() < n) {
    throw_type(info.Env(), op, "expected " + std::to_string(n) + " arguments, got " + std::to_string(info.Length()));
  }
}

struct ArrayView {
  void* data = nullptr;
  int64_t length = 0;  // elements
  DType dtype = DType::Other;
  template <typename T>
  T* as() const { return static_cast<T*>(data); }
};

inline ArrayView typed_array(const Napi::CallbackInfo& info, size_t i, const std::string& op, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray()) throw_type(info.Env(), op, std::string(name) + " must be a typed array");
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  ArrayView out;
  switch (ta.TypedArrayType()) {
    case napi_float32_array: out.dtype = DType::F32; break;
    case napi_float64_array: out.dtype = DType::F64; break;
    case napi_int32_array: out.dtype = DType::I32; break;
    default: throw_type(info.Env(), op, std::string(name) + " must be a Float32Array, Float64Array or Int32Array");
  }
  out.length = static_cast<int64_t>(ta.ElementLength());
  out.data = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  return out;
}

inline double number(const Napi::CallbackInfo& info, size_t i, const std::string& op, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) throw_type(info.Env(), op, std::string(name) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

// A number as text for error messages: integers exactly, NaN / Infinity by name.
inline std::string num_text(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (std::fabs(d) < 9.3e18 && d == std::trunc(d)) return std::to_string(static_cast<int64_t>(d));
  return std::to_string(d);
}

// True when d is an integer in [0, 2^53) (checked before any cast: casting NaN or a double beyond
// int64 is undefined behaviour).
inline bool is_count(double d) { return d >= 0 && d <= 9007199254740991.0 && d == std::trunc(d); }

// A non-negative integer that fits in int64 (JS numbers are exact up to 2^53).
inline int64_t count(const Napi::CallbackInfo& info, size_t i, const std::string& op, const char* name) {
  double d = number(info, i, op, name);
  if (!is_count(d)) {
    throw_range(info.Env(), op, std::string(name) + " must be a non-negative integer, got " + num_text(d));
  }
  return static_cast<int64_t>(d);
}

// Overflow-checked int64 arithmetic on sizes that come from JS. `what` names the expression in the
// error ("b * t * c"); the factors are listed: "nl.causalConv1dForward: b * t * c = 4294967296 *
// 4294967296 * 3 overflows 64-bit integers".
[[noreturn]] inline void throw_overflow(Napi::Env env, const std::string& op, const std::string& what,
                                        std::initializer_list<int64_t> xs, const char* sep = " * ") {
  std::string vals;
  bool first = true;
  for (int64_t x : xs) {
    vals += (first ? "" : sep) + std::to_string(x);
    first = false;
  }
  throw_range(env, op, what + " = " + vals + " overflows 64-bit integers");
}

// Product of non-negative sizes. Zero factors give 0, but the product of the NON-zero factors must
// still fit (a kernel may multiply a subset of them, e.g. t * c with b = 0).
inline int64_t checked_product(Napi::Env env, const std::string& op, const std::string& what,
                               std::initializer_list<int64_t> xs) {
  int64_t p = 1;
  bool zero = false;
  for (int64_t x : xs) {
    if (x == 0) {
      zero = true;
      continue;
    }
    if (x < 0 || __builtin_mul_overflow(p, x, &p)) throw_overflow(env, op, what, xs);
  }
  return zero ? 0 : p;
}

// a + b of non-negative values, checked.
inline int64_t checked_add(Napi::Env env, const std::string& op, const std::string& what, int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) throw_overflow(env, op, what, {a, b}, " + ");
  return r;
}

// Every entry point runs through guarded(): C++ exceptions that are not already JS errors become JS
// errors naming the op instead of crossing the N-API boundary (where they would std::terminate
// the process). std::bad_alloc / std::length_error (a scratch size too large for this machine)
// become RangeErrors.
using Entry = Napi::Value (*)(const Napi::CallbackInfo&);

inline Napi::Value guarded(const Napi::CallbackInfo& info, const char* op, Entry f) {
  try {
    return f(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(info.Env(), std::string("nl.") + op +
                                                ": out of memory allocating kernel scratch (std::bad_alloc); the sizes "
                                                "are too large for this machine");
  } catch (const std::length_error& e) {
    throw Napi::RangeError::New(info.Env(), std::string("nl.") + op + ": a kernel buffer size is too large (" +
                                                e.what() + ")");
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("nl.") + op + ": native error: " + e.what());
  } catch (...) {
    throw Napi::Error::New(info.Env(), std::string("nl.") + op + ": unknown native exception");
  }
}

// Registers `f` as exports[name], wrapped by guarded(). `name` must be a string literal (it is
// kept by the closure).
inline void export_fn(Napi::Env env, Napi::Object exports, const char* name, Entry f) {
  exports.Set(name, Napi::Function::New(
                        env, [name, f](const Napi::CallbackInfo& info) -> Napi::Value { return guarded(info, name, f); },
                        name));
}

inline bool boolean(const Napi::CallbackInfo& info, size_t i, const std::string& op, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsBoolean()) throw_type(info.Env(), op, std::string(name) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

}  // namespace nl::binding

// Argument checking for N-API entry points. Every failure throws a JS TypeError/RangeError whose
// message starts with the op name ("nl.gemm: ...") and names the argument and what was wrong.
// No maths here.
#pragma once
#include <napi.h>

#include <cstdint>
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

// A non-negative integer that fits in int64 (JS numbers are exact up to 2^53).
inline int64_t count(const Napi::CallbackInfo& info, size_t i, const std::string& op, const char* name) {
  double d = number(info, i, op, name);
  if (!(d >= 0) || d != static_cast<double>(static_cast<int64_t>(d)) || d > 9007199254740991.0) {
    throw_range(info.Env(), op, std::string(name) + " must be a non-negative integer, got " + std::to_string(d));
  }
  return static_cast<int64_t>(d);
}

inline bool boolean(const Napi::CallbackInfo& info, size_t i, const std::string& op, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsBoolean()) throw_type(info.Env(), op, std::string(name) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

}  // namespace nl::binding

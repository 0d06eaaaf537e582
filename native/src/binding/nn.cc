// N-API entry points of the fused NN kernels (cpu/nn_ops.h), used by @nl/tensor's
// nn.functional. Positional arguments; every array's length, dtype and optionality is checked
// (floats share one dtype; statistics and weight gradients are Float64Array; targets
// Int32Array with every value in [0, C) or equal to ignoreIndex). No maths here.
#include <napi.h>

#include <cmath>
#include <string>

#include "binding/args.h"
#include "binding/register.h"
#include "cpu/nn_ops.h"

namespace nl::binding {
namespace {

struct Checker {
  const Napi::CallbackInfo& info;
  const char* op;
  DType dtype = DType::Other;

  bool absent(size_t i) const { return info[i].IsNull() || info[i].IsUndefined(); }

  void length(const ArrayView& a, const char* name, int64_t n) const {
    if (a.length != n) {
      throw_range(info.Env(), op, std::string(name) + " must have " + std::to_string(n) + " elements, got " +
                                      std::to_string(a.length));
    }
  }
  // A float array sharing one dtype with the other float arrays of the call.
  ArrayView floats(size_t i, const char* name, int64_t n, bool optional = false) {
    if (optional && absent(i)) return ArrayView{};
    ArrayView a = typed_array(info, i, op, name);
    if (a.dtype != DType::F32 && a.dtype != DType::F64) {
      throw_type(info.Env(), op, std::string(name) + " must be a Float32Array or Float64Array");
    }
    if (dtype == DType::Other) dtype = a.dtype;
    if (a.dtype != dtype) {
      throw_type(info.Env(), op, std::string(name) + " is a " + dtype_name(a.dtype) + " but earlier arrays are " +
                                     dtype_name(dtype));
    }
    length(a, name, n);
    return a;
  }
  ArrayView f64(size_t i, const char* name, int64_t n, bool optional = false) const {
    if (optional && absent(i)) return ArrayView{};
    ArrayView a = typed_array(info, i, op, name);
    if (a.dtype != DType::F64) throw_type(info.Env(), op, std::string(name) + " must be a Float64Array");
    length(a, name, n);
    return a;
  }
  ArrayView i32(size_t i, const char* name, int64_t n) const {
    ArrayView a = typed_array(info, i, op, name);
    if (a.dtype != DType::I32) throw_type(info.Env(), op, std::string(name) + " must be an Int32Array");
    length(a, name, n);
    return a;
  }
  int64_t dim(size_t i, const char* name) const { return count(info, i, op, name); }
  // Overflow-checked product of sizes ("b * t * c"); the error names the factors and values.
  int64_t prod(const char* what, std::initializer_list<int64_t> xs) const {
    return checked_product(info.Env(), op, what, xs);
  }
};

template <typename T>
const T* cp(const ArrayView& a) { return static_cast<const T*>(a.data); }
template <typename T>
T* mp(const ArrayView& a) { return static_cast<T*>(a.data); }
double* dp(const ArrayView& a) { return static_cast<double*>(a.data); }

// Dispatches body<float>() or body<double>() on the checked dtype.
#define NL_DISPATCH(chk, ...)                    \
  do {                                           \
    if ((chk).dtype == DType::F32) {             \
      using T = float;                           \
      __VA_ARGS__;                               \
    } else {                                     \
      using T = double;                          \
      __VA_ARGS__;                               \
    }                                            \
  } while (0)

Napi::Value RmsNormForward(const Napi::CallbackInfo& info) {
  expect_args(info, "rmsNormForward", 7);
  Checker k{info, "rmsNormForward"};
  const int64_t rows = k.dim(2, "rows"), d = k.dim(3, "d");
  const int64_t rd = k.prod("rows * d", {rows, d});
  const double eps = number(info, 4, k.op, "eps");
  ArrayView x = k.floats(0, "x", rd), w = k.floats(1, "weight", d, true), y = k.floats(5, "y", rd);
  ArrayView rstd = k.f64(6, "rstd", rows);
  NL_DISPATCH(k, rms_norm_forward<T>(cp<T>(x), cp<T>(w), rows, d, eps, mp<T>(y), dp(rstd)));
  return info.Env().Undefined();
}

Napi::Value RmsNormBackward(const Napi::CallbackInfo& info) {
  expect_args(info, "rmsNormBackward", 8);
  Checker k{info, "rmsNormBackward"};
  const int64_t rows = k.dim(4, "rows"), d = k.dim(5, "d");
  const int64_t rd = k.prod("rows * d", {rows, d});
  ArrayView g = k.floats(0, "g", rd), x = k.floats(1, "x", rd), w = k.floats(2, "weight", d, true);
  ArrayView rstd = k.f64(3, "rstd", rows), dx = k.floats(6, "dx", rd), dw = k.f64(7, "dw", d, true);
  NL_DISPATCH(k, rms_norm_backward<T>(cp<T>(g), cp<T>(x), cp<T>(w), dp(rstd), rows, d, mp<T>(dx), dp(dw)));
  return info.Env().Undefined();
}

Napi::Value LayerNormForward(const Napi::CallbackInfo& info) {
  expect_args(info, "layerNormForward", 9);
  Checker k{info, "layerNormForward"};
  const int64_t rows = k.dim(3, "rows"), d = k.dim(4, "d");
  const int64_t rd = k.prod("rows * d", {rows, d});
  const double eps = number(info, 5, k.op, "eps");
  ArrayView x = k.floats(0, "x", rd), w = k.floats(1, "weight", d, true), b = k.floats(2, "bias", d, true);
  ArrayView y = k.floats(6, "y", rd), mean = k.f64(7, "mean", rows), rstd = k.f64(8, "rstd", rows);
  NL_DISPATCH(k, layer_norm_forward<T>(cp<T>(x), cp<T>(w), cp<T>(b), rows, d, eps, mp<T>(y), dp(mean), dp(rstd)));
  return info.Env().Undefined();
}

Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  expect_args(info, "layerNormBackward", 10);
  Checker k{info, "layerNormBackward"};
  const int64_t rows = k.dim(5, "rows"), d = k.dim(6, "d");
  const int64_t rd = k.prod("rows * d", {rows, d});
  ArrayView g = k.floats(0, "g", rd), x = k.floats(1, "x", rd), w = k.floats(2, "weight", d, true);
  ArrayView mean = k.f64(3, "mean", rows), rstd = k.f64(4, "rstd", rows), dx = k.floats(7, "dx", rd);
  ArrayView dw = k.f64(8, "dw", d, true), db = k.f64(9, "db", d, true);
  NL_DISPATCH(k, layer_norm_backward<T>(cp<T>(g), cp<T>(x), cp<T>(w), dp(mean), dp(rstd), rows, d, mp<T>(dx),
                                        dp(dw), dp(db)));
  return info.Env().Undefined();
}

void check_targets(const Checker& k, const ArrayView& targets, int64_t c, int32_t ignore) {
  const int32_t* t = cp<int32_t>(targets);
  for (int64_t i = 0; i < targets.length; ++i) {
    if (t[i] != ignore && (t[i] < 0 || t[i] >= c)) {
      throw_range(k.info.Env(), k.op, "target " + std::to_string(t[i]) + " at row " + std::to_string(i) +
                                          " is out of range [0, " + std::to_string(c) + ")");
    }
  }
}

int32_t ignore_index(const Napi::CallbackInfo& info, size_t i, const char* op) {
  const double v = number(info, i, op, "ignoreIndex");
  if (!(v >= -2147483648.0 && v <= 2147483647.0) || v != std::trunc(v)) {
    throw_range(info.Env(), op, "ignoreIndex must be an int32, got " + num_text(v));
  }
  return static_cast<int32_t>(v);
}

Napi::Value CrossEntropyForward(const Napi::CallbackInfo& info) {
  expect_args(info, "crossEntropyForward", 7);
  Checker k{info, "crossEntropyForward"};
  const int64_t n = k.dim(2, "n"), c = k.dim(3, "c");
  const int64_t nc = k.prod("n * c", {n, c});
  const int32_t ignore = ignore_index(info, 4, k.op);
  ArrayView logits = k.floats(0, "logits", nc), targets = k.i32(1, "targets", n);
  ArrayView losses = k.f64(5, "losses", n), probs = k.floats(6, "probs", nc);
  check_targets(k, targets, c, ignore);
  NL_DISPATCH(k, cross_entropy_forward<T>(cp<T>(logits), cp<int32_t>(targets), n, c, ignore, dp(losses), mp<T>(probs)));
  return info.Env().Undefined();
}

Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  expect_args(info, "crossEntropyBackward", 7);
  Checker k{info, "crossEntropyBackward"};
  const int64_t n = k.dim(2, "n"), c = k.dim(3, "c");
  const int64_t nc = k.prod("n * c", {n, c});
  const int32_t ignore = ignore_index(info, 4, k.op);
  ArrayView probs = k.floats(0, "probs", nc), targets = k.i32(1, "targets", n);
  ArrayView scale = k.f64(5, "rowScale", n), grad = k.floats(6, "grad", nc);
  check_targets(k, targets, c, ignore);
  NL_DISPATCH(k, cross_entropy_backward<T>(cp<T>(probs), cp<int32_t>(targets), n, c, ignore, dp(scale), mp<T>(grad)));
  return info.Env().Undefined();
}

Napi::Value CausalConv1dForward(const Napi::CallbackInfo& info) {
  expect_args(info, "causalConv1dForward", 8);
  Checker k{info, "causalConv1dForward"};
  const int64_t b = k.dim(3, "b"), t = k.dim(4, "t"), c = k.dim(5, "c"), kk = k.dim(6, "k");
  const int64_t btc = k.prod("b * t * c", {b, t, c}), ck = k.prod("c * k", {c, kk});
  ArrayView x = k.floats(0, "x", btc), w = k.floats(1, "weight", ck), bias = k.floats(2, "bias", c, true);
  ArrayView y = k.floats(7, "y", btc);
  if (c == 0) return info.Env().Undefined();  // every array is empty (b * t may still be huge)
  NL_DISPATCH(k, causal_conv1d_forward<T>(cp<T>(x), cp<T>(w), cp<T>(bias), b, t, c, kk, mp<T>(y)));
  return info.Env().Undefined();
}

Napi::Value CausalConv1dBackward(const Napi::CallbackInfo& info) {
  expect_args(info, "causalConv1dBackward", 10);
  Checker k{info, "causalConv1dBackward"};
  const int64_t b = k.dim(3, "b"), t = k.dim(4, "t"), c = k.dim(5, "c"), kk = k.dim(6, "k");
  const int64_t btc = k.prod("b * t * c", {b, t, c}), ck = k.prod("c * k", {c, kk});
  ArrayView g = k.floats(0, "g", btc), x = k.floats(1, "x", btc), w = k.floats(2, "weight", ck);
  ArrayView dx = k.floats(7, "dx", btc), dw = k.f64(8, "dw", ck, true), db = k.f64(9, "db", c, true);
  if (c == 0) return info.Env().Undefined();  // every array is empty (b * t may still be huge)
  NL_DISPATCH(k, causal_conv1d_backward<T>(cp<T>(g), cp<T>(x), cp<T>(w), b, t, c, kk, mp<T>(dx), dp(dw), dp(db)));
  return info.Env().Undefined();
}

Napi::Value DropoutForward(const Napi::CallbackInfo& info) {
  expect_args(info, "dropoutForward", 5);
  Checker k{info, "dropoutForward"};
  ArrayView x = typed_array(info, 0, k.op, "x");
  const int64_t n = x.length;
  x = k.floats(0, "x", n);
  const double seed = number(info, 1, k.op, "seed"), p = number(info, 2, k.op, "p");
  if (!(std::fabs(seed) <= 9007199254740991.0) || seed != std::trunc(seed)) {
    throw_range(info.Env(), k.op, "seed must be an integer, got " + num_text(seed));
  }
  if (!(p >= 0 && p < 1)) throw_range(info.Env(), k.op, "p must be in [0, 1), got " + std::to_string(p));
  ArrayView mask = k.floats(3, "mask", n), y = k.floats(4, "y", n);
  const uint32_t s = static_cast<uint32_t>(static_cast<int64_t>(seed));
  NL_DISPATCH(k, dropout_forward<T>(cp<T>(x), n, s, p, mp<T>(mask), mp<T>(y)));
  return info.Env().Undefined();
}

Napi::Value DropoutBackward(const Napi::CallbackInfo& info) {
  expect_args(info, "dropoutBackward", 3);
  Checker k{info, "dropoutBackward"};
  const int64_t n = typed_array(info, 0, k.op, "g").length;
  ArrayView g = k.floats(0, "g", n), mask = k.floats(1, "mask", n), dx = k.floats(2, "dx", n);
  NL_DISPATCH(k, dropout_backward<T>(cp<T>(g), cp<T>(mask), n, mp<T>(dx)));
  return info.Env().Undefined();
}

#undef NL_DISPATCH

}  // namespace

void register_nn(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "rmsNormForward", RmsNormForward);
  export_fn(env, exports, "rmsNormBackward", RmsNormBackward);
  export_fn(env, exports, "layerNormForward", LayerNormForward);
  export_fn(env, exports, "layerNormBackward", LayerNormBackward);
  export_fn(env, exports, "crossEntropyForward", CrossEntropyForward);
  export_fn(env, exports, "crossEntropyBackward", CrossEntropyBackward);
  export_fn(env, exports, "causalConv1dForward", CausalConv1dForward);
  export_fn(env, exports, "causalConv1dBackward", CausalConv1dBackward);
  export_fn(env, exports, "dropoutForward", DropoutForward);
  export_fn(env, exports, "dropoutBackward", DropoutBackward);
}

}  // namespace nl::binding

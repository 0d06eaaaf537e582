// axpy(a, x, y) on CPU and cudaAxpy(a, x, y, device) on a CUDA device: y <- a*x + y.
#include <napi.h>

#include "binding/args.h"
#include "binding/register.h"
#include "cpu/axpy.h"
#include "cuda/cuda_api.h"

namespace nl::binding {
namespace {

void check_pair(const Napi::CallbackInfo& info, const char* op, const ArrayView& x, const ArrayView& y) {
  if (x.dtype != y.dtype) {
    throw_type(info.Env(), op, std::string("x and y must have the same dtype, got ") + dtype_name(x.dtype) + " and " +
                                   dtype_name(y.dtype));
  }
  if (x.length != y.length) {
    throw_range(info.Env(), op, "x and y must have the same length, got " + std::to_string(x.length) + " and " +
                                    std::to_string(y.length));
  }
}

Napi::Value Axpy(const Napi::CallbackInfo& info) {
  expect_args(info, "axpy", 3);
  double a = number(info, 0, "axpy", "a");
  ArrayView x = typed_array(info, 1, "axpy", "x");
  ArrayView y = typed_array(info, 2, "axpy", "y");
  check_pair(info, "axpy", x, y);
  if (x.dtype == DType::F32) {
    axpy_f32(x.length, static_cast<float>(a), x.as<float>(), y.as<float>());
  } else if (x.dtype == DType::F64) {
    axpy_f64(x.length, a, x.as<double>(), y.as<double>());
  } else {
    throw_type(info.Env(), "axpy", "x and y must be Float32Array or Float64Array, got Int32Array");
  }
  return info.Env().Undefined();
}

Napi::Value CudaAxpy(const Napi::CallbackInfo& info) {
  expect_args(info, "cudaAxpy", 3);
  double a = number(info, 0, "cudaAxpy", "a");
  ArrayView x = typed_array(info, 1, "cudaAxpy", "x");
  ArrayView y = typed_array(info, 2, "cudaAxpy", "y");
  check_pair(info, "cudaAxpy", x, y);
  if (x.dtype != DType::F32) throw_type(info.Env(), "cudaAxpy", "x and y must be Float32Array");
  int64_t device = info.Length() > 3 && !info[3].IsUndefined() ? count(info, 3, "cudaAxpy", "device") : 0;
  if (device > 1 << 20) throw_range(info.Env(), "cudaAxpy", "device must be a device index, got " + std::to_string(device));
  std::string err = cuda::axpy_f32(static_cast<int>(device), x.length, static_cast<float>(a), x.as<float>(), y.as<float>());
  if (!err.empty()) throw Napi::Error::New(info.Env(), "nl.cudaAxpy: " + err);
  return info.Env().Undefined();
}

}  // namespace

void register_axpy(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "axpy", Axpy);
  export_fn(env, exports, "cudaAxpy", CudaAxpy);
}

}  // namespace nl::binding

// info(), numThreads(), setNumThreads(n): what this build is and what it found.
#include <napi.h>

#include "binding/args.h"
#include "binding/register.h"
#include "cpu/simd.h"
#include "cpu/thread_pool.h"
#include "cuda/cuda_api.h"

#ifndef NL_VERSION
#define NL_VERSION "0.0.0"
#endif

namespace nl::binding {
namespace {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("version", NL_VERSION);
  out.Set("simd", simd_level());
  out.Set("simdDispatch", simd_dispatch());
  out.Set("threads", num_threads());
  out.Set("hardwareThreads", hardware_threads());

  cuda::RuntimeInfo rt = cuda::query();
  Napi::Object c = Napi::Object::New(env);
  c.Set("compiled", rt.compiled);
  c.Set("runtimeVersion", rt.runtime_version);
  c.Set("driverVersion", rt.driver_version);
  Napi::Array devices = Napi::Array::New(env, rt.devices.size());
  for (size_t i = 0; i < rt.devices.size(); ++i) {
    const auto& d = rt.devices[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", d.index);
    o.Set("name", d.name);
    o.Set("computeCapability", std::to_string(d.major) + "." + std::to_string(d.minor));
    o.Set("totalMemory", static_cast<double>(d.total_memory));
    o.Set("multiprocessors", d.multiprocessors);
    devices.Set(i, o);
  }
  c.Set("devices", devices);
  // which GEMM a GPU would use: cuBLAS found at run time, else our tiled kernel
  c.Set("cublas", cuda::cublas_status());
  if (rt.error.empty()) {
    c.Set("error", env.Null());
  } else {
    c.Set("error", rt.error);
  }
  out.Set("cuda", c);
  return out;
}

Napi::Value NumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), num_threads()); }

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  expect_args(info, "setNumThreads", 1);
  int64_t n = count(info, 0, "setNumThreads", "n");
  if (n > 1024) throw_range(info.Env(), "setNumThreads", "n must be at most 1024, got " + std::to_string(n));
  set_num_threads(static_cast<int>(n));
  return Napi::Number::New(info.Env(), num_threads());
}

}  // namespace

void register_info(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "info", Info);
  export_fn(env, exports, "numThreads", NumThreads);
  export_fn(env, exports, "setNumThreads", SetNumThreads);
}

}  // namespace nl::binding

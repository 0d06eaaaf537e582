// CPU-only build: the CUDA entry points exist and report that CUDA was not compiled in. The
// emulated device (cuda/host/) is always built.
#include "cuda/cuda_api.h"
#include "cuda/runtime.h"

namespace nl::cuda {

RuntimeInfo query() {
  RuntimeInfo info;
  info.error = "CUDA support was not compiled into @nl/native (nvcc was not found at build time, or NL_CUDA=OFF)";
  return info;
}

std::string axpy_f32(int, int64_t, float, const float*, float*) { return query().error; }

std::string cublas_status() { return "not loaded: CUDA support was not compiled in"; }

Runtime* make_gpu_runtime(int, std::string& err) {
  err = query().error;
  return nullptr;
}


}  // namespace nl::cuda

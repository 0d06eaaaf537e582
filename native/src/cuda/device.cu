// CUDA runtime and device query (cudart is linked statically: this loads without a driver).
#include "cuda/cuda_api.h"
#include "cuda/check.cuh"

namespace nl::cuda {

RuntimeInfo query() {
  RuntimeInfo info;
  info.compiled = true;
  cudaRuntimeGetVersion(&info.runtime_version);
  cudaDriverGetVersion(&info.driver_version);
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    info.error = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky error so later calls report their own
    return info;
  }
  if (count == 0) info.error = "no CUDA device found";
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    DeviceInfo d;
    d.index = i;
    d.name = p.name;
    d.major = p.major;
    d.minor = p.minor;
    d.total_memory = static_cast<int64_t>(p.totalGlobalMem);
    d.multiprocessors = p.multiProcessorCount;
    info.devices.push_back(d);
  }
  return info;
}

}  // namespace nl::cuda

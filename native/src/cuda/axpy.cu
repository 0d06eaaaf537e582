// CUDA axpy, version 1: grid-stride loop. The sample kernel for the device path; the reference
// is the CPU axpy in cpu/axpy.cc and the JS loop in native/test.
#include <memory>

#include "cuda/cuda_api.h"
#include "cuda/check.cuh"

namespace nl::cuda {
namespace {

__global__ void axpy_kernel(int64_t n, float a, const float* __restrict__ x, float* __restrict__ y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    y[i] += a * x[i];
  }
}

struct DeviceFree {
  void operator()(float* p) const { cudaFree(p); }
};

}  // namespace

std::string axpy_f32(int device, int64_t n, float a, const float* x, float* y) {
  if (n == 0) return "";
  int count = 0;
  NL_CUDA_CHECK(cudaGetDeviceCount(&count));
  if (device < 0 || device >= count)
    return "device " + std::to_string(device) + " does not exist (" + std::to_string(count) + " CUDA device" +
           (count == 1 ? "" : "s") + " found)";
  NL_CUDA_CHECK(cudaSetDevice(device));
  float *dx_raw = nullptr, *dy_raw = nullptr;
  const size_t bytes = size_t(n) * sizeof(float);
  NL_CUDA_CHECK(cudaMalloc(&dx_raw, bytes));
  std::unique_ptr<float, DeviceFree> dx(dx_raw);
  NL_CUDA_CHECK(cudaMalloc(&dy_raw, bytes));
  std::unique_ptr<float, DeviceFree> dy(dy_raw);
  NL_CUDA_CHECK(cudaMemcpy(dx.get(), x, bytes, cudaMemcpyHostToDevice));
  NL_CUDA_CHECK(cudaMemcpy(dy.get(), y, bytes, cudaMemcpyHostToDevice));
  const int threads = 256;
  const int64_t want = (n + threads - 1) / threads;
  const int blocks = static_cast<int>(want < 65535 ? want : 65535);
  axpy_kernel<<<blocks, threads>>>(n, a, dx.get(), dy.get());
  NL_CUDA_CHECK(cudaGetLastError());
  NL_CUDA_CHECK(cudaMemcpy(y, dy.get(), bytes, cudaMemcpyDeviceToHost));
  return "";
}

}  // namespace nl::cuda

// The CUDA side of the addon as plain C++ declarations (no CUDA headers), so the N-API glue
// compiles identically with or without CUDA. Built from device.cu/axpy.cu when nvcc is found,
// from cuda_stub.cc otherwise. Every function returns an empty string on success or an error
// message naming the failed call; nothing here throws or aborts.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nl::cuda {

struct DeviceInfo {
  int index = 0;
  std::string name;
  int major = 0, minor = 0;
  int64_t total_memory = 0;
  int multiprocessors = 0;
};

struct RuntimeInfo {
  bool compiled = false;        // CUDA kernels compiled into this binary
  int runtime_version = 0;      // cudart version linked in (e.g. 13000), 0 if not compiled
  int driver_version = 0;       // 0 when no driver is installed
  std::vector<DeviceInfo> devices;
  std::string error;            // why no device is usable ("" when at least one is)
};

RuntimeInfo query();

// cuBLAS as the loader finds it: "cuBLAS: <path>" or "not found (tried ...)"; the CUDA-less build
// says CUDA is not compiled in. Loading happens on the first call (or the first GPU GEMM).
std::string cublas_status();

// y <- a*x + y on device `device`, copying host arrays in and out (the sample kernel).
std::string axpy_f32(int device, int64_t n, float a, const float* x, float* y);

}  // namespace nl::cuda

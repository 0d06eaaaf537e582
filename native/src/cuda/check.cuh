// NL_CUDA_CHECK(call): on failure, return an error string naming the call, file and line.
#pragma once
#include <cuda_runtime.h>

#include <string>

#define NL_CUDA_CHECK(call)                                                                  \
  do {                                                                                       \
    cudaError_t nl_err_ = (call);                                                            \
    if (nl_err_ != cudaSuccess) {                                                            \
      return std::string(#call) + " failed: " + cudaGetErrorString(nl_err_) + " (" __FILE__ \
             ":" + std::to_string(__LINE__) + ")";                                           \
    }                                                                                        \
  } while (0)

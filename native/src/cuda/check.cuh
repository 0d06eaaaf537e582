// NL_CUDA_CHECK(call): on failure, return an error string naming the call, file and line, and
// clear the runtime's last-error slot so a failed call (e.g. a bad device index) does not
// resurface from the next call's cudaGetLastError() (seen on an H100 before this fix).
#pragma once
#include <cuda_runtime.h>

#include <string>

#define NL_CUDA_CHECK(call)                                                                  \
  do {                                                                                       \
    cudaError_t nl_err_ = (call);                                                            \
    if (nl_err_ != cudaSuccess) {                                                            \
      (void)cudaGetLastError();                                                              \
      return std::string(#call) + " failed: " + cudaGetErrorString(nl_err_) + " (" __FILE__ \
             ":" + std::to_string(__LINE__) + ")";                                           \
    }                                                                                        \
  } while (0)

// GPU side of the kernel contract (cuda/launch.h): one __global__ template runs a kernel struct's
// phases with __syncthreads() between them.
#pragma once
#include <cuda_runtime.h>

#include <string>

#include "cuda/launch.h"

namespace nl::cuda {

template <class K>
__global__ void run_phases(K k) {
  extern __shared__ __align__(16) char smem[];
  typename K::Regs r{};
  Idx at;
  at.block = {blockIdx.x, blockIdx.y, blockIdx.z};
  at.thread = {threadIdx.x, threadIdx.y, threadIdx.z};
  at.grid = {gridDim.x, gridDim.y, gridDim.z};
  at.dim = {blockDim.x, blockDim.y, blockDim.z};
  const int n = k.phases();
  for (int p = 0; p < n; ++p) {
    if (p > 0) __syncthreads();
    k(p, at, smem, r);
  }
}

template <class K>
std::string gpu_launch(const K& k, const Launch& l, cudaStream_t stream) {
  if (l.grid.x == 0 || l.grid.y == 0 || l.grid.z == 0) return "";
  run_phases<K><<<dim3(l.grid.x, l.grid.y, l.grid.z), dim3(l.block.x, l.block.y, l.block.z), l.smem, stream>>>(k);
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return std::string("kernel launch failed: ") + cudaGetErrorString(e);
  return "";
}

}  // namespace nl::cuda

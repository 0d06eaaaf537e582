// Strided batched GEMM, row-major, the contract of cpu/gemm.h:
//   for b < batch: C_b = alpha * op(A_b) op(B_b) + beta * C_b, op(A_b) [m,k], op(B_b) [k,n], C_b [m,n]
// On a GPU, `Exec::gemm_blas` tries cuBLAS first (gpu/cublas.cc) and returns false when cuBLAS is
// absent; then (and always in the emulator) the tiled kernel of kernels/gemm.h runs.
#pragma once
#include <string>

#include "cuda/kernels/gemm.h"

#define NL_CUDA_OPS_GEMM(X) X(gemm, GemmArgsD)

namespace nl::cuda {

template <class Exec>
std::string gemm_op(Exec& ex, const GemmArgsD& g) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return "";
  std::string err;
  if (ex.gemm_blas(g, err)) return err;
  if (g.dt == DT::F32) return gemm_tiled<float>(ex, g);
  if (g.dt == DT::F64) return gemm_tiled<double>(ex, g);
  return "gemm: dtype must be float32 or float64";
}

}  // namespace nl::cuda

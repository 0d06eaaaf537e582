// Strided batched GEMM, row-major, the contract of cpu/gemm.h:
//   for b < batch: C_b = alpha * op(A_b) op(B_b) + beta * C_b, op(A_b) [m,k], op(B_b) [k,n], C_b [m,n]
// On a GPU, `Exec::gemm_blas` tries cuBLAS first (gpu/cublas.cc) and returns false when cuBLAS is
// absent; then (and always in the emulator) the tiled kernel of kernels/gemm.h runs.
#pragma once
#include <string>

#include "cuda/kernels/bf16.h"
#include "cuda/kernels/gemm.h"

#define NL_CUDA_OPS_GEMM(X) X(gemm, GemmArgsD)

namespace nl::cuda {

// Elements a batched matrix operand spans from its offset: (batch-1)*stride + (rows-1)*ld + cols.
inline int64_t matrix_span(int64_t rows, int64_t cols, int64_t ld, int64_t stride, int64_t batch) {
  return (batch - 1) * stride + (rows - 1) * ld + cols;
}

// 'medium' precision: A and B rounded to bfloat16, products accumulated in fp32. cuBLAS takes
// packed bf16 copies (GemmEx); otherwise the tiled kernel multiplies bf16-rounded float copies.
template <class Exec>
std::string gemm_bf16_op(Exec& ex, const GemmArgsD& g) {
  const int64_t na = matrix_span(g.trans_a ? g.k : g.m, g.trans_a ? g.m : g.k, g.lda, g.stride_a, g.batch);
  const int64_t nb = matrix_span(g.trans_b ? g.n : g.k, g.trans_b ? g.k : g.n, g.ldb, g.stride_b, g.batch);
  const float* a = static_cast<const float*>(g.a) + g.a_off;
  const float* b = static_cast<const float*>(g.b) + g.b_off;
  std::string err;
  GemmArgsD h = g;
  h.a_off = h.b_off = 0;
  const size_t item = ex.has_blas() ? 2 : 4;
  void* sa = ex.scratch(size_t(na) * item, err);
  if (sa == nullptr) return err;
  void* sb = ex.scratch(size_t(nb) * item, err);
  if (sb == nullptr) {
    ex.release(sa);
    return err;
  }
  h.a = sa;
  h.b = sb;
  if (ex.has_blas()) {
    err = ex.launch(ToBf16K{a, static_cast<uint16_t*>(sa), na}, launch_1d(na));
    if (err.empty()) err = ex.launch(ToBf16K{b, static_cast<uint16_t*>(sb), nb}, launch_1d(nb));
    if (err.empty() && !ex.gemm_bf16_blas(h)) err = "cublasGemmStridedBatchedEx (bf16) refused the arguments";
  } else {
    err = ex.launch(RoundBf16K{a, static_cast<float*>(sa), na}, launch_1d(na));
    if (err.empty()) err = ex.launch(RoundBf16K{b, static_cast<float*>(sb), nb}, launch_1d(nb));
    if (err.empty()) err = gemm_tiled<float>(ex, h);
  }
  ex.release(sa);  // stream-ordered: the GEMM queued before the free still reads them
  ex.release(sb);
  return err;
}

template <class Exec>
std::string gemm_op(Exec& ex, const GemmArgsD& g) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return "";
  if (g.dt == DT::F32 && ex.precision() == 2 && g.alpha != 0 && g.k > 0) return gemm_bf16_op(ex, g);
  std::string err;
  if (ex.gemm_blas(g, err)) return err;
  if (g.dt == DT::F32) return gemm_tiled<float>(ex, g);
  if (g.dt == DT::F64) return gemm_tiled<double>(ex, g);
  return "gemm: dtype must be float32 or float64";
}

}  // namespace nl::cuda

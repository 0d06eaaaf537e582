// General matrix multiply over strided, optionally transposed, optionally batched operands:
//   for b in [0, batch): C_b = alpha * op(A_b) * op(B_b) + beta * C_b
// op(A_b) is [m, k], op(B_b) is [k, n], C_b is [m, n]; all row-major with leading dimensions
// lda/ldb/ldc; A_b = a + b*stride_a (stride 0 broadcasts one operand over the batch).
// beta == 0 overwrites C without reading it (NaNs in C do not propagate).
//
// gemm_f32/gemm_f64 (gemm.cc) are the fast blocked, packed, register-tiled kernels; with alpha == 0
// or k == 0 they only scale C by beta and do not read A or B (BLAS semantics).
// gemm_ref_f32/gemm_ref_f64 (gemm_ref.cc) are the plain loops they are tested against.
#pragma once
#include <cstdint>

namespace nl {

struct GemmArgs {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  int64_t lda = 0, ldb = 0, ldc = 0;
  int64_t batch = 1, stride_a = 0, stride_b = 0, stride_c = 0;
};

void gemm_f32(const GemmArgs& g, float alpha, const float* a, const float* b, float beta, float* c);
void gemm_f64(const GemmArgs& g, double alpha, const double* a, const double* b, double beta, double* c);

void gemm_ref_f32(const GemmArgs& g, float alpha, const float* a, const float* b, float beta, float* c);
void gemm_ref_f64(const GemmArgs& g, double alpha, const double* a, const double* b, double beta, double* c);

}  // namespace nl

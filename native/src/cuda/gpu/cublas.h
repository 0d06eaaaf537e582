// cuBLAS loaded at run time (dlopen): no cuBLAS headers or link at build time. The few entry
// points we call are declared in cublas.cc. Search order: NL_CUBLAS_PATH (a file or a folder),
// libcublas.so.13 then .12 through the loader's paths, $CUDA_PATH/lib64, /usr/local/cuda/lib64,
// and the lib folders of the nvidia-cublas Python wheels (site-packages/nvidia/cublas/lib, which
// PyTorch installs).
#pragma once
#include <string>

namespace nl::cuda::cublas {

struct Api;

// The loaded library (nullptr when none was found; `why` then says where it looked).
const Api* api(std::string* where_or_why);

// A handle bound to a stream; nullptr when cuBLAS is absent.
void* create_handle(void* stream);

// C = alpha op(A) op(B) + beta C, row-major strided batched; false when cuBLAS is absent or
// refuses the arguments (the caller then runs the tiled kernel).
bool sgemm(void* handle, bool ta, bool tb, long long m, long long n, long long k, float alpha, const float* a,
           long long lda, long long sa, const float* b, long long ldb, long long sb, float beta, float* c,
           long long ldc, long long sc, long long batch);
bool dgemm(void* handle, bool ta, bool tb, long long m, long long n, long long k, double alpha, const double* a,
           long long lda, long long sa, const double* b, long long ldb, long long sb, double beta, double* c,
           long long ldc, long long sc, long long batch);

// bf16 operands (raw uint16 bits), fp32 C and accumulation (cublasGemmStridedBatchedEx); false when
// cuBLAS is absent or refuses.
bool gemm_bf16(void* handle, bool ta, bool tb, long long m, long long n, long long k, float alpha, const void* a,
               long long lda, long long sa, const void* b, long long ldb, long long sb, float beta, float* c,
               long long ldc, long long sc, long long batch);

// TF32 tensor-op math for float32 GEMM (cublasSetMathMode).
void set_tf32(void* handle, bool on);

}  // namespace nl::cuda::cublas

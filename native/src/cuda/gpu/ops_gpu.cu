// The op table for real GPUs: the same op templates as host/ops_emu.cc, launched on the runtime's
// stream; GEMM through cuBLAS when it loaded, the tiled kernel otherwise.
#include <cuda_runtime.h>

#include "cuda/gpu/cublas.h"
#include "cuda/gpu_launch.cuh"
#include "cuda/ops/table.h"
#include "cuda/runtime.h"

namespace nl::cuda {

void* gpu_blas_handle(Runtime* rt);

namespace {

struct GpuExec {
  Runtime* rt;
  cudaStream_t stream;
  explicit GpuExec(void* ctx) : rt(static_cast<Runtime*>(ctx)), stream(static_cast<cudaStream_t>(rt->stream())) {
    int cur = -1;
    if (cudaGetDevice(&cur) != cudaSuccess || cur != rt->device()) cudaSetDevice(rt->device());
  }
  template <class K>
  std::string launch(const K& k, const Launch& l) {
    return gpu_launch(k, l, stream);
  }
  bool gemm_blas(const GemmArgsD& g, std::string&) {
    void* h = gpu_blas_handle(rt);
    if (h == nullptr) return false;
    if (g.dt == DT::F32)
      return cublas::sgemm(h, g.trans_a, g.trans_b, g.m, g.n, g.k, float(g.alpha),
                           static_cast<const float*>(g.a) + g.a_off, g.lda, g.stride_a,
                           static_cast<const float*>(g.b) + g.b_off, g.ldb, g.stride_b, float(g.beta),
                           static_cast<float*>(g.c) + g.c_off, g.ldc, g.stride_c, g.batch);
    if (g.dt == DT::F64)
      return cublas::dgemm(h, g.trans_a, g.trans_b, g.m, g.n, g.k, g.alpha, static_cast<const double*>(g.a) + g.a_off,
                           g.lda, g.stride_a, static_cast<const double*>(g.b) + g.b_off, g.ldb, g.stride_b, g.beta,
                           static_cast<double*>(g.c) + g.c_off, g.ldc, g.stride_c, g.batch);
    return false;
  }
  bool has_blas() const { return gpu_blas_handle(rt) != nullptr; }
  bool gemm_bf16_blas(const GemmArgsD& g) {
    return cublas::gemm_bf16(gpu_blas_handle(rt), g.trans_a, g.trans_b, g.m, g.n, g.k, float(g.alpha), g.a, g.lda,
                             g.stride_a, g.b, g.ldb, g.stride_b, float(g.beta), static_cast<float*>(g.c) + g.c_off,
                             g.ldc, g.stride_c, g.batch);
  }
  int precision() const { return rt->precision(); }
  int32_t* fault() const { return rt->fault_word(); }
  void* scratch(size_t bytes, std::string& err) {
    void* p = nullptr;
    err = rt->alloc(bytes > 0 ? bytes : 1, false, &p);
    return err.empty() ? p : nullptr;
  }
  void release(void* p) { rt->free(p); }
};

}  // namespace

const OpTable& gpu_ops() {
  using ExecType = GpuExec;
  static const OpTable table{NL_CUDA_OPS(NL_CUDA_OP_ENTRY)};
  return table;
}

}  // namespace nl::cuda

// CUDA ops: optimizer updates: SGD, AdamW, Muon (momentum, Newton-Schulz, apply), delta momentum, DMGD, M3, preconditioned momentum, grad-norm clipping.
// Args structs + `template <class Exec> std::string <name>_op(Exec&, const Args&)`; kernels in
// cuda/kernels/optim*.h. The multi-step updates (Newton–Schulz, delta momentum's products, DMGD's
// memory, M3) are composed in TypeScript (packages/optim/src/kernels/cuda*.ts) of these ops and
// the GEMM op; the binding (binding/cuda_optim.cc) has checked every pointer and extent.
#pragma once
#include <string>

#include "cuda/kernels/optim.h"
#include "cuda/kernels/optim_reduce.h"
#include "cuda/kernels/strided.h"

#define NL_CUDA_OPS_OPTIM(X)          \
  X(optim_ew, OptimEwArgs)            \
  X(optim_sumsq, OptimSumSqArgs)      \
  X(optim_finalize, OptimFinalizeArgs) \
  X(optim_ns_norm, OptimNsNormArgs)   \
  X(optim_ew_multi, OptimEwMultiArgs)

namespace nl::cuda {

// One elementwise update (kernels/optim.h) over n elements.
struct OptimEwArgs {
  int kind;
  DT dt;  // T of the 'T' slots: F32 or F64
  int64_t n;
  void* t[kOptimSlots];  // at their first element; null where unused or absent
  const double* s;       // device scalar or null
  double h[8];
  int flags;
};

// partial[0..blocks) = the blocks' sums of squares of a[0..n).
struct OptimSumSqArgs {
  DT dt;
  const void* a;
  int64_t n;
  double* partial;
  int64_t blocks;
};

// out[0] = sqrt(Σ partial[0..count)) when take_sqrt, else mul·Σ.
struct OptimFinalizeArgs {
  const double* partial;
  int64_t count;
  double* out;
  bool take_sqrt;
  double mul;
};

// dst = src/(‖src‖_F + 1e-7) per [rows, cols] matrix, transposed when rows > cols.
struct OptimNsNormArgs {
  DT dt;
  const void* src;
  void* dst;
  int64_t batch, rows, cols;
};

template <class T, class Exec>
std::string optim_ew_typed(Exec& ex, const OptimEwArgs& g) {
  OptimEwK<T> k{g.kind, g.n, {}, g.s, {}, g.flags};
  for (int i = 0; i < kOptimSlots; ++i) k.t[i] = g.t[i];
  for (int i = 0; i < 8; ++i) k.h[i] = g.h[i];
  return ex.launch(k, launch_1d(g.n));
}

// One update over up to kOptimMultiTensors tensors (same kind, dtype, flags and device scalar).
struct OptimEwMultiArgs {
  int count;
  OptimEwArgs part[kOptimMultiTensors];
};

template <class T, class Exec>
std::string optim_ew_multi_typed(Exec& ex, const OptimEwMultiArgs& g) {
  OptimEwMultiK<T> k{};
  k.count = g.count;
  k.start[0] = 0;
  for (int j = 0; j < g.count; ++j) {
    const OptimEwArgs& a = g.part[j];
    OptimEwK<T>& p = k.part[j];
    p.kind = a.kind;
    p.n = a.n;
    for (int i = 0; i < kOptimSlots; ++i) p.t[i] = a.t[i];
    p.s = a.s;
    for (int i = 0; i < 8; ++i) p.h[i] = a.h[i];
    p.flags = a.flags;
    k.start[j + 1] = k.start[j] + a.n;
  }
  for (int j = g.count; j < kOptimMultiTensors; ++j) k.start[j + 1] = k.start[g.count];
  return k.start[g.count] == 0 ? "" : ex.launch(k, launch_1d(k.start[g.count]));
}

template <class Exec>
std::string optim_ew_multi_op(Exec& ex, const OptimEwMultiArgs& g) {
  if (g.count <= 0) return "";
  if (g.count > kOptimMultiTensors) return "optim: too many tensors for one launch";
  if (g.part[0].dt == DT::F32) return optim_ew_multi_typed<float>(ex, g);
  if (g.part[0].dt == DT::F64) return optim_ew_multi_typed<double>(ex, g);
  return "optim: dtype must be float32 or float64";
}

template <class Exec>
std::string optim_ew_op(Exec& ex, const OptimEwArgs& g) {
  if (g.n <= 0) return "";
  if (g.kind < 0 || g.kind >= kOptimEwCount) return "optim: unknown update code";
  if (g.dt == DT::F32) return optim_ew_typed<float>(ex, g);
  if (g.dt == DT::F64) return optim_ew_typed<double>(ex, g);
  return "optim: dtype must be float32 or float64";
}

template <class Exec>
std::string optim_sumsq_op(Exec& ex, const OptimSumSqArgs& g) {
  if (g.blocks <= 0) return "";
  Launch l;
  l.grid.x = unsigned(g.blocks);
  l.block.x = kOptimThreads;
  l.smem = kOptimThreads * sizeof(double);
  if (g.dt == DT::F32) return ex.launch(SumSqK<float>{static_cast<const float*>(g.a), g.n, g.partial}, l);
  if (g.dt == DT::F64) return ex.launch(SumSqK<double>{static_cast<const double*>(g.a), g.n, g.partial}, l);
  return "optim: dtype must be float32 or float64";
}

template <class Exec>
std::string optim_finalize_op(Exec& ex, const OptimFinalizeArgs& g) {
  Launch l;
  l.block.x = kOptimThreads;
  l.smem = kOptimThreads * sizeof(double);
  return ex.launch(FinalizeK{g.partial, g.count, g.out, g.take_sqrt, g.mul}, l);
}

template <class Exec>
std::string optim_ns_norm_op(Exec& ex, const OptimNsNormArgs& g) {
  if (g.batch <= 0 || g.rows <= 0 || g.cols <= 0) return "";
  Launch l;
  l.grid.x = unsigned(g.batch);
  l.block.x = kOptimThreads;
  l.smem = kOptimThreads * sizeof(double);
  if (g.dt == DT::F32)
    return ex.launch(NsNormK<float>{static_cast<const float*>(g.src), static_cast<float*>(g.dst), g.rows, g.cols}, l);
  if (g.dt == DT::F64)
    return ex.launch(NsNormK<double>{static_cast<const double*>(g.src), static_cast<double*>(g.dst), g.rows, g.cols}, l);
  return "optim: dtype must be float32 or float64";
}

}  // namespace nl::cuda

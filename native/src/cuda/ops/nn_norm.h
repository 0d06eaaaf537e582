// RMSNorm / LayerNorm ops (kernels/nn_norm.h): argument structs and launchers. Pointers arrive
// already offset to their first element (binding/cuda_nn.cc checked every extent); optional
// operands (w, b, dw, db) are null when absent. Statistics are float64.
#pragma once
#include <string>

#include "cuda/kernels/nn_norm.h"
#include "cuda/kernels/strided.h"

// float32 / float64 dispatch of `fn<T>(ex, g)` for the nn launchers.
#define NL_NN_FLOAT_DISPATCH(fn, ex, g, what)             \
  switch ((g).dt) {                                       \
    case DT::F32: return fn<float>(ex, g);                \
    case DT::F64: return fn<double>(ex, g);               \
    default: return what ": dtype must be float32 or float64"; \
  }

namespace nl::cuda {

struct RmsNormFwdArgs {
  DT dt;
  const void* x;  // [rows, d]
  const void* w;  // [d] or null
  void* y;        // [rows, d]
  double* rstd;   // [rows]
  int64_t rows, d;
  double eps;
};

struct RmsNormBwdArgs {
  DT dt;
  const void* g;       // [rows, d]
  const void* x;       // [rows, d]
  const void* w;       // [d] or null
  const double* rstd;  // [rows]
  void* dx;            // [rows, d]
  void* dw;            // [d] or null (not wanted)
  int64_t rows, d;
  double* scratch;     // float64 [scratch_len] for chunked column sums, or null
  int64_t scratch_len;
};

struct LayerNormFwdArgs {
  DT dt;
  const void* x;
  const void* w;  // or null
  const void* b;  // or null
  void* y;
  double* mean;
  double* rstd;
  int64_t rows, d;
  double eps;
};

struct LayerNormBwdArgs {
  DT dt;
  const void* g;
  const void* x;
  const void* w;  // or null
  const double* mean;
  const double* rstd;
  void* dx;
  void* dw;  // or null
  void* db;  // or null
  int64_t rows, d;
  double* scratch;  // float64 [scratch_len] for chunked column sums, or null
  int64_t scratch_len;
};

template <class T, class Exec>
std::string rms_fwd_t(Exec& ex, const RmsNormFwdArgs& g) {
  const unsigned nt = row_threads(g.d);
  RmsFwdK<T> k{static_cast<const T*>(g.x), static_cast<const T*>(g.w), static_cast<T*>(g.y), g.rstd, g.d, g.eps,
               tree_steps(nt), 0};
  return launch_rows(ex, k, g.rows, nt, unsigned(nt * sizeof(double)));
}

template <class T, class Exec>
std::string rms_bwd_t(Exec& ex, const RmsNormBwdArgs& g) {
  const unsigned nt = row_threads(g.d);
  const T* gp = static_cast<const T*>(g.g);
  const T* xp = static_cast<const T*>(g.x);
  RmsBwdK<T> k{gp, xp, static_cast<const T*>(g.w), g.rstd, static_cast<T*>(g.dx), g.d, tree_steps(nt), 0};
  std::string err = launch_rows(ex, k, g.rows, nt, unsigned(nt * sizeof(double)));
  if (err.empty() && g.dw)
    err = col_sum(ex, RmsDwF<T>{gp, xp, g.rstd, g.d}, g.rows, g.d, static_cast<T*>(g.dw), g.scratch, g.scratch_len);
  return err;
}

template <class T, class Exec>
std::string ln_fwd_t(Exec& ex, const LayerNormFwdArgs& g) {
  const unsigned nt = row_threads(g.d);
  LnFwdK<T> k{static_cast<const T*>(g.x), static_cast<const T*>(g.w), static_cast<const T*>(g.b),
              static_cast<T*>(g.y), g.mean, g.rstd, g.d, g.eps, tree_steps(nt), 0};
  return launch_rows(ex, k, g.rows, nt, unsigned(2 * nt * sizeof(double)));
}

template <class T, class Exec>
std::string ln_bwd_t(Exec& ex, const LayerNormBwdArgs& g) {
  const unsigned nt = row_threads(g.d);
  const T* gp = static_cast<const T*>(g.g);
  const T* xp = static_cast<const T*>(g.x);
  LnBwdK<T> k{gp, xp, static_cast<const T*>(g.w), g.mean, g.rstd, static_cast<T*>(g.dx), g.d, tree_steps(nt), 0};
  std::string err = launch_rows(ex, k, g.rows, nt, unsigned(2 * nt * sizeof(double)));
  if (err.empty() && g.dw)
    err = col_sum(ex, LnDwF<T>{gp, xp, g.mean, g.rstd, g.d}, g.rows, g.d, static_cast<T*>(g.dw), g.scratch,
                  g.scratch_len);
  if (err.empty() && g.db)
    err = col_sum(ex, SumRowsF<T>{gp, g.d}, g.rows, g.d, static_cast<T*>(g.db), g.scratch, g.scratch_len);
  return err;
}

template <class Exec>
std::string rms_norm_forward_op(Exec& ex, const RmsNormFwdArgs& g) {
  NL_NN_FLOAT_DISPATCH(rms_fwd_t, ex, g, "rmsNormForward")
}
template <class Exec>
std::string rms_norm_backward_op(Exec& ex, const RmsNormBwdArgs& g) {
  NL_NN_FLOAT_DISPATCH(rms_bwd_t, ex, g, "rmsNormBackward")
}
template <class Exec>
std::string layer_norm_forward_op(Exec& ex, const LayerNormFwdArgs& g) {
  NL_NN_FLOAT_DISPATCH(ln_fwd_t, ex, g, "layerNormForward")
}
template <class Exec>
std::string layer_norm_backward_op(Exec& ex, const LayerNormBwdArgs& g) {
  NL_NN_FLOAT_DISPATCH(ln_bwd_t, ex, g, "layerNormBackward")
}

}  // namespace nl::cuda

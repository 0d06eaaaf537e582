// Embedding, dropout, causal conv1d and cross-entropy ops (kernels/nn_misc.h, kernels/nn_xent.h):
// argument structs and launchers. Pointers arrive offset to their first element; optional
// operands are null when absent.
#pragma once
#include <string>

#include "cuda/kernels/nn_misc.h"
#include "cuda/kernels/nn_xent.h"
#include "cuda/ops/nn_norm.h"

namespace nl::cuda {

struct EmbeddingArgs {
  DT dt;
  const void* src;       // forward: weight [v, d]; backward: g [m, d]
  const int32_t* ids;    // [m]
  void* dst;             // forward: out [m, d]; backward: dw [v, d], zeroed by the caller
  int64_t m, d, v;
};

struct DropoutArgs {
  DT dt;
  const void* x;  // [n]
  void* mask;     // [n]
  void* y;        // [n]
  int64_t n;
  uint32_t seed;
  double p;
};

struct Conv1dFwdArgs {
  DT dt;
  const void* x;     // [b, t, c]
  const void* w;     // [c, k]
  const void* bias;  // [c] or null
  void* y;           // [b, t, c]
  int64_t b, t, c, k;
};

struct Conv1dBwdArgs {
  DT dt;
  const void* g;  // [b, t, c]
  const void* x;
  const void* w;
  void* dx;  // [b, t, c]
  void* dw;  // [c, k] or null
  void* db;  // [c] or null
  int64_t b, t, c, k;
  double* scratch;  // float64 [scratch_len] for chunked column sums, or null
  int64_t scratch_len;
};

struct XentFwdArgs {
  DT dt;
  const void* logits;      // [n, c]
  const int32_t* targets;  // [n]
  void* probs;             // [n, c]
  double* losses;          // [n]
  double* stats;           // [2] (sum, count)
  void* out;               // [1] for 'sum' / 'mean'; null for 'none'
  int64_t n, c;
  int64_t ignore;  // any integer (rows whose target equals it are skipped)
  int mode;  // XentReduction
};

struct XentBwdArgs {
  DT dt;
  const void* probs;
  const int32_t* targets;
  const void* g;        // [n] for 'none', else [1]
  const double* stats;  // [2] from the forward
  void* grad;           // [n, c]
  int64_t n, c;
  int64_t ignore;  // any integer (rows whose target equals it are skipped)
  int mode;
};

template <class T, class Exec>
std::string emb_fwd_t(Exec& ex, const EmbeddingArgs& g) {
  EmbFwdK<T> k{static_cast<const T*>(g.src), g.ids, static_cast<T*>(g.dst), g.m, g.d, g.v, ex.fault()};
  return ex.launch(k, launch_1d(g.m * g.d));
}
template <class T, class Exec>
std::string emb_bwd_t(Exec& ex, const EmbeddingArgs& g) {
  EmbBwdK<T> k{static_cast<const T*>(g.src), g.ids, static_cast<T*>(g.dst), g.m, g.d, g.v};
  return ex.launch(k, launch_1d(g.m * g.d));
}
template <class T, class Exec>
std::string dropout_t(Exec& ex, const DropoutArgs& g) {
  DropoutK<T> k{static_cast<const T*>(g.x), static_cast<T*>(g.mask), static_cast<T*>(g.y), g.n, nl_fmix32(g.seed),
                g.p, T(1.0 / (1.0 - g.p))};
  return ex.launch(k, launch_1d(g.n));
}
template <class T, class Exec>
std::string conv_fwd_t(Exec& ex, const Conv1dFwdArgs& g) {
  const int64_t n = g.b * g.t * g.c;
  ConvFwdK<T> k{static_cast<const T*>(g.x), static_cast<const T*>(g.w), static_cast<const T*>(g.bias),
                static_cast<T*>(g.y), n, g.t, g.c, g.k};
  return ex.launch(k, launch_1d(n));
}
template <class T, class Exec>
std::string conv_bwd_t(Exec& ex, const Conv1dBwdArgs& g) {
  const int64_t n = g.b * g.t * g.c, rows = g.b * g.t;
  const T* gp = static_cast<const T*>(g.g);
  const T* xp = static_cast<const T*>(g.x);
  ConvBwdDxK<T> k{gp, static_cast<const T*>(g.w), static_cast<T*>(g.dx), n, g.t, g.c, g.k};
  std::string err = ex.launch(k, launch_1d(n));
  if (err.empty() && g.dw)
    err = col_sum(ex, ConvDwF<T>{gp, xp, g.t, g.c, g.k}, rows, g.c * g.k, static_cast<T*>(g.dw), g.scratch,
                  g.scratch_len);
  if (err.empty() && g.db)
    err = col_sum(ex, SumRowsF<T>{gp, g.c}, rows, g.c, static_cast<T*>(g.db), g.scratch, g.scratch_len);
  return err;
}
template <class T, class Exec>
std::string xent_fwd_t(Exec& ex, const XentFwdArgs& g) {
  const unsigned nt = row_threads(g.c);
  XentRowK<T> k{static_cast<const T*>(g.logits), g.targets, static_cast<T*>(g.probs), g.losses, g.c, g.ignore,
                tree_steps(nt), 0, ex.fault()};
  std::string err = launch_rows(ex, k, g.n, nt, unsigned(2 * nt * sizeof(double)));
  if (!err.empty() || g.mode == kXentNone) return err;
  Launch l;
  l.block.x = 256;
  l.smem = unsigned(2 * 256 * sizeof(double));
  return ex.launch(XentReduceK<T>{g.losses, g.targets, g.stats, static_cast<T*>(g.out), g.n, g.ignore, g.mode,
                                  tree_steps(256)}, l);
}
template <class T, class Exec>
std::string xent_bwd_t(Exec& ex, const XentBwdArgs& g) {
  XentBwdK<T> k{static_cast<const T*>(g.probs), g.targets, static_cast<const T*>(g.g), g.stats,
                static_cast<T*>(g.grad), g.n, g.c, g.ignore, g.mode};
  return ex.launch(k, launch_1d(g.n * g.c));
}

template <class Exec>
std::string embedding_forward_op(Exec& ex, const EmbeddingArgs& g) {
  NL_NN_FLOAT_DISPATCH(emb_fwd_t, ex, g, "embeddingForward")
}
template <class Exec>
std::string embedding_backward_op(Exec& ex, const EmbeddingArgs& g) {
  NL_NN_FLOAT_DISPATCH(emb_bwd_t, ex, g, "embeddingBackward")
}
template <class Exec>
std::string dropout_forward_op(Exec& ex, const DropoutArgs& g) {
  NL_NN_FLOAT_DISPATCH(dropout_t, ex, g, "dropoutForward")
}
template <class Exec>
std::string causal_conv1d_forward_op(Exec& ex, const Conv1dFwdArgs& g) {
  NL_NN_FLOAT_DISPATCH(conv_fwd_t, ex, g, "causalConv1dForward")
}
template <class Exec>
std::string causal_conv1d_backward_op(Exec& ex, const Conv1dBwdArgs& g) {
  NL_NN_FLOAT_DISPATCH(conv_bwd_t, ex, g, "causalConv1dBackward")
}
template <class Exec>
std::string cross_entropy_forward_op(Exec& ex, const XentFwdArgs& g) {
  NL_NN_FLOAT_DISPATCH(xent_fwd_t, ex, g, "crossEntropyForward")
}
template <class Exec>
std::string cross_entropy_backward_op(Exec& ex, const XentBwdArgs& g) {
  NL_NN_FLOAT_DISPATCH(xent_bwd_t, ex, g, "crossEntropyBackward")
}

}  // namespace nl::cuda

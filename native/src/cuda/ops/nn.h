// CUDA ops: RMSNorm, LayerNorm, embedding, dropout, causal conv1d, cross-entropy (forward and backward).
// Args structs + `template <class Exec> std::string <name>_op(Exec&, const Args&)` in
// ops/nn_norm.h and ops/nn_misc.h; kernels in cuda/kernels/nn_*.h. Listed in NL_CUDA_OPS_NN
// (see ops/table.h). Dropout's backward is an elementwise multiply (binary op).
#pragma once
#include <string>

#include "cuda/launch.h"
#include "cuda/kernels/strided.h"
#include "cuda/ops/nn_misc.h"
#include "cuda/ops/nn_norm.h"

#define NL_CUDA_OPS_NN(X)                         \
  X(rms_norm_forward, RmsNormFwdArgs)             \
  X(rms_norm_backward, RmsNormBwdArgs)            \
  X(layer_norm_forward, LayerNormFwdArgs)         \
  X(layer_norm_backward, LayerNormBwdArgs)        \
  X(embedding_forward, EmbeddingArgs)             \
  X(embedding_backward, EmbeddingArgs)            \
  X(dropout_forward, DropoutArgs)                 \
  X(causal_conv1d_forward, Conv1dFwdArgs)         \
  X(causal_conv1d_backward, Conv1dBwdArgs)        \
  X(cross_entropy_forward, XentFwdArgs)           \
  X(cross_entropy_backward, XentBwdArgs)

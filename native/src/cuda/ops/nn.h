// CUDA ops: RMSNorm, LayerNorm, embedding, dropout, causal conv1d, cross-entropy (forward and backward).
// Args structs + `template <class Exec> std::string <name>_op(Exec&, const Args&)`; kernels in
// cuda/kernels/. List each op in NL_CUDA_OPS_NN (see ops/table.h).
#pragma once
#include <string>

#include "cuda/launch.h"
#include "cuda/kernels/strided.h"

#define NL_CUDA_OPS_NN(X)

namespace nl::cuda {}  // namespace nl::cuda

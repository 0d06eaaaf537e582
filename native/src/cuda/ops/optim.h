// CUDA ops: optimizer updates: SGD, AdamW, Muon (momentum, Newton-Schulz, apply), delta momentum, DMGD, M3, preconditioned momentum, grad-norm clipping.
// Args structs + `template <class Exec> std::string <name>_op(Exec&, const Args&)`; kernels in
// cuda/kernels/. List each op in NL_CUDA_OPS_OPTIM (see ops/table.h).
#pragma once
#include <string>

#include "cuda/launch.h"
#include "cuda/kernels/strided.h"

#define NL_CUDA_OPS_OPTIM(X)

namespace nl::cuda {}  // namespace nl::cuda

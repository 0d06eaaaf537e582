// CUDA ops: reductions, softmax, scans, triangle, where, assign, fillView, prodBackward.
// Args structs + `template <class Exec> std::string <name>_op(Exec&, const Args&)`; kernels in
// cuda/kernels/. List each op in NL_CUDA_OPS_LAYOUT (see ops/table.h).
#pragma once
#include <string>

#include "cuda/launch.h"
#include "cuda/kernels/strided.h"

#define NL_CUDA_OPS_LAYOUT(X)

namespace nl::cuda {}  // namespace nl::cuda

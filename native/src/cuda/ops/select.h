// CUDA ops: indexSelect, indexAdd, gather, scatterAdd, scatterSpread, topk, multinomial, checkIds.
// Args structs + `template <class Exec> std::string <name>_op(Exec&, const Args&)`; kernels in
// cuda/kernels/. List each op in NL_CUDA_OPS_SELECT (see ops/table.h).
#pragma once
#include <string>

#include "cuda/launch.h"
#include "cuda/kernels/strided.h"

#define NL_CUDA_OPS_SELECT(X)

namespace nl::cuda {}  // namespace nl::cuda

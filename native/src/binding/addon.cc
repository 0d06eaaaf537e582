// Module entry: collects the entry points of every binding file.
#include <napi.h>

#include "binding/register.h"

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  nl::binding::register_info(env, exports);
  nl::binding::register_axpy(env, exports);
  nl::binding::register_gemm(env, exports);
  nl::binding::register_tensor_ops(env, exports);
  nl::binding::register_memory_delta_rule(env, exports);
  nl::binding::register_memory_titans(env, exports);
  nl::binding::register_memory_titans_mlp(env, exports);
  nl::binding::register_memory_self_mod(env, exports);
  nl::binding::register_nn(env, exports);
  nl::binding::register_optim(env, exports);
  return exports;
}
}  // namespace

NODE_API_MODULE(nl_native, Init)

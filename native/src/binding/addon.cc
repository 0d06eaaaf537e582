// Module entry: collects the entry points of every binding file.
#include <napi.h>

#include "binding/register.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <cstdlib>
#include <cstring>

namespace {

// Large host arrays (tensor reads, typed arrays made by kernels) are allocated and dropped at a
// high rate. glibc serves blocks above its mmap threshold (128 KiB, adapting up) with fresh
// mmap()s and returns them with munmap(): every read of a multi-MB tensor then pays a page fault
// per 4 KiB page plus TLB shootdowns to the worker threads, which made reading a 1024x1024
// matmul's result (4 MB) cost more than the matmul itself. Keeping blocks up to 32 MiB in the heap
// (and trimming it only past 256 MiB of free top) makes such a read one memcpy of mapped memory.
// Process-wide; NL_MALLOC_TUNING=0 leaves glibc's defaults.
bool tune_malloc() {
#if defined(__GLIBC__)
  const char* env = std::getenv("NL_MALLOC_TUNING");
  if (env != nullptr && std::strcmp(env, "0") == 0) return false;
  bool ok = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1;
  ok = mallopt(M_TRIM_THRESHOLD, 256 << 20) == 1 && ok;
  return ok;
#else
  return false;
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  static const bool malloc_tuned = tune_malloc();
  exports.Set("mallocTuned", Napi::Boolean::New(env, malloc_tuned));
  nl::binding::register_info(env, exports);
  nl::binding::register_axpy(env, exports);
  nl::binding::register_gemm(env, exports);
  nl::binding::register_tensor_ops(env, exports);
  nl::binding::register_memory_delta_rule(env, exports);
  nl::binding::register_memory_titans(env, exports);
  nl::binding::register_memory_titans_mlp(env, exports);
  nl::binding::register_memory_self_mod(env, exports);
  nl::binding::register_memory_cms(env, exports);
  nl::binding::register_decode(env, exports);
  nl::binding::register_decode_hope(env, exports);
  nl::binding::register_decode_titans(env, exports);
  nl::binding::register_nn(env, exports);
  nl::binding::register_optim(env, exports);
  nl::binding::register_cuda_runtime(env, exports);
  nl::binding::register_cuda_ops(env, exports);
  nl::binding::register_cuda_layout(env, exports);
  nl::binding::register_cuda_select(env, exports);
  nl::binding::register_cuda_nn(env, exports);
  nl::binding::register_cuda_optim(env, exports);
  nl::binding::register_cuda_memory(env, exports);
  nl::binding::register_cuda_self_mod(env, exports);
  nl::binding::register_cuda_titans(env, exports);
  nl::binding::register_cuda_emu(env, exports);
  return exports;
}
}  // namespace

NODE_API_MODULE(nl_native, Init)

// Each binding file registers its entry points on the module's exports object.
#pragma once
#include <napi.h>

namespace nl::binding {
void register_info(Napi::Env env, Napi::Object exports);
void register_axpy(Napi::Env env, Napi::Object exports);
void register_gemm(Napi::Env env, Napi::Object exports);
void register_tensor_ops(Napi::Env env, Napi::Object exports);
void register_memory_delta_rule(Napi::Env env, Napi::Object exports);
void register_memory_titans(Napi::Env env, Napi::Object exports);
void register_memory_titans_mlp(Napi::Env env, Napi::Object exports);
void register_memory_self_mod(Napi::Env env, Napi::Object exports);
void register_memory_cms(Napi::Env env, Napi::Object exports);
void register_decode(Napi::Env env, Napi::Object exports);
void register_decode_hope(Napi::Env env, Napi::Object exports);
void register_decode_titans(Napi::Env env, Napi::Object exports);
void register_nn(Napi::Env env, Napi::Object exports);
void register_optim(Napi::Env env, Napi::Object exports);
void register_cuda_runtime(Napi::Env env, Napi::Object exports);
void register_cuda_ops(Napi::Env env, Napi::Object exports);
void register_cuda_layout(Napi::Env env, Napi::Object exports);
void register_cuda_select(Napi::Env env, Napi::Object exports);
void register_cuda_nn(Napi::Env env, Napi::Object exports);
void register_cuda_optim(Napi::Env env, Napi::Object exports);
void register_cuda_memory(Napi::Env env, Napi::Object exports);
void register_cuda_self_mod(Napi::Env env, Napi::Object exports);
void register_cuda_titans(Napi::Env env, Napi::Object exports);
void register_cuda_emu(Napi::Env env, Napi::Object exports);
}  // namespace nl::binding

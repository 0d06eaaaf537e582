// Entry points of the emulated CUDA device's race check (cuda/host/emu_order.h): the thread order
// its kernels run in, and a test-only racy kernel that shows the check catches what it should.
#include <napi.h>

#include "binding/cuda_args.h"
#include "binding/register.h"
#include "cuda/host/emu_order.h"

namespace nl::binding {
namespace {

// cudaEmuSetThreadOrder(order?) -> the order before ('forward' | 'reverse' | 'shuffle:<seed>' |
// 'check'); without an argument only reads it.
Napi::Value SetThreadOrder(const Napi::CallbackInfo& info) {
  const std::string op = "cudaEmuSetThreadOrder";
  const std::string before = cuda::emu_order_name(cuda::emu_order());
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[0].IsString()) throw_type(info.Env(), op, "order must be a string");
    cuda::EmuOrder next;
    std::string err = cuda::parse_emu_order(info[0].As<Napi::String>().Utf8Value(), next);
    if (!err.empty()) throw_range(info.Env(), op, err);
    cuda::emu_order() = next;
  }
  return Napi::String::New(info.Env(), before);
}

// cudaEmuRaceProbe(kind, out, threads): a race_probe.h kernel on `out` (float32 of the emulated
// device, `threads` elements for kinds 0 and 2, one for 1 and 3) in one block of `threads`.
Napi::Value RaceProbe(const Napi::CallbackInfo& info) {
  const std::string op = "cudaEmuRaceProbe";
  expect_args(info, op, 3);
  int64_t kind = count(info, 0, op, "kind");
  if (kind > 3) throw_range(info.Env(), op, "kind must be 0..3, got " + std::to_string(kind));
  DevBuf out = dev_buffer(info, 1, op, "out");
  int64_t threads = count(info, 2, op, "threads");
  if (threads < 1 || threads > 1024) throw_range(info.Env(), op, "threads must be 1..1024");
  if (!out.rt->emulated()) throw_type(info.Env(), op, "out must be a buffer of the emulated device");
  const size_t need = (kind == 1 || kind == 3 ? 1 : size_t(threads)) * sizeof(float);
  if (out.bytes < need) throw_range(info.Env(), op, "out holds " + std::to_string(out.bytes) + " bytes, needs " + std::to_string(need));
  std::string err = cuda::emu_race_probe(out.rt, int(kind), static_cast<float*>(out.ptr), unsigned(threads));
  if (!err.empty()) throw Napi::Error::New(info.Env(), "nl." + op + ": " + err);
  return info.Env().Undefined();
}

}  // namespace

void register_cuda_emu(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaEmuSetThreadOrder", Napi::Function::New(env, SetThreadOrder, "cudaEmuSetThreadOrder"));
  exports.Set("cudaEmuRaceProbe", Napi::Function::New(env, RaceProbe, "cudaEmuRaceProbe"));
}

}  // namespace nl::binding

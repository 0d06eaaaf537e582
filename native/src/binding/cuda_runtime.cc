// CUDA device runtime entry points: open a device (real, or the emulated one), allocate, free,
// copy in and out (sync and async), synchronise, memory stats. Buffers are numbers (base
// addresses) that the ops look up in the runtime's buffer table.
#include <napi.h>

#include <cstring>
#include <memory>
#include <vector>

#include "binding/cuda_args.h"
#include "binding/register.h"
#include "cuda/cuda_api.h"
#include "cuda/runtime.h"

namespace nl::binding {
namespace {

// cudaDeviceCount() -> GPUs the CUDA runtime sees (0 without CUDA compiled in or without a driver).
// What @nl/tensor asks at import; unlike info() it does not look for cuBLAS.
Napi::Value DeviceCount(const Napi::CallbackInfo& info) {
  cuda::RuntimeInfo rt = cuda::query();
  return Napi::Number::New(info.Env(), rt.compiled ? double(rt.devices.size()) : 0.0);
}

std::vector<cuda::Runtime*>& opened() {
  static auto* v = new std::vector<cuda::Runtime*>();
  return *v;
}

cuda::Runtime* runtime_arg(const Napi::CallbackInfo& info, size_t i, const std::string& op) {
  int64_t id = count(info, i, op, "device id");
  if (id >= int64_t(opened().size())) throw_range(info.Env(), op, "unknown device id " + std::to_string(id));
  return opened()[size_t(id)];
}

// cudaOpen(index, emulated) -> { id, name, emulated, gemm }
Napi::Value Open(const Napi::CallbackInfo& info) {
  const std::string op = "cudaOpen";
  expect_args(info, op, 2);
  int64_t index = count(info, 0, op, "index");
  bool emulated = info[1].ToBoolean();
  std::string err;
  cuda::Runtime* rt = cuda::runtime_for(int(index < 1 << 20 ? index : 1 << 20), emulated, err);
  if (rt == nullptr) throw Napi::Error::New(info.Env(), "nl." + op + ": " + err);
  auto& v = opened();
  size_t id = 0;
  while (id < v.size() && v[id] != rt) ++id;
  if (id == v.size()) v.push_back(rt);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("id", double(id));
  o.Set("name", rt->name());
  o.Set("emulated", rt->emulated());
  o.Set("index", rt->device());
  o.Set("gemm", rt->gemm_backend());
  return o;
}

// cudaAlloc(id, bytes, zero) -> address
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  const std::string op = "cudaAlloc";
  expect_args(info, op, 3);
  cuda::Runtime* rt = runtime_arg(info, 0, op);
  int64_t bytes = count(info, 1, op, "bytes");
  void* p = nullptr;
  check_cuda(info.Env(), op, rt->alloc(size_t(bytes > 0 ? bytes : 1), info[2].ToBoolean(), &p), rt);
  return Napi::Number::New(info.Env(), double(reinterpret_cast<uintptr_t>(p)));
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  const std::string op = "cudaFree";
  expect_args(info, op, 1);
  DevBuf b = dev_buffer(info, 0, op, "buffer");
  b.rt->free(b.ptr);
  return info.Env().Undefined();
}

struct HostSpan {
  void* data;
  size_t bytes;
};
HostSpan host_span(const Napi::CallbackInfo& info, size_t i, const std::string& op) {
  if (!info[i].IsTypedArray()) throw_type(info.Env(), op, "host data must be a typed array");
  Napi::TypedArray ta = info[i].As<Napi::TypedArray>();
  return {static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset(), ta.ByteLength()};
}

// cudaUpload(buffer, byteOffset, typedArray)
Napi::Value Upload(const Napi::CallbackInfo& info) {
  const std::string op = "cudaUpload";
  expect_args(info, op, 3);
  DevBuf b = dev_buffer(info, 0, op, "buffer");
  int64_t off = count(info, 1, op, "byteOffset");
  HostSpan h = host_span(info, 2, op);
  if (uint64_t(off) + h.bytes > b.bytes)
    throw_range(info.Env(), op, std::to_string(h.bytes) + " bytes at offset " + std::to_string(off) +
                                    " do not fit a buffer of " + std::to_string(b.bytes));
  if (h.bytes > 0) check_cuda(info.Env(), op, b.rt->upload(static_cast<char*>(b.ptr) + off, h.data, h.bytes), b.rt);
  return info.Env().Undefined();
}

// cudaDownload(buffer, byteOffset, typedArray): fills the array (blocks until queued work is done)
Napi::Value Download(const Napi::CallbackInfo& info) {
  const std::string op = "cudaDownload";
  expect_args(info, op, 3);
  DevBuf b = dev_buffer(info, 0, op, "buffer");
  int64_t off = count(info, 1, op, "byteOffset");
  HostSpan h = host_span(info, 2, op);
  if (uint64_t(off) + h.bytes > b.bytes)
    throw_range(info.Env(), op, std::to_string(h.bytes) + " bytes at offset " + std::to_string(off) +
                                    " do not fit a buffer of " + std::to_string(b.bytes));
  if (h.bytes > 0)
    check_cuda(info.Env(), op, b.rt->download(h.data, static_cast<const char*>(b.ptr) + off, h.bytes), b.rt);
  return info.Env().Undefined();
}

// The copy is queued on the main thread (stream order kept); a pool thread waits for it.
class DownloadWorker final : public Napi::AsyncWorker {
 public:
  DownloadWorker(Napi::Env env, cuda::Runtime::Pending* p, size_t bytes)
      : Napi::AsyncWorker(env), pending_(p), bytes_(bytes), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    std::string err = pending_->wait();
    if (!err.empty()) SetError("nl.cudaDownloadAsync: " + err);
  }
  void OnOK() override {
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(Env(), bytes_);
    if (bytes_ > 0) std::memcpy(ab.Data(), pending_->data(), bytes_);
    pending_.reset();
    deferred_.Resolve(ab);
  }
  void OnError(const Napi::Error& e) override {
    pending_.reset();
    deferred_.Reject(e.Value());
  }

 private:
  std::unique_ptr<cuda::Runtime::Pending> pending_;
  size_t bytes_;
  Napi::Promise::Deferred deferred_;
};

// cudaDownloadAsync(buffer, byteOffset, bytes) -> Promise<ArrayBuffer>
Napi::Value DownloadAsync(const Napi::CallbackInfo& info) {
  const std::string op = "cudaDownloadAsync";
  expect_args(info, op, 3);
  DevBuf b = dev_buffer(info, 0, op, "buffer");
  int64_t off = count(info, 1, op, "byteOffset");
  int64_t bytes = count(info, 2, op, "bytes");
  if (uint64_t(off) + uint64_t(bytes) > b.bytes)
    throw_range(info.Env(), op, std::to_string(bytes) + " bytes at offset " + std::to_string(off) +
                                    " do not fit a buffer of " + std::to_string(b.bytes));
  cuda::Runtime::Pending* p = nullptr;
  check_cuda(info.Env(), op, b.rt->download_async(static_cast<const char*>(b.ptr) + off, size_t(bytes), &p), b.rt);
  auto* w = new DownloadWorker(info.Env(), p, size_t(bytes));
  Napi::Promise promise = w->promise();
  w->Queue();
  return promise;
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  expect_args(info, "cudaSynchronize", 1);
  cuda::Runtime* rt = runtime_arg(info, 0, "cudaSynchronize");
  check_cuda(info.Env(), "cudaSynchronize", rt->synchronize(), rt);
  return info.Env().Undefined();
}

Napi::Value Memory(const Napi::CallbackInfo& info) {
  expect_args(info, "cudaMemory", 1);
  cuda::MemInfo m = runtime_arg(info, 0, "cudaMemory")->mem();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("free", double(m.free));
  o.Set("total", double(m.total));
  o.Set("inUse", double(m.in_use));
  o.Set("cached", double(m.cached));
  o.Set("peak", double(m.peak));
  o.Set("allocs", double(m.allocs));
  return o;
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  expect_args(info, "cudaEmptyCache", 1);
  runtime_arg(info, 0, "cudaEmptyCache")->empty_cache();
  return info.Env().Undefined();
}

// cudaSetMatmulPrecision(id, 0 | 1 | 2) -> the precision now (0 highest, 1 high = TF32, 2 medium = bf16)
Napi::Value SetPrecision(const Napi::CallbackInfo& info) {
  const std::string op = "cudaSetMatmulPrecision";
  expect_args(info, op, 2);
  cuda::Runtime* rt = runtime_arg(info, 0, op);
  int64_t p = count(info, 1, op, "precision");
  if (p > 2) throw_range(info.Env(), op, "precision must be 0 (highest), 1 (high) or 2 (medium), got " + std::to_string(p));
  rt->set_precision(int(p));
  return Napi::Number::New(info.Env(), rt->precision());
}

}  // namespace

void register_cuda_runtime(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaDeviceCount", Napi::Function::New(env, DeviceCount, "cudaDeviceCount"));
  exports.Set("cudaOpen", Napi::Function::New(env, Open, "cudaOpen"));
  exports.Set("cudaAlloc", Napi::Function::New(env, Alloc, "cudaAlloc"));
  exports.Set("cudaFree", Napi::Function::New(env, Free, "cudaFree"));
  exports.Set("cudaUpload", Napi::Function::New(env, Upload, "cudaUpload"));
  exports.Set("cudaDownload", Napi::Function::New(env, Download, "cudaDownload"));
  exports.Set("cudaDownloadAsync", Napi::Function::New(env, DownloadAsync, "cudaDownloadAsync"));
  exports.Set("cudaSynchronize", Napi::Function::New(env, Synchronize, "cudaSynchronize"));
  exports.Set("cudaMemory", Napi::Function::New(env, Memory, "cudaMemory"));
  exports.Set("cudaEmptyCache", Napi::Function::New(env, EmptyCache, "cudaEmptyCache"));
  exports.Set("cudaSetMatmulPrecision", Napi::Function::New(env, SetPrecision, "cudaSetMatmulPrecision"));
}

}  // namespace nl::binding

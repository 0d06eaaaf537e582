// The emulated CUDA device and the runtime registry. Emulated "device" memory is host memory
// (256-byte aligned, like cudaMalloc) behind the same caching allocator as a GPU, within a budget
// (NL_CUDA_EMU_MEMORY bytes, default 8 GiB) so out-of-memory paths run in CI; kernels run through
// the host emulator (host/emulate.h). A GPU runtime comes from make_gpu_runtime (runtime_gpu.cu).
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cuda/host/caching_allocator.h"
#include "cuda/host/emu_order.h"
#include "cuda/ops/table.h"
#include "cuda/runtime.h"

namespace nl::cuda {
namespace {

int64_t emu_budget() {
  const char* env = std::getenv("NL_CUDA_EMU_MEMORY");
  if (env != nullptr) {
    char* end = nullptr;
    long long v = std::strtoll(env, &end, 10);
    if (end != env && v > 0) return v;
  }
  return int64_t(8) << 30;
}

class EmuRuntime final : public Runtime {
 public:
  EmuRuntime()
      : budget_(emu_budget()),
        alloc_(
            [this](size_t bytes, std::string& err) -> void* {
              if (int64_t(bytes) > budget_ - reserved_) {
                err = "out of memory";
                return nullptr;
              }
              void* p = std::aligned_alloc(256, bytes);
              if (p == nullptr) {
                err = "host allocation failed";
                return nullptr;
              }
              reserved_ += int64_t(bytes);
              sizes_[p] = bytes;
              return p;
            },
            [this](void* p) {
              reserved_ -= int64_t(sizes_[p]);
              sizes_.erase(p);
              std::free(p);
            }) {}

  bool emulated() const override { return true; }
  int device() const override { return 0; }
  std::string name() const override { return "emulated CUDA device (host memory, kernels run by the host emulator)"; }

  std::string alloc(size_t bytes, bool zero, void** out) override {
    std::string err;
    void* p = alloc_.alloc(bytes, err);
    if (p == nullptr) {
      MemInfo m = mem();
      return "out of memory on the emulated CUDA device: asked for " + std::to_string(bytes) + " bytes, " +
             std::to_string(m.free) + " free of " + std::to_string(m.total) + " (" + std::to_string(m.in_use) +
             " in use by tensors)";
    }
    if (zero) std::memset(p, 0, bytes);
    track_buffer(p, this, bytes);
    *out = p;
    return "";
  }
  void free(void* p) override {
    untrack_buffer(p);
    alloc_.free(p);
  }
  std::string upload(void* dst, const void* src, size_t bytes) override {
    std::memcpy(dst, src, bytes);
    return "";
  }
  std::string download(void* dst, const void* src, size_t bytes) override {
    std::memcpy(dst, src, bytes);
    return take_fault();
  }
  int32_t* fault_word() override { return fault_; }
  // The pending fault as an error (and clears it), or "".
  std::string take_fault() {
    if (fault_[0] == 0) return "";
    std::string e = fault_message(fault_[0], fault_[1]);
    fault_[0] = fault_[1] = 0;
    return e;
  }
  struct EmuPending final : Pending {
    std::vector<char> bytes;
    std::string fault;
    std::string wait() override { return fault; }
    const void* data() const override { return bytes.data(); }
  };
  std::string download_async(const void* src, size_t bytes, Pending** out) override {
    auto p = std::make_unique<EmuPending>();
    p->bytes.assign(static_cast<const char*>(src), static_cast<const char*>(src) + bytes);
    p->fault = take_fault();
    *out = p.release();
    return "";
  }
  std::string synchronize() override { return take_fault(); }
  MemInfo mem() override {
    MemInfo m;
    m.total = budget_;
    m.free = budget_ - reserved_;
    m.in_use = alloc_.in_use();
    m.cached = alloc_.cached();
    m.peak = alloc_.peak();
    m.allocs = alloc_.allocs();
    return m;
  }
  void empty_cache() override { alloc_.release_cache(); }
  const OpTable& ops() const override { return emu_ops(); }
  void* stream() const override { return nullptr; }
  std::string gemm_backend() const override { return "nl tiled kernel (emulated)"; }
  // the emulator has no tensor cores: TF32 ('high') stays fp32; 'medium' rounds operands to bf16
  void set_precision(int p) override { precision_ = p; }
  int precision() const override { return precision_; }

 private:
  int64_t budget_;
  int precision_ = 0;
  int32_t fault_[2] = {0, 0};
  int64_t reserved_ = 0;
  std::unordered_map<void*, size_t> sizes_;
  CachingAllocator alloc_;
};

struct BufferInfo {
  Runtime* rt;
  size_t bytes;
};
std::mutex table_mu;
std::unordered_map<const void*, BufferInfo>& buffer_table() {
  static auto* t = new std::unordered_map<const void*, BufferInfo>();
  return *t;
}

}  // namespace

void track_buffer(const void* p, Runtime* rt, size_t bytes) {
  std::lock_guard<std::mutex> lock(table_mu);
  buffer_table()[p] = {rt, bytes};
}

void untrack_buffer(const void* p) {
  std::lock_guard<std::mutex> lock(table_mu);
  buffer_table().erase(p);
}

void emu_live_buffers(Runtime* rt, std::vector<std::pair<char*, size_t>>& out) {
  std::lock_guard<std::mutex> lock(table_mu);
  out.clear();
  for (const auto& [p, info] : buffer_table())
    if (info.rt == rt) out.emplace_back(static_cast<char*>(const_cast<void*>(p)), info.bytes);
}

bool find_buffer(const void* p, Runtime** rt, size_t* bytes) {
  std::lock_guard<std::mutex> lock(table_mu);
  auto it = buffer_table().find(p);
  if (it == buffer_table().end()) return false;
  *rt = it->second.rt;
  *bytes = it->second.bytes;
  return true;
}

Runtime* runtime_for(int index, bool emulated, std::string& err) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (emulated) {
    if (index != 0) {
      err = "the emulated CUDA backend has one device (cuda:0), asked for cuda:" + std::to_string(index);
      return nullptr;
    }
    // the schedule of the emulator's threads (host/emu_order.h), read when the device first opens
    static std::string order_err = [] {
      const char* env = std::getenv("NL_CUDA_EMU_ORDER");
      return env == nullptr || *env == '\0' ? std::string() : parse_emu_order(env, emu_order());
    }();
    if (!order_err.empty()) {
      err = "NL_CUDA_EMU_ORDER: " + order_err;
      return nullptr;
    }
    // never destroyed: buffers may outlive module teardown
    static EmuRuntime* emu = new EmuRuntime();
    return emu;
  }
  static std::vector<Runtime*> gpus(64, nullptr);
  if (index < 0 || index >= int(gpus.size())) {
    err = "CUDA device index " + std::to_string(index) + " out of range";
    return nullptr;
  }
  if (gpus[size_t(index)] == nullptr) gpus[size_t(index)] = make_gpu_runtime(index, err);
  return gpus[size_t(index)];
}

}  // namespace nl::cuda

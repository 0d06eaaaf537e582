// A CUDA device as the tensor backend sees it: buffers from a caching allocator, host<->device
// copies, a synchronise point and the op table (ops/table.h) whose kernels run on it.
// Two implementations behind one interface:
//   GpuRuntime (runtime_gpu.cu)  a real GPU: one stream, cudaMalloc + caching, pinned staging
//   EmuRuntime (host/runtime_emu.cc)  "device" memory in host RAM, kernels run by the host
//     emulator (host/emulate.h); what CI uses to run every CUDA kernel without a GPU
// Functions return "" on success or an error message; nothing throws across this interface.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace nl::cuda {

struct OpTable;

struct MemInfo {
  int64_t free = 0, total = 0;  // the device's (cudaMemGetInfo; for the emulator its budget)
  int64_t in_use = 0;           // bytes in live buffers (rounded to allocator blocks)
  int64_t cached = 0;           // bytes held by the caching allocator for reuse
  int64_t peak = 0;             // high-water mark of in_use
  int64_t allocs = 0;           // device allocations made (cache misses)
};

class Runtime {
 public:
  virtual ~Runtime() = default;
  virtual bool emulated() const = 0;
  virtual int device() const = 0;
  virtual std::string name() const = 0;
  // A buffer of `bytes` (> 0), zero-filled when `zero`.
  virtual std::string alloc(size_t bytes, bool zero, void** out) = 0;
  virtual void free(void* p) = 0;
  virtual std::string upload(void* dst, const void* src, size_t bytes) = 0;
  // Device -> host, blocking until the bytes are in `dst`.
  virtual std::string download(void* dst, const void* src, size_t bytes) = 0;
  // Queues a device -> host copy into host memory that stays valid until wait() returns
  // (pinned staging on a GPU); wait() may run on another thread.
  struct Pending {
    virtual ~Pending() = default;
    virtual std::string wait() = 0;
    virtual const void* data() const = 0;
  };
  virtual std::string download_async(const void* src, size_t bytes, Pending** out) = 0;
  virtual std::string synchronize() = 0;
  virtual MemInfo mem() = 0;
  // Drops every cached (free) block back to the device.
  virtual void empty_cache() = 0;
  virtual const OpTable& ops() const = 0;
  // The stream kernels are queued on (cudaStream_t; null for the emulator).
  virtual void* stream() const = 0;
  // The fault word kernels report bad indices into (two int32: code, value; see hd.h nl_fault).
  virtual int32_t* fault_word() = 0;
  // Which GEMM serves this device: "cublas (libcublas.so.13)", "nl tiled kernel", ...
  virtual std::string gemm_backend() const = 0;
  // float32 GEMM precision, as torch.set_float32_matmul_precision: 0 'highest' (exact fp32, the
  // default), 1 'high' (TF32 tensor cores, cuBLAS math mode), 2 'medium' (operands rounded to
  // bfloat16, products accumulated in fp32: cublasGemmStridedBatchedEx, or the tiled kernel on
  // bf16-rounded copies where cuBLAS is absent and in the emulator).
  virtual void set_precision(int p) = 0;
  virtual int precision() const = 0;
};

// The runtime of CUDA device `index` (created on first use), or of the emulated device when
// `emulated`. On failure returns nullptr and sets `err`.
Runtime* runtime_for(int index, bool emulated, std::string& err);

// The live buffer that starts at `p`: its runtime and size. False for unknown or freed pointers.
bool find_buffer(const void* p, Runtime** rt, size_t* bytes);

// Buffer table maintenance (called by the runtimes).
void track_buffer(const void* p, Runtime* rt, size_t bytes);
void untrack_buffer(const void* p);

// "nn.embedding: an index was out of range (300) ..." for a fault word's code and value.
inline std::string fault_message(int32_t code, int32_t value) {
  const std::string v = std::to_string(value);
  std::string what = code == 1   ? "nn.embedding: id " + v + " is out of range for the embedding table"
                     : code == 2 ? "nn.crossEntropy: target " + v + " is out of range for the classes"
                                 : "fault code " + std::to_string(code) + " (value " + v + ")";
  return "a kernel queued earlier found bad input: " + what +
         " (CUDA kernels report bad indices at the next read from the device; the outputs of that op are not valid)";
}

// Real-GPU runtime factory: nullptr + err when CUDA is not compiled in or the device is unusable.
Runtime* make_gpu_runtime(int index, std::string& err);

}  // namespace nl::cuda

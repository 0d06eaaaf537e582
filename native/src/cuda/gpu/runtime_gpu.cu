// A real GPU behind the Runtime interface (cuda/runtime.h): one non-blocking stream per device,
// cudaMalloc behind the caching allocator, uploads through pinned staging buffers (the host
// array is copied out before the call returns, the device copy runs on the stream), downloads
// into pinned memory with an event the async readback waits on from a worker thread.
#include <cuda_runtime.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "cuda/gpu/cublas.h"
#include "cuda/host/caching_allocator.h"
#include "cuda/ops/table.h"
#include "cuda/runtime.h"

namespace nl::cuda {

const OpTable& gpu_ops();

namespace {

std::string cuda_err(const std::string& what, cudaError_t e) {
  (void)cudaGetLastError();
  return what + " failed: " + cudaGetErrorString(e);
}

class GpuRuntime final : public Runtime {
 public:
  GpuRuntime(int index, cudaStream_t stream, std::string name)
      : index_(index),
        stream_(stream),
        name_(std::move(name)),
        alloc_(
            [index](size_t bytes, std::string& err) -> void* {
              void* p = nullptr;
              cudaSetDevice(index);
              cudaError_t e = cudaMalloc(&p, bytes);
              if (e != cudaSuccess) {
                err = cuda_err("cudaMalloc", e);
                return nullptr;
              }
              return p;
            },
            [index](void* p) {
              cudaSetDevice(index);
              cudaFree(p);
            }) {
    // NL_CUBLAS_DISABLE=1 runs our tiled GEMM kernel on the GPU (tests and comparisons)
    const char* off = std::getenv("NL_CUBLAS_DISABLE");
    blas_ = (off != nullptr && off[0] == '1') ? nullptr : cublas::create_handle(stream_);
    if (cudaMalloc(reinterpret_cast<void**>(&fault_), kFaultBytes) != cudaSuccess ||
        cudaMallocHost(reinterpret_cast<void**>(&fault_host_), kFaultBytes) != cudaSuccess ||
        cudaMemset(fault_, 0, kFaultBytes) != cudaSuccess) {
      (void)cudaGetLastError();
      fault_ = nullptr;  // kernels then skip fault reports
    }
    std::string where;
    gemm_ = blas_ ? "cuBLAS (" + std::string(cublas::api(&where) ? where : "") + ")"
                  : "nl tiled kernel (" + (off != nullptr && off[0] == '1' ? std::string("NL_CUBLAS_DISABLE=1") : (cublas::api(&where), where)) + ")";
  }

  bool emulated() const override { return false; }
  int device() const override { return index_; }
  std::string name() const override { return name_; }
  void* stream() const override { return stream_; }
  void* blas() const { return blas_; }
  std::string gemm_backend() const override { return gemm_; }
  void set_precision(int p) override {
    precision_ = p;
    if (blas_) cublas::set_tf32(blas_, p == 1);
  }
  int precision() const override { return precision_; }
  const OpTable& ops() const override { return gpu_ops(); }

  std::string alloc(size_t bytes, bool zero, void** out) override {
    cudaSetDevice(index_);
    std::string err;
    void* p = alloc_.alloc(bytes, err);
    if (p == nullptr) {
      MemInfo m = mem();
      return "CUDA out of memory on cuda:" + std::to_string(index_) + ": asked for " + std::to_string(bytes) +
             " bytes, " + std::to_string(m.free) + " free of " + std::to_string(m.total) + " (" +
             std::to_string(m.in_use) + " in use by tensors; " + err + ")";
    }
    if (zero) {
      cudaError_t e = cudaMemsetAsync(p, 0, bytes, stream_);
      if (e != cudaSuccess) {
        alloc_.free(p);
        return cuda_err("cudaMemsetAsync", e);
      }
    }
    track_buffer(p, this, bytes);
    *out = p;
    return "";
  }
  void free(void* p) override {
    untrack_buffer(p);
    alloc_.free(p);  // stream-ordered reuse: the next user is queued on the same stream
  }

  std::string upload(void* dst, const void* src, size_t bytes) override {
    cudaSetDevice(index_);
    if (bytes > kStagingBytes) {
      cudaError_t e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_);
      if (e == cudaSuccess) e = cudaStreamSynchronize(stream_);
      return e == cudaSuccess ? "" : cuda_err("cudaMemcpy (host to device)", e);
    }
    Staging& s = staging_[next_staging_];
    next_staging_ = (next_staging_ + 1) % kStagingSlots;
    if (s.ptr == nullptr) {
      cudaError_t e = cudaMallocHost(&s.ptr, kStagingBytes);
      if (e == cudaSuccess) e = cudaEventCreateWithFlags(&s.done, cudaEventDisableTiming);
      if (e != cudaSuccess) return cuda_err("cudaMallocHost (staging)", e);
    } else {
      cudaError_t e = cudaEventSynchronize(s.done);  // the slot's previous copy has left it
      if (e != cudaSuccess) return cuda_err("cudaEventSynchronize", e);
    }
    std::memcpy(s.ptr, src, bytes);
    cudaError_t e = cudaMemcpyAsync(dst, s.ptr, bytes, cudaMemcpyHostToDevice, stream_);
    if (e == cudaSuccess) e = cudaEventRecord(s.done, stream_);
    return e == cudaSuccess ? "" : cuda_err("cudaMemcpyAsync (host to device)", e);
  }

  std::string download(void* dst, const void* src, size_t bytes) override {
    cudaSetDevice(index_);
    cudaError_t e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_);
    return e == cudaSuccess ? sync_and_take_fault("device to host copy (or a kernel queued before it)")
                            : cuda_err("device to host copy", e);
  }
  int32_t* fault_word() override { return fault_; }
  // Queues (on the stream, after everything queued so far) a copy of the fault word into `host`
  // and its reset, so a fault is read once and a later kernel's fault is not cleared by mistake.
  cudaError_t queue_fault_read(void* host) {
    if (fault_ == nullptr) {
      std::memset(host, 0, kFaultBytes);
      return cudaSuccess;
    }
    cudaError_t e = cudaMemcpyAsync(host, fault_, kFaultBytes, cudaMemcpyDeviceToHost, stream_);
    return e == cudaSuccess ? cudaMemsetAsync(fault_, 0, kFaultBytes, stream_) : e;
  }
  // Synchronises the stream (with the fault word read at its end): an error, a fault, or "".
  std::string sync_and_take_fault(const char* what) {
    cudaError_t e = fault_ != nullptr ? queue_fault_read(fault_host_) : cudaSuccess;
    if (e == cudaSuccess) e = cudaStreamSynchronize(stream_);
    if (e != cudaSuccess) return cuda_err(what, e);
    return fault_ != nullptr ? fault_text(fault_host_) : "";
  }
  static std::string fault_text(const int32_t* w) {
    return (w == nullptr || w[0] == 0) ? "" : fault_message(w[0], w[1]);
  }

  struct GpuPending final : Pending {
    void* host = nullptr;
    cudaEvent_t done = nullptr;
    size_t bytes = 0;  // the data; the fault word's copy follows it
    ~GpuPending() override {
      if (done) cudaEventDestroy(done);
      if (host) cudaFreeHost(host);
    }
    std::string wait() override {
      cudaError_t e = cudaEventSynchronize(done);
      if (e != cudaSuccess) return cuda_err("device to host copy (or a kernel queued before it)", e);
      int32_t w[2];
      std::memcpy(w, static_cast<char*>(host) + bytes, sizeof w);
      return fault_text(w);
    }
    const void* data() const override { return host; }
  };
  std::string download_async(const void* src, size_t bytes, Pending** out) override {
    cudaSetDevice(index_);
    auto p = std::make_unique<GpuPending>();
    p->bytes = bytes;
    cudaError_t e = cudaMallocHost(&p->host, bytes + kFaultBytes);
    if (e == cudaSuccess) e = cudaEventCreateWithFlags(&p->done, cudaEventDisableTiming);
    if (e == cudaSuccess) e = cudaMemcpyAsync(p->host, src, bytes, cudaMemcpyDeviceToHost, stream_);
    if (e == cudaSuccess) e = queue_fault_read(static_cast<char*>(p->host) + bytes);
    if (e == cudaSuccess) e = cudaEventRecord(p->done, stream_);
    if (e != cudaSuccess) return cuda_err("async device to host copy", e);
    *out = p.release();
    return "";
  }

  std::string synchronize() override {
    cudaSetDevice(index_);
    return sync_and_take_fault("cudaStreamSynchronize");
  }

  MemInfo mem() override {
    MemInfo m;
    size_t f = 0, t = 0;
    cudaSetDevice(index_);
    if (cudaMemGetInfo(&f, &t) == cudaSuccess) {
      m.free = int64_t(f);
      m.total = int64_t(t);
    } else {
      (void)cudaGetLastError();
    }
    m.in_use = alloc_.in_use();
    m.cached = alloc_.cached();
    m.peak = alloc_.peak();
    m.allocs = alloc_.allocs();
    return m;
  }
  void empty_cache() override {
    cudaSetDevice(index_);
    cudaStreamSynchronize(stream_);
    alloc_.release_cache();
  }

 private:
  static constexpr size_t kStagingBytes = size_t(8) << 20;
  static constexpr int kStagingSlots = 4;
  struct Staging {
    void* ptr = nullptr;
    cudaEvent_t done = nullptr;
  };
  int index_;
  cudaStream_t stream_;
  std::string name_;
  CachingAllocator alloc_;
  void* blas_ = nullptr;
  int precision_ = 0;
  static constexpr size_t kFaultBytes = 2 * sizeof(int32_t);
  int32_t* fault_ = nullptr;       // device fault word (code, value)
  int32_t* fault_host_ = nullptr;  // pinned: where synchronise points read it
  std::string gemm_;
  Staging staging_[kStagingSlots];
  int next_staging_ = 0;
};

}  // namespace

Runtime* make_gpu_runtime(int index, std::string& err) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    err = cuda_err("cudaGetDeviceCount", e);
    return nullptr;
  }
  if (index < 0 || index >= count) {
    err = "cuda:" + std::to_string(index) + " does not exist (" + std::to_string(count) + " CUDA device" +
          (count == 1 ? "" : "s") + " found)";
    return nullptr;
  }
  e = cudaSetDevice(index);
  cudaStream_t stream = nullptr;
  if (e == cudaSuccess) e = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
  if (e != cudaSuccess) {
    err = cuda_err("creating the stream of cuda:" + std::to_string(index), e);
    return nullptr;
  }
  cudaDeviceProp p{};
  cudaGetDeviceProperties(&p, index);
  return new GpuRuntime(index, stream, p.name);
}

// Used by GpuExec (ops_gpu.cu).
void* gpu_blas_handle(Runtime* rt) { return static_cast<GpuRuntime*>(rt)->blas(); }

}  // namespace nl::cuda

// A caching allocator in the manner of PyTorch's CUDA allocator, reduced to what one stream needs:
// sizes round up to 512 B (to 2 MiB above 1 MiB); freed blocks wait in a free list keyed by that
// size and are reused by the next request of the same size. Frees are stream-ordered, so a block
// freed while kernels that use it are queued can serve the next allocation on the same stream.
// On a failed device allocation the cache is released and the allocation retried once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace nl::cuda {

class CachingAllocator {
 public:
  // raw_alloc returns nullptr (and may set its error text) when the device is out of memory.
  using RawAlloc = std::function<void*(size_t, std::string&)>;
  using RawFree = std::function<void(void*)>;
  CachingAllocator(RawAlloc a, RawFree f) : raw_alloc_(std::move(a)), raw_free_(std::move(f)) {}
  ~CachingAllocator();

  static size_t round(size_t bytes);
  // nullptr with `err` set when even the retry fails.
  void* alloc(size_t bytes, std::string& err);
  void free(void* p);
  void release_cache();
  int64_t in_use() const { return in_use_; }
  int64_t cached() const { return cached_; }
  int64_t peak() const { return peak_; }
  int64_t allocs() const { return allocs_; }

 private:
  RawAlloc raw_alloc_;
  RawFree raw_free_;
  std::mutex mu_;
  std::map<size_t, std::vector<void*>> free_;
  std::unordered_map<void*, size_t> live_;
  int64_t in_use_ = 0, cached_ = 0, peak_ = 0, allocs_ = 0;
};

}  // namespace nl::cuda

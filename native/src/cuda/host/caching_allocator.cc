#include "cuda/host/caching_allocator.h"

namespace nl::cuda {

CachingAllocator::~CachingAllocator() {
  release_cache();
  // live blocks at exit belong to tensors the process never freed; the device frees them at exit
}

size_t CachingAllocator::round(size_t bytes) {
  const size_t small = 512, large = size_t(2) << 20;
  if (bytes == 0) bytes = 1;
  if (bytes <= (size_t(1) << 20)) return (bytes + small - 1) / small * small;
  return (bytes + large - 1) / large * large;
}

void* CachingAllocator::alloc(size_t bytes, std::string& err) {
  const size_t size = round(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  void* p = nullptr;
  auto it = free_.find(size);
  if (it != free_.end() && !it->second.empty()) {
    p = it->second.back();
    it->second.pop_back();
    cached_ -= int64_t(size);
  } else {
    p = raw_alloc_(size, err);
    if (p == nullptr) {
      // give the cache back to the device and try once more
      for (auto& [sz, blocks] : free_)
        for (void* b : blocks) raw_free_(b);
      free_.clear();
      cached_ = 0;
      err.clear();
      p = raw_alloc_(size, err);
      if (p == nullptr) return nullptr;
    }
    ++allocs_;
  }
  live_[p] = size;
  in_use_ += int64_t(size);
  if (in_use_ > peak_) peak_ = in_use_;
  return p;
}

void CachingAllocator::free(void* p) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(p);
  if (it == live_.end()) return;
  const size_t size = it->second;
  live_.erase(it);
  in_use_ -= int64_t(size);
  free_[size].push_back(p);
  cached_ += int64_t(size);
}

void CachingAllocator::release_cache() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [sz, blocks] : free_)
    for (void* b : blocks) raw_free_(b);
  free_.clear();
  cached_ = 0;
}

}  // namespace nl::cuda

// Implementation of the persistent pool declared in thread_pool.h.
#include "cpu/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define NL_PAUSE() _mm_pause()
#else
#define NL_PAUSE() std::this_thread::yield()
#endif

namespace nl {
namespace {

thread_local bool tls_in_pool = false;

class Pool {
 public:
  Pool() { resize(default_threads()); }
  ~Pool() { stop_workers(); }

  static int default_threads() {
    if (const char* env = std::getenv("NL_NUM_THREADS")) {
      int n = std::atoi(env);
      if (n > 0) return n;
    }
    return std::max(1, hardware_threads());
  }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int n) {
    std::lock_guard<std::mutex> call_lock(call_mu_);
    stop_workers();
    stop_ = false;
    for (int i = 1; i < n; ++i) workers_.emplace_back([this] { worker_loop(); });
  }

  void run(int64_t n, int64_t grain, const RangeFn& fn) {
    if (n <= 0) return;
    grain = std::max<int64_t>(1, grain);
    int64_t max_parts = (n + grain - 1) / grain;
    int parts = static_cast<int>(std::min<int64_t>(size(), max_parts));
    if (parts <= 1 || tls_in_pool) {
      fn(0, n);
      return;
    }
    std::lock_guard<std::mutex> call_lock(call_mu_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      job_ = &fn;
      job_n_ = n;
      job_parts_ = parts;
      next_part_.store(0, std::memory_order_relaxed);
      remaining_.store(parts, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    tls_in_pool = true;
    work_on_parts();
    tls_in_pool = false;
    // Wait for the workers' parts: spin briefly, then sleep.
    for (int spin = 0; remaining_.load(std::memory_order_acquire) != 0; ++spin) {
      if (spin < 20000) {
        NL_PAUSE();
      } else {
        std::unique_lock<std::mutex> lock(mu_);
        done_cv_.wait(lock, [this] { return remaining_.load(std::memory_order_acquire) == 0; });
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    job_ = nullptr;
  }

 private:
  void work_on_parts() {
    for (;;) {
      int p = next_part_.fetch_add(1, std::memory_order_relaxed);
      if (p >= job_parts_) return;
      int64_t begin = job_n_ * p / job_parts_;
      int64_t end = job_n_ * (p + 1) / job_parts_;
      (*job_)(begin, end);
      if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mu_);
        done_cv_.notify_all();
      }
    }
  }

  void worker_loop() {
    tls_in_pool = true;
    uint64_t seen = generation_.load(std::memory_order_acquire);
    for (;;) {
      // Spin a little for low latency between back-to-back kernels, then sleep.
      bool got = false;
      for (int spin = 0; spin < 4000; ++spin) {
        if (generation_.load(std::memory_order_acquire) != seen || stop_flag_.load()) {
          got = true;
          break;
        }
        NL_PAUSE();
      }
      std::unique_lock<std::mutex> lock(mu_);
      if (!got) cv_.wait(lock, [&] { return stop_ || generation_.load() != seen; });
      if (stop_) return;
      seen = generation_.load(std::memory_order_acquire);
      if (job_ == nullptr) continue;
      lock.unlock();
      work_on_parts();
    }
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      stop_flag_.store(true);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    stop_flag_.store(false);
  }

  std::vector<std::thread> workers_;
  std::mutex call_mu_;  // one parallel_for at a time (JS thread and async workers may both call)
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  const RangeFn* job_ = nullptr;
  int64_t job_n_ = 0;
  int job_parts_ = 0;
  std::atomic<int> next_part_{0};
  std::atomic<int> remaining_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_flag_{false};
  bool stop_ = false;
};

Pool& pool() {
  static Pool* p = new Pool();  // leaked on purpose: no joins during static destruction
  return *p;
}

}  // namespace

int hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}
int num_threads() { return pool().size(); }
void set_num_threads(int n) { pool().resize(n > 0 ? n : Pool::default_threads()); }
void parallel_for(int64_t n, int64_t grain, const RangeFn& fn) { pool().run(n, grain, fn); }

}  // namespace nl

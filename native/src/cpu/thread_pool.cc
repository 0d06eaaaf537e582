// Implementation of the persistent pool declared in thread_pool.h.
#include "cpu/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
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

  // Runs fn over `parts` near-equal ranges of [0, n), claimed by the threads as they get free.
  void run(int64_t n, int64_t parts64, const RangeFn& fn) {
    if (n <= 0) return;
    const int parts = static_cast<int>(std::clamp<int64_t>(parts64, 1, std::min<int64_t>(n, 1 << 30)));
    if (parts <= 1 || size() <= 1 || tls_in_pool) {
      fn(0, n);
      return;
    }
    std::lock_guard<std::mutex> call_lock(call_mu_);
    Job job{&fn, n, parts, 0};
    {
      std::lock_guard<std::mutex> lock(mu_);
      job.id = ++job_id_;
      job_ = job;
      // remaining_ is set before the first part can be claimed (the release store of ticket_).
      remaining_.store(parts, std::memory_order_relaxed);
      ticket_.store(uint64_t(job.id) << 32, std::memory_order_release);
    }
    cv_.notify_all();
    error_ = nullptr;
    failed_.store(false, std::memory_order_relaxed);
    tls_in_pool = true;
    work_on_parts(job);
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
    // A part that threw (e.g. std::bad_alloc sizing its scratch) is rethrown on the calling
    // thread, after every part has finished: an exception escaping a worker thread would
    // std::terminate the process.
    std::exception_ptr err;
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::swap(err, error_);
    }
    if (err) std::rethrow_exception(err);
  }

 private:
  struct Job {
    const RangeFn* fn;
    int64_t n;
    int parts;
    uint32_t id;  // wraps; only ever compared with the current job's
  };

  // Claims and runs parts of `job` until none is left. A claim is a compare-and-swap on ticket_
  // (job id in the high 32 bits, next part in the low 32), so a thread still holding a finished
  // job can never take a part of the next one.
  void work_on_parts(const Job& job) {
    const uint64_t tag = uint64_t(job.id) << 32;
    uint64_t t = ticket_.load(std::memory_order_acquire);
    for (;;) {
      if ((t & ~uint64_t(0xffffffff)) != tag) return;
      const int64_t p = static_cast<int64_t>(t & 0xffffffff);
      if (p >= job.parts) return;
      if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      // Near-equal ranges without overflow: the first n % parts ranges get one extra item.
      const int64_t q = job.n / job.parts, r = job.n % job.parts;
      const int64_t begin = p * q + std::min<int64_t>(p, r);
      const int64_t end = begin + q + (p < r ? 1 : 0);
      if (!failed_.load(std::memory_order_relaxed)) {  // after a failure the other parts are skipped
        try {
          (*job.fn)(begin, end);
        } catch (...) {
          std::lock_guard<std::mutex> lock(mu_);
          if (!error_) error_ = std::current_exception();
          failed_.store(true, std::memory_order_relaxed);
        }
      }
      if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mu_);
        done_cv_.notify_all();
      }
      t = ticket_.load(std::memory_order_acquire);
    }
  }

  void worker_loop() {
    tls_in_pool = true;
    uint32_t seen = job_id_seen();
    for (;;) {
      // Spin a little for low latency between back-to-back kernels, then sleep.
      bool got = false;
      for (int spin = 0; spin < 4000; ++spin) {
        if (static_cast<uint32_t>(ticket_.load(std::memory_order_acquire) >> 32) != seen || stop_flag_.load()) {
          got = true;
          break;
        }
        NL_PAUSE();
      }
      std::unique_lock<std::mutex> lock(mu_);
      if (!got) cv_.wait(lock, [&] { return stop_ || job_id_ != seen; });
      if (stop_) return;
      seen = job_id_;
      const Job job = job_;
      lock.unlock();
      work_on_parts(job);
    }
  }

  uint32_t job_id_seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return job_id_;
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
  Job job_{nullptr, 0, 0, 0};  // the current job, read under mu_
  uint32_t job_id_ = 0;        // id of the last job handed out (under mu_)
  std::atomic<uint64_t> ticket_{0};
  std::atomic<int> remaining_{0};
  std::atomic<bool> stop_flag_{false};
  std::exception_ptr error_;          // first exception of the current job's parts (under mu_)
  std::atomic<bool> failed_{false};   // a part of the current job threw
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
void parallel_for(int64_t n, int64_t grain, const RangeFn& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  pool().run(n, std::min<int64_t>(num_threads(), (n + grain - 1) / grain), fn);
}
void parallel_for_dynamic(int64_t n, int64_t chunk, const RangeFn& fn) {
  if (n <= 0) return;
  chunk = std::max<int64_t>(1, chunk);
  pool().run(n, (n + chunk - 1) / chunk, fn);
}

}  // namespace nl

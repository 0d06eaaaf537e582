// Persistent CPU thread pool shared by every kernel family.
//
// parallel_for(n, grain, fn) splits [0, n) into at most num_threads() contiguous ranges of at
// least `grain` items and runs fn(begin, end) on them; the calling thread takes part. Workers
// stay alive between calls (briefly spinning, then sleeping), so a batch of small kernels does not
// pay thread start-up per call. A parallel_for issued from inside a worker runs inline.
// parallel_for_dynamic(n, chunk, fn) cuts [0, n) into ceil(n / chunk) ranges that threads claim
// one at a time as they become free: for uneven work, or cores shared with other processes.
#pragma once
#include <cstdint>
#include <functional>

namespace nl {

using RangeFn = std::function<void(int64_t begin, int64_t end)>;

// Number of threads kernels use (the caller included). Defaults to the hardware concurrency,
// or NL_NUM_THREADS from the environment when set.
int num_threads();
// Resize the pool; n <= 0 restores the default. Not to be called from inside a kernel.
void set_num_threads(int n);
// Hardware threads reported by the OS.
int hardware_threads();
void parallel_for(int64_t n, int64_t grain, const RangeFn& fn);
void parallel_for_dynamic(int64_t n, int64_t chunk, const RangeFn& fn);

}  // namespace nl

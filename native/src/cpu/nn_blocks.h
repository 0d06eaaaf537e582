// Deterministic blocked row reductions for the nn kernels: rows are cut into fixed blocks
// (the size depends only on the row count), each block sums into its own float64 partials in
// parallel, then partials are added in block order. Results never depend on the thread count.
#pragma once
#include <cstdint>
#include <vector>

#include "cpu/thread_pool.h"

namespace nl {

// Block size for `rows`: at least 64 rows, and at most ~256 blocks.
inline int64_t reduction_block_rows(int64_t rows) {
  const int64_t by_count = (rows + 255) / 256;
  return by_count > 64 ? by_count : 64;
}

// Rows per parallel_for task so that a task touches ~16K elements of width d.
inline int64_t row_grain(int64_t d) {
  const int64_t g = 16384 / (d > 0 ? d : 1);
  return g > 1 ? g : 1;
}

// body(r0, r1, p0, p1) handles rows [r0, r1), accumulating into zeroed partials p0 [n0] and
// p1 [n1]; afterwards out0 = sum of p0 over blocks (when out0 is non-null), same for out1.
template <typename Body>
void blocked_rows(int64_t rows, int64_t n0, int64_t n1, double* out0, double* out1, const Body& body) {
  const int64_t bs = reduction_block_rows(rows);
  const int64_t nblocks = (rows + bs - 1) / bs;
  const int64_t stride = n0 + n1;
  std::vector<double> partial(static_cast<size_t>(nblocks * stride), 0.0);
  parallel_for(nblocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t r0 = blk * bs;
      const int64_t r1 = r0 + bs < rows ? r0 + bs : rows;
      double* p = partial.data() + blk * stride;
      body(r0, r1, p, p + n0);
    }
  });
  if (out0) for (int64_t j = 0; j < n0; ++j) out0[j] = 0;
  if (out1) for (int64_t j = 0; j < n1; ++j) out1[j] = 0;
  for (int64_t blk = 0; blk < nblocks; ++blk) {
    const double* p = partial.data() + blk * stride;
    if (out0) for (int64_t j = 0; j < n0; ++j) out0[j] += p[j];
    if (out1) for (int64_t j = 0; j < n1; ++j) out1[j] += p[n0 + j];
  }
}

}  // namespace nl

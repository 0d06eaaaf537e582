// Index validation on the device: the first element (row-major position) of a strided int32
// operand whose value lies outside [lo, hi), and that value. Two launches:
//   CheckK        kCheckThreads threads per block, at most kCheckBlocks blocks; each block
//                 reduces the lowest bad position of its grid-stride share into partial[block]
//   CheckReduceK  one block: the lowest of the partials -> result[0] (-1 when none) and the
//                 value there -> result[1]
// Positions are int64; "none" is n inside the reductions.
#pragma once
#include "cuda/launch.h"
#include "cuda/kernels/strided.h"

namespace nl::cuda {

constexpr unsigned kCheckThreads = 256;
constexpr int64_t kCheckBlocks = 256;

struct MinI64 {
  NL_HD int64_t operator()(int64_t a, int64_t b) const { return a < b ? a : b; }
};

struct CheckK {
  using Regs = NoRegs;
  Shape shape;
  int64_t n;
  const int32_t* idx;
  Strides si;
  int64_t lo, hi;
  int64_t* partial;  // [gridDim.x]
  NL_HD int phases() const { return 2 + tree_steps(kCheckThreads); }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    int64_t* buf = reinterpret_cast<int64_t*>(smem);
    const unsigned tid = at.tid();
    if (phase == 0) {
      int64_t first = n;
      for (int64_t i = gs_start(at); i < n; i += gs_step(at)) {
        const int64_t v = idx[si.at(shape, i)];
        if (v < lo || v >= hi) {
          first = i;  // positions only grow along the loop
          break;
        }
      }
      buf[tid] = first;
    } else if (phase <= tree_steps(kCheckThreads)) {
      tree_step(buf, tid, kCheckThreads >> phase, MinI64{});
    } else if (tid == 0) {
      partial[at.block.x] = buf[0];
    }
  }
};

struct CheckReduceK {
  using Regs = NoRegs;
  Shape shape;
  int64_t n, blocks;
  const int32_t* idx;
  Strides si;
  const int64_t* partial;
  int64_t* result;  // [2]
  NL_HD int phases() const { return 2 + tree_steps(kCheckThreads); }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    int64_t* buf = reinterpret_cast<int64_t*>(smem);
    const unsigned tid = at.tid();
    if (phase == 0) {
      int64_t first = n;
      for (int64_t b = tid; b < blocks; b += kCheckThreads) first = partial[b] < first ? partial[b] : first;
      buf[tid] = first;
    } else if (phase <= tree_steps(kCheckThreads)) {
      tree_step(buf, tid, kCheckThreads >> phase, MinI64{});
    } else if (tid == 0) {
      const int64_t pos = buf[0];
      result[0] = pos < n ? pos : -1;
      result[1] = pos < n ? int64_t(idx[si.at(shape, pos)]) : 0;
    }
  }
};

}  // namespace nl::cuda

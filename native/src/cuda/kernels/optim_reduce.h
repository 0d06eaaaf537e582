// Reductions of the optimizer updates, in double, deterministic (fixed order per launch shape):
//   SumSqK:     partial[b] = Σ a[i]² over the elements block b visits (grid-stride), b < grid.x;
//   FinalizeK:  one block: out[0] = sqrt(Σ partial) or mul·Σ partial;
//   NsNormK:    Newton–Schulz's first step, one block per matrix of a [batch, rows, cols] stack:
//               dst = src/(‖src‖_F + 1e-7), transposed to [cols, rows] when rows > cols.
// Block tree reductions as phases (hd.h tree_step), kOptimThreads threads, smem kOptimThreads doubles.
#pragma once
#include "cuda/launch.h"

namespace nl::cuda {

constexpr unsigned kOptimThreads = 256;

struct DoubleAdd {
  NL_HD double operator()(double a, double b) const { return a + b; }
};

template <class T>
struct SumSqK {
  using Regs = NoRegs;
  const T* a;
  int64_t n;
  double* partial;  // [grid.x]
  NL_HD int phases() const { return tree_steps(kOptimThreads) + 2; }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    double* buf = reinterpret_cast<double*>(smem);
    const unsigned tid = at.thread.x;
    if (phase == 0) {
      double acc = 0;
      for (int64_t i = gs_start(at); i < n; i += gs_step(at)) acc += double(a[i]) * double(a[i]);
      buf[tid] = acc;
    } else if (phase <= tree_steps(kOptimThreads)) {
      tree_step(buf, tid, kOptimThreads >> phase, DoubleAdd{});
    } else if (tid == 0) {
      partial[at.block.x] = buf[0];
    }
  }
};

struct FinalizeK {
  using Regs = NoRegs;
  const double* partial;
  int64_t count;
  double* out;
  bool take_sqrt;
  double mul;
  NL_HD int phases() const { return tree_steps(kOptimThreads) + 2; }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    double* buf = reinterpret_cast<double*>(smem);
    const unsigned tid = at.thread.x;
    if (phase == 0) {
      double acc = 0;
      for (int64_t i = tid; i < count; i += kOptimThreads) acc += partial[i];
      buf[tid] = acc;
    } else if (phase <= tree_steps(kOptimThreads)) {
      tree_step(buf, tid, kOptimThreads >> phase, DoubleAdd{});
    } else if (tid == 0) {
      out[0] = take_sqrt ? nl_sqrt(buf[0]) : buf[0] * mul;
    }
  }
};

template <class T>
struct NsNormK {
  using Regs = NoRegs;
  const T* src;  // [batch, rows, cols]
  T* dst;        // [batch, r, n]: r = min(rows, cols); transposed when rows > cols
  int64_t rows, cols;
  NL_HD int phases() const { return tree_steps(kOptimThreads) + 2; }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    double* buf = reinterpret_cast<double*>(smem);
    const unsigned tid = at.thread.x;
    const int64_t mn = rows * cols;
    const T* s = src + int64_t(at.block.x) * mn;
    T* d = dst + int64_t(at.block.x) * mn;
    if (phase == 0) {
      double acc = 0;
      for (int64_t i = tid; i < mn; i += kOptimThreads) acc += double(s[i]) * double(s[i]);
      buf[tid] = acc;
    } else if (phase <= tree_steps(kOptimThreads)) {
      tree_step(buf, tid, kOptimThreads >> phase, DoubleAdd{});
    } else {
      const double inv = 1.0 / (nl_sqrt(buf[0]) + 1e-7);
      const bool tr = rows > cols;
      for (int64_t e = tid; e < mn; e += kOptimThreads) {
        const int64_t i = e / cols, j = e % cols;
        d[tr ? j * rows + i : e] = T(double(s[e]) * inv);
      }
    }
  }
};

}  // namespace nl::cuda

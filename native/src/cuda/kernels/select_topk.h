// topk indices and multinomial draws, the contracts of the CPU kernels (select-kernels.ts).
//
// topk: a block per row, k rounds of selection. The order is total: NaN before any number (NaN
// counts as largest, and comes first for largest = false too, as on the CPU), then by value
// (descending when `largest`), ties by the lower index. Round j finds the first element after
// the round j-1 pick in that order: each thread scans its strided share, a smem tree reduction
// takes the best, thread 0 writes index j. Phases per round: scan, tree_steps(threads), pick.
//
// multinomial: the CPU sums each row sequentially in double and binary-searches the running sums
// (cdf) for u * total, u drawn from the host's Generator. To give the same draws the device sums
// in the same order: MnPrepK (a thread per row) checks the weights and sums each row; MnSampleK
// (a thread per draw) scans the running sums, identical to the CPU's, for the first one > u * total.
#pragma once
#include "cuda/launch.h"
#include "cuda/kernels/strided.h"

namespace nl::cuda {

template <class T>
struct TopkCand {
  T v;
  int64_t i;  // -1: none
};

template <class T>
NL_HD bool topk_before(const TopkCand<T>& a, const TopkCand<T>& b, bool largest) {
  if (a.i < 0) return false;
  if (b.i < 0) return true;
  const bool na = nl_isnan(a.v), nb = nl_isnan(b.v);
  if (na != nb) return na;
  if (!na && a.v != b.v) return largest ? a.v > b.v : a.v < b.v;
  return a.i < b.i;
}

template <class T>
struct TopkK {
  using Regs = NoRegs;
  using Cand = TopkCand<T>;
  Shape row_shape;  // x's shape with dim d = 1: rows are its elements
  Strides sx;
  int64_t n, k, inner, step;  // step: x's stride of dim d
  const T* x;
  int32_t* out;  // [outer, k, inner] contiguous
  bool largest;
  int steps;  // tree_steps(threads)

  NL_HD int phases() const { return int(k) * (steps + 2); }

  struct Best {
    bool largest;
    NL_HD Cand operator()(const Cand& a, const Cand& b) const { return topk_before(b, a, largest) ? b : a; }
  };

  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    Cand* buf = reinterpret_cast<Cand*>(smem);  // [threads] candidates, then [1] the last pick
    const unsigned tid = at.tid(), threads = at.threads();
    const int per = steps + 2, sub = phase % per;
    const int64_t j = phase / per;
    if (sub == 0) {
      const int64_t base = sx.at(row_shape, at.block.x);
      Cand prev = buf[threads];
      if (j == 0) prev.i = -1;
      Cand best{T(0), -1};
      for (int64_t e = tid; e < n; e += threads) {
        const Cand c{x[base + e * step], e};
        if (prev.i >= 0 && !topk_before(prev, c, largest)) continue;
        if (topk_before(c, best, largest)) best = c;
      }
      buf[tid] = best;
    } else if (sub <= steps) {
      tree_step(buf, tid, threads >> sub, Best{largest});
    } else if (tid == 0) {
      const int64_t row = at.block.x, p = row / inner, q = row % inner;
      const int64_t pick = buf[0].i;
      out[(p * k + j) * inner + q] = int32_t(pick < 0 ? 0 : pick);
      buf[threads] = buf[0];
    }
  }
};

// Per row r of weights w [rows, n] (strided): err[r] = -1 when every weight is finite and >= 0
// and the sum is > 0, else the first bad column, or n when the row sums to 0; total[r] = the sum.
template <class T>
struct MnPrepK {
  using Regs = NoRegs;
  int64_t rows, n;
  const T* w;
  int64_t off, rs, cs;  // w[r][i] = w[off + r * rs + i * cs]
  int32_t* err;
  double* total;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t r = gs_start(at); r < rows; r += gs_step(at)) {
      double t = 0;
      int64_t bad = -1;
      for (int64_t i = 0; i < n; ++i) {
        const double v = double(w[off + r * rs + i * cs]);
        if (!(v >= 0) || !(v - v == 0)) {
          bad = i;
          break;
        }
        t += v;
      }
      if (bad < 0 && !(t > 0)) bad = n;
      err[r] = int32_t(bad);
      total[r] = t;
    }
  }
};

// out [rows, samples] int32: draw s of row r is the first i whose running sum exceeds
// u[r * samples + s] * total[r] (n - 1 when none does); rows with err[r] != -1 draw 0.
template <class T>
struct MnSampleK {
  using Regs = NoRegs;
  int64_t rows, n, samples;
  const T* w;
  int64_t off, rs, cs;
  const int32_t* err;
  const double* total;
  const double* u;
  int32_t* out;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t e = gs_start(at); e < rows * samples; e += gs_step(at)) {
      const int64_t r = e / samples;
      int64_t pick = 0;
      if (err[r] == -1) {
        const double target = u[e] * total[r];
        double t = 0;
        pick = n - 1;
        for (int64_t i = 0; i < n; ++i) {
          t += double(w[off + r * rs + i * cs]);
          if (t > target) {
            pick = i;
            break;
          }
        }
      }
      out[e] = int32_t(pick);
    }
  }
};

}  // namespace nl::cuda

// Row-reduction plumbing of the nn kernels: one block per row (a launch covers rows
// [row0, row0 + grid.x)), a power-of-two block, float64 partials in shared memory reduced by
// tree phases (hd.h tree_step). Also the column sums of weight/bias gradients.
#pragma once
#include "cuda/launch.h"

namespace nl::cuda {

struct SumOp {
  NL_HD double operator()(double a, double b) const { return a + b; }
};
struct MaxOp {
  NL_HD double operator()(double a, double b) const { return b > a ? b : a; }
};

// Threads of a block-per-row launch: a power of two >= d, within [32, 256].
inline unsigned row_threads(int64_t d) {
  unsigned t = 32;
  while (t < 256 && int64_t(t) < d) t <<= 1;
  return t;
}

// Rows per launch of a block-per-row kernel (launchers loop over chunks, like gemm's batches).
constexpr int64_t kRowsPerLaunch = 65535;

// Runs a block-per-row kernel `k` (fields row0) over `rows` rows with `threads` threads and
// `smem` bytes: one launch per chunk of kRowsPerLaunch rows.
template <class K, class Exec>
std::string launch_rows(Exec& ex, K k, int64_t rows, unsigned threads, unsigned smem) {
  Launch l;
  l.block.x = threads;
  l.smem = smem;
  for (int64_t r0 = 0; r0 < rows; r0 += kRowsPerLaunch) {
    k.row0 = r0;
    l.grid.x = unsigned(rows - r0 < kRowsPerLaunch ? rows - r0 : kRowsPerLaunch);
    std::string err = ex.launch(k, l);
    if (!err.empty()) return err;
  }
  return "";
}

// out[col] = T(sum over rows r of f(r, col)) for col < ncols, f accumulated in float64.
// Block (32, 8): 32 columns, 8 row lanes striding over the rows; phases 1..3 reduce the lanes.
constexpr unsigned kColX = 32, kColY = 8;

template <class T, class F>
struct ColSumK {
  using Regs = NoRegs;
  F f;
  int64_t rows, ncols;
  T* out;
  NL_HD int phases() const { return 4; }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    double* buf = reinterpret_cast<double*>(smem);  // [kColY][kColX]
    const unsigned tx = at.thread.x, ty = at.thread.y;
    const int64_t col = int64_t(at.block.x) * kColX + tx;
    if (phase == 0) {
      double s = 0;
      if (col < ncols)
        for (int64_t r = ty; r < rows; r += kColY) s += f(r, col);
      buf[ty * kColX + tx] = s;
    } else if (phase < 4) {
      const unsigned stride = kColY >> phase;
      if (ty < stride) buf[ty * kColX + tx] += buf[(ty + stride) * kColX + tx];
      if (phase == 3 && ty == 0 && col < ncols) out[col] = T(buf[tx]);
    }
  }
};

template <class T, class F, class Exec>
std::string col_sum(Exec& ex, const F& f, int64_t rows, int64_t ncols, T* out) {
  if (ncols == 0) return "";
  Launch l;
  l.block = {kColX, kColY, 1};
  l.grid.x = unsigned(ceil_div(ncols, kColX));
  l.smem = unsigned(kColX * kColY * sizeof(double));
  return ex.launch(ColSumK<T, F>{f, rows, ncols, out}, l);
}

}  // namespace nl::cuda

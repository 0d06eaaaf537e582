// Row-reduction plumbing of the nn kernels: one block per row (a launch covers rows
// [row0, row0 + grid.x)), a power-of-two block, float64 partials in shared memory reduced by
// tree phases (hd.h tree_step). Also the column sums of weight/bias gradients.
#pragma once
#include <string>

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
// Block (32, 8): 32 columns, 8 row lanes striding over the block's rows; phases 1..3 reduce the
// lanes. With `partial` (float64 [grid.y, ncols]), block row y sums rows [y * chunk, (y + 1) * chunk)
// into partial[y, col] and ColFinishK adds the chunks in order (deterministic); else grid.y = 1
// and the block writes out[col].
constexpr unsigned kColX = 32, kColY = 8;
constexpr int64_t kColChunkRows = 256, kColMaxChunks = 64;

template <class T, class F>
struct ColSumK {
  using Regs = NoRegs;
  F f;
  int64_t rows, ncols, chunk;
  T* out;
  double* partial;
  NL_HD int phases() const { return 4; }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    double* buf = reinterpret_cast<double*>(smem);  // [kColY][kColX]
    const unsigned tx = at.thread.x, ty = at.thread.y;
    const int64_t col = int64_t(at.block.x) * kColX + tx;
    if (phase == 0) {
      const int64_t r0 = int64_t(at.block.y) * chunk, r1 = r0 + chunk < rows ? r0 + chunk : rows;
      double s = 0;
      if (col < ncols)
        for (int64_t r = r0 + ty; r < r1; r += kColY) s += f(r, col);
      buf[ty * kColX + tx] = s;
    } else {
      const unsigned stride = kColY >> phase;
      if (ty < stride) buf[ty * kColX + tx] += buf[(ty + stride) * kColX + tx];
      if (phase == 3 && ty == 0 && col < ncols) {
        if (partial) partial[int64_t(at.block.y) * ncols + col] = buf[tx];
        else out[col] = T(buf[tx]);
      }
    }
  }
};

// out[col] = T(sum over k < chunks of partial[k, col]), in chunk order.
template <class T>
struct ColFinishK {
  using Regs = NoRegs;
  const double* partial;
  int64_t chunks, ncols;
  T* out;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t col = gs_start(at); col < ncols; col += gs_step(at)) {
      double s = 0;
      for (int64_t k = 0; k < chunks; ++k) s += partial[k * ncols + col];
      out[col] = T(s);
    }
  }
};

// Chunks of rows the column sums split into: what a scratch of `scratch_len` float64 holds, at
// most kColMaxChunks and one per kColChunkRows rows (the TS side sizes scratch the same way).
inline int64_t col_chunks(int64_t rows, int64_t ncols, int64_t scratch_len) {
  int64_t k = ceil_div(rows, kColChunkRows);
  if (k > kColMaxChunks) k = kColMaxChunks;
  if (ncols > 0 && scratch_len / ncols < k) k = scratch_len / ncols;
  return k < 1 ? 1 : k;
}

template <class T, class F, class Exec>
std::string col_sum(Exec& ex, const F& f, int64_t rows, int64_t ncols, T* out, double* scratch,
                    int64_t scratch_len) {
  if (ncols == 0) return "";
  const int64_t chunks = scratch ? col_chunks(rows, ncols, scratch_len) : 1;
  Launch l;
  l.block = {kColX, kColY, 1};
  l.grid.x = unsigned(ceil_div(ncols, kColX));
  l.grid.y = unsigned(chunks);
  l.smem = unsigned(kColX * kColY * sizeof(double));
  double* partial = chunks > 1 ? scratch : nullptr;
  std::string err = ex.launch(ColSumK<T, F>{f, rows, ncols, ceil_div(rows, chunks), out, partial}, l);
  if (!err.empty() || partial == nullptr) return err;
  return ex.launch(ColFinishK<T>{partial, chunks, ncols, out}, launch_1d(ncols));
}

}  // namespace nl::cuda

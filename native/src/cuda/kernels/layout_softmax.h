// softmax / log-softmax of a contiguous operand seen as [outer, n, inner] along its dim, stably
// (max subtracted; a NaN max makes the row NaN; an all -Infinity row subtracts 0), in double per
// row as the CPU kernel (kernels/scan-kernels.ts). Two kernels:
//   SoftmaxLineK   one thread per (outer, inner) line: short rows, or inner > 1 (neighbouring
//                  threads read neighbouring elements)
//   SoftmaxBlockK  one block per row of a [rows, n] operand (inner == 1): tree max, tree sum of
//                  exp, then every thread writes its elements
#pragma once
#include "cuda/launch.h"
#include "cuda/kernels/strided.h"

namespace nl::cuda {

// max with NaN winning
NL_HD double sm_max(double x, double y) { return (x != x) ? x : (y != y) ? y : (x > y ? x : y); }
struct SmMax {
  NL_HD double operator()(double x, double y) const { return sm_max(x, y); }
};
struct SmSum {
  NL_HD double operator()(double x, double y) const { return x + y; }
};
NL_HD double sm_shift(double m) { return m == -double(INFINITY) ? 0.0 : m; }

template <class TI, class TO>
struct SoftmaxLineK {
  using Regs = NoRegs;
  const TI* a;  // at the operand's offset
  TO* out;
  int64_t outer, n, inner;
  bool log;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    const int64_t lines = outer * inner;
    for (int64_t l = gs_start(at); l < lines; l += gs_step(at)) {
      const int64_t s = (l / inner) * n * inner + l % inner;
      double m = -double(INFINITY);
      for (int64_t i = 0; i < n; ++i) m = sm_max(m, double(a[s + i * inner]));
      m = sm_shift(m);
      double z = 0;
      for (int64_t i = 0; i < n; ++i) z += nl_exp(double(a[s + i * inner]) - m);
      if (log) {
        const double lz = m + nl_log(z);
        for (int64_t i = 0; i < n; ++i) out[s + i * inner] = TO(double(a[s + i * inner]) - lz);
      } else {
        const double inv = 1 / z;
        for (int64_t i = 0; i < n; ++i) out[s + i * inner] = TO(nl_exp(double(a[s + i * inner]) - m) * inv);
      }
    }
  }
};

// smem: double mx[threads], sm[threads]. Row row0 + block.x.
template <class TI, class TO>
struct SoftmaxBlockK {
  using Regs = NoRegs;
  const TI* a;
  TO* out;
  int64_t n, row0;
  bool log;
  int steps;  // tree_steps(threads)
  NL_HD int phases() const { return 2 * steps + 3; }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    const unsigned tid = at.tid(), threads = at.threads();
    double* mx = reinterpret_cast<double*>(smem);
    double* sm = mx + threads;
    const int64_t row = row0 + at.block.x;
    const TI* x = a + row * n;
    if (phase == 0) {
      double m = -double(INFINITY);
      for (int64_t i = tid; i < n; i += threads) m = sm_max(m, double(x[i]));
      mx[tid] = m;
    } else if (phase <= steps) {
      tree_step(mx, tid, threads >> phase, SmMax{});
    } else if (phase == steps + 1) {
      const double m = sm_shift(mx[0]);
      double z = 0;
      for (int64_t i = tid; i < n; i += threads) z += nl_exp(double(x[i]) - m);
      sm[tid] = z;
    } else if (phase <= 2 * steps + 1) {
      tree_step(sm, tid, threads >> (phase - steps - 1), SmSum{});
    } else {
      const double m = sm_shift(mx[0]), z = sm[0];
      TO* o = out + row * n;
      if (log) {
        const double lz = m + nl_log(z);
        for (int64_t i = tid; i < n; i += threads) o[i] = TO(double(x[i]) - lz);
      } else {
        const double inv = 1 / z;
        for (int64_t i = tid; i < n; i += threads) o[i] = TO(nl_exp(double(x[i]) - m) * inv);
      }
    }
  }
};

}  // namespace nl::cuda

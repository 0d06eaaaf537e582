// RMSNorm and LayerNorm over the last dim, one block per row (see cpu/nn_norm.cc for the
// formulas and the CPU order of operations, which these follow: float64 row statistics).
// Shapes: x, y, g, dx [rows, d] contiguous; w, b [d] or null; rstd, mean [rows] float64.
// Phases: partial sums into shared float64 buffers, tree steps, then the per-element pass.
#pragma once
#include <string>

#include "cuda/kernels/nn_rows.h"

namespace nl::cuda {

// y = x * T(r) * w, r = 1/sqrt(mean(x^2) + eps).  smem: double[threads]
template <class T>
struct RmsFwdK {
  using Regs = NoRegs;
  const T* x;
  const T* w;
  T* y;
  double* rstd;
  int64_t d;
  double eps;
  int steps;
  int64_t row0;
  NL_HD int phases() const { return steps + 2; }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    double* buf = reinterpret_cast<double*>(smem);
    const unsigned tid = at.thread.x, nt = at.dim.x;
    const int64_t row = row0 + at.block.x;
    const T* xr = x + row * d;
    if (phase == 0) {
      double s = 0;
      for (int64_t j = tid; j < d; j += nt) s += double(xr[j]) * xr[j];
      buf[tid] = s;
    } else if (phase <= steps) {
      tree_step(buf, tid, nt >> phase, SumOp{});
    } else {
      const double inv = 1.0 / nl_sqrt(buf[0] / double(d) + eps);
      if (tid == 0) rstd[row] = inv;
      const T s = T(inv);
      T* yr = y + row * d;
      for (int64_t j = tid; j < d; j += nt) yr[j] = w ? xr[j] * s * w[j] : xr[j] * s;
    }
  }
};

// dx = r (g w) - x r^3 mean(g w x).  smem: double[threads]
template <class T>
struct RmsBwdK {
  using Regs = NoRegs;
  const T* g;
  const T* x;
  const T* w;
  const double* rstd;
  T* dx;
  int64_t d;
  int steps;
  int64_t row0;
  NL_HD int phases() const { return steps + 2; }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    double* buf = reinterpret_cast<double*>(smem);
    const unsigned tid = at.thread.x, nt = at.dim.x;
    const int64_t row = row0 + at.block.x;
    const T* gr = g + row * d;
    const T* xr = x + row * d;
    if (phase == 0) {
      double s = 0;
      for (int64_t j = tid; j < d; j += nt) s += double(gr[j]) * (w ? w[j] : T(1)) * xr[j];
      buf[tid] = s;
    } else if (phase <= steps) {
      tree_step(buf, tid, nt >> phase, SumOp{});
    } else {
      const double inv = rstd[row];
      const double c = inv * inv * inv * buf[0] / double(d);
      T* dxr = dx + row * d;
      for (int64_t j = tid; j < d; j += nt) {
        const double gw = double(gr[j]) * (w ? w[j] : T(1));
        dxr[j] = T(inv * gw - double(xr[j]) * c);
      }
    }
  }
};

// y = (x - mu) r w + b (biased variance, two passes).  smem: double[2][threads]
template <class T>
struct LnFwdK {
  using Regs = NoRegs;
  const T* x;
  const T* w;
  const T* b;
  T* y;
  double* mean;
  double* rstd;
  int64_t d;
  double eps;
  int steps;
  int64_t row0;
  NL_HD int phases() const { return 2 * steps + 3; }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    double* sum = reinterpret_cast<double*>(smem);
    double* var = sum + at.dim.x;
    const unsigned tid = at.thread.x, nt = at.dim.x;
    const int64_t row = row0 + at.block.x;
    const T* xr = x + row * d;
    if (phase == 0) {
      double s = 0;
      for (int64_t j = tid; j < d; j += nt) s += xr[j];
      sum[tid] = s;
    } else if (phase <= steps) {
      tree_step(sum, tid, nt >> phase, SumOp{});
    } else if (phase == steps + 1) {
      const double mu = sum[0] / double(d);
      double v = 0;
      for (int64_t j = tid; j < d; j += nt) v += (xr[j] - mu) * (xr[j] - mu);
      var[tid] = v;
    } else if (phase <= 2 * steps + 1) {
      tree_step(var, tid, nt >> (phase - steps - 1), SumOp{});
    } else {
      const double mu = sum[0] / double(d);
      const double inv = 1.0 / nl_sqrt(var[0] / double(d) + eps);
      if (tid == 0) {
        mean[row] = mu;
        rstd[row] = inv;
      }
      T* yr = y + row * d;
      for (int64_t j = tid; j < d; j += nt) {
        const double xh = (xr[j] - mu) * inv;
        yr[j] = T(xh * (w ? double(w[j]) : 1.0) + (b ? double(b[j]) : 0.0));
      }
    }
  }
};

// dx = r (gh - mean(gh) - xh mean(gh xh)), gh = g w.  smem: double[2][threads]
template <class T>
struct LnBwdK {
  using Regs = NoRegs;
  const T* g;
  const T* x;
  const T* w;
  const double* mean;
  const double* rstd;
  T* dx;
  int64_t d;
  int steps;
  int64_t row0;
  NL_HD int phases() const { return steps + 2; }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    double* sg = reinterpret_cast<double*>(smem);
    double* sgx = sg + at.dim.x;
    const unsigned tid = at.thread.x, nt = at.dim.x;
    const int64_t row = row0 + at.block.x;
    const T* gr = g + row * d;
    const T* xr = x + row * d;
    const double mu = mean[row], inv = rstd[row];
    if (phase == 0) {
      double a = 0, c = 0;
      for (int64_t j = tid; j < d; j += nt) {
        const double gh = double(gr[j]) * (w ? double(w[j]) : 1.0);
        a += gh;
        c += gh * ((xr[j] - mu) * inv);
      }
      sg[tid] = a;
      sgx[tid] = c;
    } else if (phase <= steps) {
      tree_step(sg, tid, nt >> phase, SumOp{});
      tree_step(sgx, tid, nt >> phase, SumOp{});
    } else {
      const double mg = sg[0] / double(d), mgx = sgx[0] / double(d);
      T* dxr = dx + row * d;
      for (int64_t j = tid; j < d; j += nt) {
        const double xh = (xr[j] - mu) * inv;
        const double gh = double(gr[j]) * (w ? double(w[j]) : 1.0);
        dxr[j] = T(inv * (gh - mg - xh * mgx));
      }
    }
  }
};

// Column-sum terms of the weight / bias gradients (kernels/nn_rows.h col_sum), [rows, d] operands.
template <class T>
struct RmsDwF {  // dw[j] = sum g x r
  const T* g;
  const T* x;
  const double* rstd;
  int64_t d;
  NL_HD double operator()(int64_t r, int64_t j) const { return double(g[r * d + j]) * x[r * d + j] * rstd[r]; }
};
template <class T>
struct LnDwF {  // dw[j] = sum g xh
  const T* g;
  const T* x;
  const double* mean;
  const double* rstd;
  int64_t d;
  NL_HD double operator()(int64_t r, int64_t j) const {
    return g[r * d + j] * ((x[r * d + j] - mean[r]) * rstd[r]);
  }
};
template <class T>
struct SumRowsF {  // db[j] = sum g
  const T* g;
  int64_t d;
  NL_HD double operator()(int64_t r, int64_t j) const { return g[r * d + j]; }
};

}  // namespace nl::cuda

// Fused cross-entropy (cpu/nn_xent_conv.cc is the CPU twin): one block per row computes the
// max-shifted softmax and loss_i = max + log(sum) - l[t_i] (0 when t_i is the ignore index, NaN
// when t_i is outside [0, c)); one block then reduces the losses to sum/mean; the backward is
// (p - onehot(t)) * scale_i elementwise. logits, probs, grad [n, c]; targets [n] int32;
// losses [n] float64; stats [2] float64 = {sum of losses, counted rows}.
#pragma once
#include "cuda/kernels/nn_rows.h"

namespace nl::cuda {

enum XentReduction : int { kXentNone = 0, kXentSum = 1, kXentMean = 2 };

// smem: double[2][threads] (row max, row sum of exp)
template <class T>
struct XentRowK {
  using Regs = NoRegs;
  const T* logits;
  const int32_t* targets;
  T* probs;
  double* losses;
  int64_t c;
  int64_t ignore;  // any integer (rows whose target equals it are skipped)
  int steps;
  int64_t row0;
  int32_t* fault;  // targets outside [0, c) (and not `ignore`) reported here
  NL_HD int phases() const { return 2 * steps + 3; }
  NL_HD T row_max(const double* mx) const {
    const T m = T(mx[0]);
    return m == -T(INFINITY) ? T(0) : m;
  }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    double* mx = reinterpret_cast<double*>(smem);
    double* sum = mx + at.dim.x;
    const unsigned tid = at.thread.x, nt = at.dim.x;
    const int64_t row = row0 + at.block.x;
    const T* l = logits + row * c;
    T* p = probs + row * c;
    if (phase == 0) {
      T m = -T(INFINITY);
      for (int64_t j = tid; j < c; j += nt) m = l[j] > m ? l[j] : m;
      mx[tid] = double(m);
    } else if (phase <= steps) {
      tree_step(mx, tid, nt >> phase, MaxOp{});
    } else if (phase == steps + 1) {
      const T m = row_max(mx);
      double s = 0;
      for (int64_t j = tid; j < c; j += nt) {
        const T e = nl_exp(T(l[j] - m));
        p[j] = e;
        s += e;
      }
      sum[tid] = s;
    } else if (phase <= 2 * steps + 1) {
      tree_step(sum, tid, nt >> (phase - steps - 1), SumOp{});
    } else {
      const T inv = T(1.0 / sum[0]);
      for (int64_t j = tid; j < c; j += nt) p[j] *= inv;
      if (tid == 0) {
        const int32_t t = targets[row];
        if (t != ignore && (t < 0 || t >= c)) nl_fault(fault, kFaultXentTarget, t);
        losses[row] = t == ignore ? 0.0
                      : (t < 0 || t >= c) ? double(NAN)
                                          : double(row_max(mx)) + nl_log(sum[0]) - double(l[t]);
      }
    }
  }
};

// One block: stats = {sum, count of rows whose target is not `ignore`}; out[0] = T(sum) or
// T(sum / count).  smem: double[2][threads]
template <class T>
struct XentReduceK {
  using Regs = NoRegs;
  const double* losses;
  const int32_t* targets;
  double* stats;
  T* out;
  int64_t n;
  int64_t ignore;  // any integer (rows whose target equals it are skipped)
  int mode;
  int steps;
  NL_HD int phases() const { return steps + 2; }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    double* sum = reinterpret_cast<double*>(smem);
    double* cnt = sum + at.dim.x;
    const unsigned tid = at.thread.x, nt = at.dim.x;
    if (phase == 0) {
      double s = 0, k = 0;
      for (int64_t i = tid; i < n; i += nt) {
        s += losses[i];
        k += targets[i] != ignore ? 1.0 : 0.0;
      }
      sum[tid] = s;
      cnt[tid] = k;
    } else if (phase <= steps) {
      tree_step(sum, tid, nt >> phase, SumOp{});
      tree_step(cnt, tid, nt >> phase, SumOp{});
    } else if (tid == 0) {
      stats[0] = sum[0];
      stats[1] = cnt[0];
      out[0] = T(mode == kXentSum ? sum[0] : sum[0] / cnt[0]);
    }
  }
};

// grad[i, j] = s_i p[i, j] - (j == t_i ? s_i : 0), 0 on ignored rows; s_i = T(g[i]) ('none'),
// T(g[0]) ('sum') or T(g[0] / count) ('mean').
template <class T>
struct XentBwdK {
  using Regs = NoRegs;
  const T* probs;
  const int32_t* targets;
  const T* g;
  const double* stats;
  T* grad;
  int64_t n, c;
  int64_t ignore;  // any integer (rows whose target equals it are skipped)
  int mode;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    const int64_t total = n * c;
    for (int64_t e = gs_start(at); e < total; e += gs_step(at)) {
      const int64_t i = e / c, j = e % c;
      const int32_t t = targets[i];
      if (t == ignore) {
        grad[e] = T(0);
        continue;
      }
      const T s = mode == kXentNone ? g[i] : mode == kXentSum ? g[0] : T(double(g[0]) / stats[1]);
      T v = s * probs[e];
      if (j == t) v -= s;
      grad[e] = v;
    }
  }
};

}  // namespace nl::cuda

// Elementwise optimizer updates: one kernel, the update a runtime code (uniform across a launch,
// so the switch does not diverge), one thread per element in a grid-stride loop. The arithmetic
// is that of the TypeScript updates in packages/optim/src (sgd.ts, adam.ts, muon.ts, ...): values
// in double, every state store rounded to its dtype and read back rounded, as a typed array does.
// Operands t[0..5] are T (the parameter dtype) or double, as kOptimSlots says per update; `s` is
// a device scalar (a sum of squares from optim_reduce.h) some updates read.
#pragma once
#include "cuda/launch.h"

namespace nl::cuda {

enum class OptimEw : int {
  Sgd = 0,          // t: p, g, buf?             h: lr, mu, dampening, wd         f: nesterov, maximize, first
  Adam = 1,         // t: p, g, m, v, vmax?      h: lr, b1, b2, eps, wd, stepSize, bc2Sqrt  f: decoupled, amsgrad, maximize
  MuonMomentum = 2, // t: g, buf, out            h: beta                          f: nesterov
  MuonApply = 3,    // t: p, d                   h: scale, lr, decay
  Delta = 4,        // t: p, g, m, E? (f64)  s?  h: alpha, lambda, lr, decay      f: normalize
  ClipScale = 5,    // t: g                  s   h: maxNorm          (s = the total norm)
  M3Moments = 6,    // t: g, M1, V, acc, fast    h: b1, b2, bc1                   f: literal
  M3Direction = 7,  // t: O1, O2, V, u           h: alpha, bc2, eps
  M3Apply = 8,      // t: p, u               s?  h: lr, decay, rmsTarget, n
  M3Slow = 9,       // t: M2, acc, O2            h: b3, frequency                 f: literal
  DmgdKey = 10,     // t: g, cur             s   h: n
  DmgdApply = 11,   // t: p, out             s   h: n, lr, decay
  Axpby = 12,       // t: y, x                   h: a, b          y = a·y + b·x
  Tanh = 13,        // t: y, x                   y = tanh(x)
  TanhBackward = 14,// t: y, x                   h: c             y = y·(1 − x²)·c
  Sub = 15,         // t: y, x                   y = y − x
  PrecondRms = 16,  // t: p, g, m, v (f64)       h: momentum, lr, decay, beta2, bc, eps
};
constexpr int kOptimEwCount = 17;
constexpr int kOptimSlots = 6;

// Per update: each operand slot's dtype ('T' the parameter dtype, 'D' float64; lower case when
// optional), and whether the device scalar is required ('S'), optional ('s') or unused ('-').
inline const char* optim_slots(OptimEw k) {
  static const char* const slots[kOptimEwCount] = {"TTt",  "TTTTt", "TTT", "TT", "TTTd", "T",  "TDDDD", "DDDD",
                                                   "TD",   "DDD",   "TD",  "TD", "DD",   "DD", "DD",    "DD",
                                                   "TTTD"};
  return slots[int(k)];
}
inline char optim_scalar(OptimEw k) {
  static const char scalar[kOptimEwCount + 1] = "----sS--s-SS-----";
  return scalar[int(k)];
}

enum OptimFlag : int { kFlag0 = 1, kFlag1 = 2, kFlag2 = 4 };

// max as JS Math.max: NaN when either is NaN.
NL_HD double js_max(double a, double b) { return (a != a || b != b) ? a + b : (a > b ? a : b); }

template <class T>
struct OptimEwK {
  using Regs = NoRegs;
  int kind;
  int64_t n;
  void* t[kOptimSlots];
  const double* s;
  double h[8];
  int flags;

  NL_HD T* tp(int i) const { return static_cast<T*>(t[i]); }
  NL_HD double* dp(int i) const { return static_cast<double*>(t[i]); }
  NL_HD bool flag(int f) const { return (flags & f) != 0; }

  NL_HD void sgd(int64_t i) const {
    T* p = tp(0);
    T* buf = tp(2);
    const double lr = h[0], mu = h[1], damp = h[2], wd = h[3];
    double d = flag(kFlag1) ? -double(tp(1)[i]) : double(tp(1)[i]);
    if (wd != 0) d += wd * double(p[i]);
    if (mu != 0 && buf != nullptr) {
      const double b = flag(kFlag2) ? d : mu * double(buf[i]) + (1 - damp) * d;
      buf[i] = T(b);
      d = flag(kFlag0) ? d + mu * double(buf[i]) : double(buf[i]);
    }
    p[i] = T(double(p[i]) - lr * d);
  }

  NL_HD void adam(int64_t i) const {
    T *p = tp(0), *m = tp(2), *v = tp(3), *vmax = tp(4);
    const double lr = h[0], b1 = h[1], b2 = h[2], eps = h[3], wd = h[4], step_size = h[5], bc2_sqrt = h[6];
    double g = flag(kFlag2) ? -double(tp(1)[i]) : double(tp(1)[i]);
    double x = double(p[i]);
    if (wd != 0) {
      if (flag(kFlag0)) x = x * (1 - lr * wd);
      else g += wd * x;
    }
    m[i] = T(double(m[i]) + (g - double(m[i])) * (1 - b1));
    v[i] = T(double(v[i]) * b2 + (1 - b2) * g * g);
    double vv = double(v[i]);
    if (flag(kFlag1) && vmax != nullptr) {
      vmax[i] = T(js_max(double(vmax[i]), vv));
      vv = double(vmax[i]);
    }
    const double denom = nl_sqrt(vv) / bc2_sqrt + eps;
    p[i] = T(x - step_size * (double(m[i]) / denom));
  }

  NL_HD void muon_momentum(int64_t i) const {
    const double g = double(tp(0)[i]), beta = h[0];
    T* buf = tp(1);
    buf[i] = T(double(buf[i]) + (g - double(buf[i])) * (1 - beta));
    tp(2)[i] = T(flag(kFlag0) ? g + (double(buf[i]) - g) * beta : double(buf[i]));
  }

  NL_HD void muon_apply(int64_t i) const {
    const T d = T(double(tp(1)[i]) * h[0]);
    tp(0)[i] = T(double(tp(0)[i]) * h[2] - h[1] * double(d));
  }

  NL_HD void delta(int64_t i) const {
    T *p = tp(0), *m = tp(2);
    const double alpha = h[0], lambda = h[1], lr = h[2], decay = h[3];
    double e = 0;
    if (dp(3) != nullptr) {
      double scale = 1;
      if (flag(kFlag0) && s != nullptr) scale = s[0] > 0 ? 1 / nl_sqrt(s[0]) : 0;
      e = dp(3)[i] * scale * scale;
    }
    m[i] = T(alpha * double(m[i]) - lambda * e - lr * double(tp(1)[i]));
    p[i] = T(double(p[i]) * decay + double(m[i]));
  }

  NL_HD void clip_scale(int64_t i) const {
    const double coef = h[0] / (s[0] + 1e-6);
    if (coef < 1) tp(0)[i] = T(double(tp(0)[i]) * coef);
  }

  NL_HD void m3_moments(int64_t i) const {
    const double g = double(tp(0)[i]), b1 = h[0], b2 = h[1], bc1 = h[2];
    double *M1 = dp(1), *V = dp(2), *acc = dp(3);
    const bool literal = flag(kFlag0);
    M1[i] = literal ? M1[i] + b1 * g : b1 * M1[i] + (1 - b1) * g;
    V[i] = literal ? V[i] + b2 * g * g : b2 * V[i] + (1 - b2) * g * g;
    acc[i] = acc[i] + g;
    dp(4)[i] = bc1 != 1 ? M1[i] / bc1 : M1[i];
  }

  NL_HD void m3_direction(int64_t i) const {
    dp(3)[i] = (dp(0)[i] + h[0] * dp(1)[i]) / (nl_sqrt(dp(2)[i] / h[1]) + h[2]);
  }

  NL_HD void m3_apply(int64_t i) const {
    double u = dp(1)[i];
    if (s != nullptr) {
      const double r = nl_sqrt(s[0] / h[3]);
      if (r > 0) u = (u * h[2]) / r;
    }
    tp(0)[i] = T(double(tp(0)[i]) * h[1] - h[0] * u);
  }

  NL_HD void m3_slow(int64_t i) const {
    double *M2 = dp(0), *acc = dp(1);
    const double b3 = h[0], f = h[1];
    M2[i] = flag(kFlag0) ? M2[i] + b3 * acc[i] : b3 * M2[i] + ((1 - b3) * acc[i]) / f;
    acc[i] = 0;
    dp(2)[i] = M2[i];
  }

  // DMGD's gradient scale: RMS of the gradient from its sum of squares.
  NL_HD double rms() const { return nl_sqrt(s[0] / (h[0] > 1 ? h[0] : 1)); }

  NL_HD void dmgd_key(int64_t i) const {
    const double scale = rms(), inv = scale > 0 ? 1 / scale : 0;
    dp(1)[i] = double(tp(0)[i]) * inv;
  }

  NL_HD void dmgd_apply(int64_t i) const {
    tp(0)[i] = T(double(tp(0)[i]) * h[2] - h[1] * rms() * dp(1)[i]);
  }

  // rmsPreconditioner's value g/(sqrt(v̂) + eps) (v an EMA of g²) into preconditioned momentum.
  NL_HD void precond_rms(int64_t i) const {
    T *p = tp(0), *m = tp(2);
    double* v = dp(3);
    const double g = double(tp(1)[i]), beta2 = h[3];
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    const double value = g / (nl_sqrt(v[i] / h[4]) + h[5]);
    m[i] = T(h[0] * double(m[i]) - h[1] * value);
    p[i] = T(double(p[i]) * h[2] + double(m[i]));
  }

  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t i = gs_start(at); i < n; i += gs_step(at)) apply(i);
  }
  // The update at element i.
  NL_HD void apply(int64_t i) const {
    {
      switch (static_cast<OptimEw>(kind)) {
        case OptimEw::Sgd: sgd(i); break;
        case OptimEw::Adam: adam(i); break;
        case OptimEw::MuonMomentum: muon_momentum(i); break;
        case OptimEw::MuonApply: muon_apply(i); break;
        case OptimEw::Delta: delta(i); break;
        case OptimEw::ClipScale: clip_scale(i); break;
        case OptimEw::M3Moments: m3_moments(i); break;
        case OptimEw::M3Direction: m3_direction(i); break;
        case OptimEw::M3Apply: m3_apply(i); break;
        case OptimEw::M3Slow: m3_slow(i); break;
        case OptimEw::DmgdKey: dmgd_key(i); break;
        case OptimEw::DmgdApply: dmgd_apply(i); break;
        case OptimEw::Axpby: dp(0)[i] = h[0] * dp(0)[i] + h[1] * dp(1)[i]; break;
        case OptimEw::Tanh: dp(0)[i] = nl_tanh(dp(1)[i]); break;
        case OptimEw::TanhBackward: dp(0)[i] = dp(0)[i] * (1 - dp(1)[i] * dp(1)[i]) * h[0]; break;
        case OptimEw::Sub: dp(0)[i] = dp(0)[i] - dp(1)[i]; break;
        case OptimEw::PrecondRms: precond_rms(i); break;
      }
    }
  }
};

// Multi-tensor form (torch's multi_tensor_apply): one launch applies the same update to up to
// kOptimMultiTensors tensors, each with its own operands, length and hyperparameters (Adam's
// per-tensor step sizes), over the concatenation of their index ranges.
constexpr int kOptimMultiTensors = 16;

template <class T>
struct OptimEwMultiK {
  using Regs = NoRegs;
  int count;
  int64_t start[kOptimMultiTensors + 1];  // prefix sums of the tensors' lengths
  OptimEwK<T> part[kOptimMultiTensors];
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    const int64_t total = start[count];
    int j = 0;
    for (int64_t i = gs_start(at); i < total; i += gs_step(at)) {
      while (i >= start[j + 1]) ++j;  // i only grows along the loop
      part[j].apply(i - start[j]);
    }
  }
};

}  // namespace nl::cuda

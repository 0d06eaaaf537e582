// Gated delta rule backward, one chunk [t0, t0 + L) per launch (kernels/delta_rule.h for the maths
// and layouts). One block per (b, h). Phase 0 recomputes the chunk's per-token states from its
// boundary state into `states` ([B*H, C+1, Dk, Dv]: slot i = S before token t0+i) — and on the
// first launch (the last chunk) sets dS = dL/dS_T (or 0). Then tokens run last to first, each as
//   column phase: dS += q do^T; w = S_{t-1}^T k, u = v - a w (erase) or v, g = dS^T k, du = b g,
//                 dv = du; partials of da = <dS, S_{t-1}> - du.w (erase) and db = u.g
//   tree steps:   da, db reduced in shared memory (double)
//   row phase:    dq = S_t do, dk = b dS u - a S_{t-1} du (erase)
//   column phase: dS <- a dS - a k du^T (erase) or a dS
// dS lives in ds0 ([B*H, Dk, Dv]); after the first chunk's launch it is dL/dS0. w, u, du of the
// current token: `vec` ([B*H, 3, Dv], double).
#pragma once
#include <cstdint>

#include "cuda/kernels/delta_rule.h"

namespace nl::cuda {

struct DeltaSum {
  NL_HD double operator()(double x, double y) const { return x + y; }
};

template <class T>
struct DeltaChunkBackK {
  using Regs = NoRegs;
  DeltaDims d;
  bool erase, init;
  int64_t t0, L, states_stride;  // states_stride = (C + 1) * Dk * Dv
  unsigned threads;               // power of two = blockDim.x
  const T *q, *k, *v, *al, *be, *dO, *gS, *start;  // start: boundary state of this chunk, [B*H] stride start_stride
  int64_t start_stride;
  T *states, *dS, *dq, *dk, *dv, *dal, *dbe;
  double* vec;

  NL_HD int per_token() const { return 3 + tree_steps(threads); }
  NL_HD int phases() const { return 1 + int(L) * per_token(); }

  NL_HD void operator()(int p, const Idx& at, char* smem, Regs&) const {
    const int64_t bh = at.block.x, b = bh / d.H, h = bh % d.H, dkn = d.dk, dvn = d.dv, n = dkn * dvn;
    const unsigned tid = at.thread.x, nt = at.dim.x;
    T* St0 = states + bh * states_stride;
    T* G = dS + bh * n;
    if (p == 0) {
      for (int64_t j = tid; j < dvn; j += nt) {
        if (init)
          for (int64_t i = 0; i < dkn; ++i) G[i * dvn + j] = gS != nullptr ? gS[bh * n + i * dvn + j] : T(0);
        if (L == 0) continue;
        T* S = St0 + L * n;  // running state; ends as the chunk's last state
        for (int64_t i = 0; i < dkn; ++i) S[i * dvn + j] = start[bh * start_stride + i * dvn + j];
        delta_columns<T>(d, erase, b, h, t0, t0 + L, q, k, v, al, be, S, nullptr, St0, n, j);
      }
      return;
    }
    const int P = per_token(), ks = tree_steps(threads);
    const int64_t tok = L - 1 - (p - 1) / P;
    const int sub = (p - 1) % P;
    const int64_t r = d.row(b, t0 + tok, h);
    const T* Sp = St0 + tok * n;
    const T* St = Sp + n;
    const T* kt = k + r * dkn;
    const double a = double(al[r]), bb = double(be[r]);
    double* w = vec + bh * 3 * dvn;
    double* u = w + dvn;
    double* du = u + dvn;
    double* red = reinterpret_cast<double*>(smem);  // [2, threads]: da, db partials
    if (sub == 0) {
      const T* qt = q + r * dkn;
      double pa = 0, pb = 0;
      for (int64_t j = tid; j < dvn; j += nt) {
        const T doj = dO != nullptr ? dO[r * dvn + j] : T(0);
        double g = 0, wj = 0;
        for (int64_t i = 0; i < dkn; ++i) {
          T& gij = G[i * dvn + j];
          gij = T(double(gij) + double(qt[i]) * double(doj));
          g += double(gij) * double(kt[i]);
          wj += double(Sp[i * dvn + j]) * double(kt[i]);
          pa += double(gij) * double(Sp[i * dvn + j]);
        }
        const double uj = erase ? double(v[r * dvn + j]) - a * wj : double(v[r * dvn + j]);
        const double duj = bb * g;
        if (erase) pa -= duj * wj;
        pb += uj * g;
        w[j] = wj;
        u[j] = uj;
        du[j] = duj;
        dv[r * dvn + j] = T(duj);
      }
      red[tid] = pa;
      red[nt + tid] = pb;
    } else if (sub <= ks) {
      tree_step(red, tid, nt >> sub, DeltaSum{});
      tree_step(red + nt, tid, nt >> sub, DeltaSum{});
    } else if (sub == ks + 1) {
      if (tid == 0) {
        dal[r] = T(red[0]);
        dbe[r] = T(red[nt]);
      }
      for (int64_t i = tid; i < dkn; i += nt) {
        double gq = 0, gu = 0, sdu = 0;
        for (int64_t j = 0; j < dvn; ++j) {
          const double doj = dO != nullptr ? double(dO[r * dvn + j]) : 0.0;
          gq += double(St[i * dvn + j]) * doj;
          gu += double(G[i * dvn + j]) * u[j];
          if (erase) sdu += double(Sp[i * dvn + j]) * du[j];
        }
        dq[r * dkn + i] = T(gq);
        dk[r * dkn + i] = T(bb * gu - a * sdu);
      }
    } else {
      for (int64_t j = tid; j < dvn; j += nt)
        for (int64_t i = 0; i < dkn; ++i) {
          T& gij = G[i * dvn + j];
          gij = T(a * double(gij) - (erase ? a * double(kt[i]) * du[j] : 0.0));
        }
    }
  }
};

}  // namespace nl::cuda

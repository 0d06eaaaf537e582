// SelfModifyingTitans backward in chunk ("dual") form on CUDA: one piece's write and read adjoints
// (phases K .. C2 of self_mod_dual_backward.h; the CPU's DualBack::back, cpu/self_mod_dual_backward.h).
// Each function is one phase of one block (threads tid of nt); arrays [M, L, ...] per memory
// (SmDualView indices), adjoints of the piece-start states in the work-area layout (G, op dtype;
// W2, S2, A2 [Dh, D]); piece-start states and snapshots in st.
#pragma once
#include <cstdint>

#include "cuda/kernels/self_mod_dual_common.h"

namespace nl::cuda {

template <class T>
struct SmDualBackCtx {
  SelfModCudaDims d;
  SmDualView w;
  int64_t L, row0, pos;  // pos: call position of the piece's first token
  const T* st;           // piece-start work area
  T* G;                  // running adjoints (work-area layout)
  const T *x, *q, *dO;
  T *dx, *dq;
  unsigned tid, nt;
  NL_HD const T* W(int s, int64_t m) const { return st + (s * d.M + m) * d.n(); }
  NL_HD T* dS(int s, int64_t m) const { return G + (s * d.M + m) * d.n(); }
  NL_HD SmQuery<T> qv(int64_t t) const {
    return SmQuery<T>{d.adaptive_q ? w.tok(t) + w.ly.gen + kSmQ * d.D : nullptr, q + (row0 + t * d.H) * d.D};
  }
  NL_HD double dor(int64_t t, int64_t a) const { return double(dO[(row0 + t * d.H) * d.D + a]); }
  NL_HD bool reads() const { return dO != nullptr; }
  NL_HD bool mix() const { return dO != nullptr && !d.read_snapshot; }  // reads of the written mem
};

// E1 (with R1): X1 = K dW2L^T, X2 = K dS2L^T, X3 = E dW1L, X4 = E dS1L [M, L, Dh]; mem's z, y.
template <class T>
NL_HD void sm_db_e1(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  const int64_t D = w.D, Dh = w.Dh, L = c.L, Lm = w.Lm;
  for (int64_t it = c.tid; it < c.d.M * L * Dh; it += c.nt) {
    const int64_t m = it / (L * Dh), j = it / Dh % L, h = it % Dh, i = w.mh(m, j, h);
    const T *dW2 = c.dS(kSmW2, m) + h * D, *dS2 = c.dS(kSmS2, m) + h * D;
    const T *dW1 = c.dS(kSmW1, m) + h, *dS1 = c.dS(kSmS1, m) + h;
    double x1 = 0, x2 = 0, x3 = 0, x4 = 0;
    for (int64_t a = 0; a < D; ++a) {
      const double k = w.k(j, a), e = w.e(m, j, a);
      x1 += double(dW2[a]) * k;
      x2 += double(dS2[a]) * k;
      x3 += double(dW1[a * Dh]) * e;
      x4 += double(dS1[a * Dh]) * e;
    }
    w.u[dl.X1 + i] = x1, w.u[dl.X2 + i] = x2, w.u[dl.X3 + i] = x3, w.u[dl.X4 + i] = x4;
  }
  for (int64_t it = c.tid; it < L * Dh && c.reads(); it += c.nt) {
    const int64_t t = it / Dh, h = it % Dh;
    double z = w.u[dl.QW + it];
    if (!c.d.read_snapshot) {
      z = w.u[dl.acum + t] * z + w.u[dl.cc + t] * w.u[dl.QS + it];
      for (int64_t j = 0; j <= t; ++j) {
        const int64_t mj = w.mh(kSmMem, j, h);
        const int64_t tj = t * Lm + j;
        z += w.u[dl.QK + tj] * (w.u[dl.R + tj] * w.u[dl.U + mj] - w.u[dl.Hc + tj] * w.u[dl.GG + mj]);
      }
    }
    w.u[dl.Z + it] = z;
    w.u[dl.Y + it] = sm_silu(z);
  }
}

// E2 (with R2): the piece-end products' dots and rows; mem's dO.e, y.a, W1_0^T dO, S1_0^T dO; dq += dO.
template <class T>
NL_HD void sm_db_e2(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  double* u = w.u;
  const int64_t D = w.D, Dh = w.Dh, L = c.L, Lm = w.Lm, M = c.d.M, n = c.d.n();
  const double *rL = u + dl.R + (L - 1) * Lm, *hL = u + dl.Hc + (L - 1) * Lm;
  for (int64_t it = c.tid; it < M * L; it += c.nt) {
    const int64_t m = it / L, j = it % L;
    double ux = 0, hx = 0, ex = 0;
    for (int64_t h = 0; h < Dh; ++h) {
      const int64_t i = w.mh(m, j, h);
      ux += u[dl.U + i] * u[dl.X1 + i];
      hx += u[dl.GG + i] * u[dl.X1 + i] + u[dl.AC + i] * u[dl.X3 + i];
      ex += u[dl.GG + i] * u[dl.X2 + i] + u[dl.AC + i] * u[dl.X4 + i];
    }
    u[dl.dR + w.ml(m, L - 1, j)] += ux;
    u[dl.dH + w.ml(m, L - 1, j)] -= hx;
    u[dl.deb + m * Lm + j] -= ex;
  }
  for (int64_t it = c.tid; it < M * L * Dh; it += c.nt) {
    const int64_t m = it / (L * Dh), j = it / Dh % L, i = w.mh(m, j, it % Dh);
    const double eb = u[dl.eb + j];
    u[dl.dU + i] += rL[j] * u[dl.X1 + i];
    u[dl.dG + i] -= hL[j] * u[dl.X1 + i] + eb * u[dl.X2 + i];
    u[dl.dA + i] -= hL[j] * u[dl.X3 + i] + eb * u[dl.X4 + i];
  }
  for (int64_t it = c.tid; it < M * L * D; it += c.nt) {
    const int64_t m = it / (L * D), j = it / D % L, a = it % D;
    const T *dW2 = c.dS(kSmW2, m), *dS2 = c.dS(kSmS2, m), *dW1 = c.dS(kSmW1, m), *dS1 = c.dS(kSmS1, m);
    const double eb = u[dl.eb + j];
    double dk = 0, de = 0;
    for (int64_t h = 0; h < Dh; ++h) {
      const int64_t i = w.mh(m, j, h);
      const double g = u[dl.GG + i];
      dk += double(dW2[h * D + a]) * (rL[j] * u[dl.U + i] - hL[j] * g) - double(dS2[h * D + a]) * eb * g;
      de -= (hL[j] * double(dW1[a * Dh + h]) + eb * double(dS1[a * Dh + h])) * u[dl.AC + i];
    }
    u[dl.dK + w.md(m, j, a)] += dk;
    u[dl.dE + w.md(m, j, a)] += de;
  }
  for (int64_t m = c.tid; m < M; m += c.nt) {
    const T *W1 = c.W(kSmW1, m), *W2 = c.W(kSmW2, m), *S1 = c.W(kSmS1, m), *S2 = c.W(kSmS2, m);
    const T *dW1 = c.dS(kSmW1, m), *dW2 = c.dS(kSmW2, m);
    double da = 0, dc = 0;
    for (int64_t i = 0; i < n; ++i) {
      da += double(W1[i]) * double(dW1[i]) + double(W2[i]) * double(dW2[i]);
      dc += double(S1[i]) * double(dW1[i]) + double(S2[i]) * double(dW2[i]);
    }
    u[dl.dac + m * Lm + L - 1] += da;
    u[dl.dcc + m * Lm + L - 1] += dc;
  }
  if (!c.reads()) return;
  const bool snap = c.d.read_snapshot;
  for (int64_t it = c.tid; it < L * L && !snap; it += c.nt) {
    const int64_t t = it / L, j = it % L;
    double n1 = 0, n2 = 0;
    for (int64_t a = 0; a < D; ++a) n1 += c.dor(t, a) * w.e(kSmMem, j, a);
    for (int64_t h = 0; h < Dh; ++h) n2 += u[dl.Y + t * Dh + h] * u[dl.AC + w.mh(kSmMem, j, h)];
    u[dl.N1 + t * Lm + j] = n1;
    u[dl.N2 + t * Lm + j] = n2;
  }
  const T *W1 = c.W(snap ? kSmA1 : kSmW1, kSmMem), *S1 = c.W(kSmS1, kSmMem);
  for (int64_t it = c.tid; it < L * Dh; it += c.nt) {
    const int64_t t = it / Dh, h = it % Dh;
    double x1 = 0, x2 = 0;
    for (int64_t a = 0; a < D; ++a) {
      x1 += c.dor(t, a) * double(W1[a * Dh + h]);
      x2 += c.dor(t, a) * double(S1[a * Dh + h]);
    }
    u[dl.XR1 + it] = x1;
    u[dl.XR2 + it] = x2;
  }
  for (int64_t it = c.tid; it < L * D; it += c.nt) u[dl.dQ + it] += c.dor(it / D, it % D);
}

// E3 (with R3): dW, dS to the piece start; mem's y.(W1_0^T dO) dots and the masked H o products.
template <class T>
NL_HD void sm_db_e3(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  double* u = w.u;
  const int64_t Dh = w.Dh, L = c.L, Lm = w.Lm, M = c.d.M, n = c.d.n();
  const double aL = u[dl.acum + L - 1], cL = u[dl.cc + L - 1], bL = u[dl.misc];
  for (int64_t it = c.tid; it < M * n; it += c.nt) {
    const int64_t m = it / n, e = it % n;
    T *dW1 = c.dS(kSmW1, m) + e, *dS1 = c.dS(kSmS1, m) + e, *dW2 = c.dS(kSmW2, m) + e, *dS2 = c.dS(kSmS2, m) + e;
    const double w1 = double(*dW1), w2 = double(*dW2);
    *dS1 = T(cL * w1 + bL * double(*dS1));
    *dW1 = T(aL * w1);
    *dS2 = T(cL * w2 + bL * double(*dS2));
    *dW2 = T(aL * w2);
  }
  if (!c.mix()) return;
  for (int64_t t = c.tid; t < L; t += c.nt) {
    double a = 0, s = 0;
    for (int64_t h = 0; h < Dh; ++h) {
      a += u[dl.Y + t * Dh + h] * u[dl.XR1 + t * Dh + h];
      s += u[dl.Y + t * Dh + h] * u[dl.XR2 + t * Dh + h];
    }
    u[dl.dac + kSmMem * Lm + t] += a;
    u[dl.dcc + kSmMem * Lm + t] += s;
  }
  for (int64_t it = c.tid; it < L * L; it += c.nt) {
    const int64_t t = it / L, j = it % L, i = t * Lm + j;
    const bool in = j <= t;
    const double hh = u[dl.Hc + i], n1 = u[dl.N1 + i], n2 = u[dl.N2 + i];
    if (in) u[dl.dH + w.ml(kSmMem, t, j)] -= n2 * n1;
    u[dl.NA + i] = in ? -hh * n1 : 0.0;
    u[dl.NB + i] = in ? -hh * n2 : 0.0;
  }
}

// R4: dy; da, de of mem from the H-masked reads; dW1_0, dS1_0 (dA1 with read_snapshot) += dO y^T.
template <class T>
NL_HD void sm_db_r4(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  double* u = w.u;
  const int64_t D = w.D, Dh = w.Dh, L = c.L, Lm = w.Lm;
  const bool snap = c.d.read_snapshot, mix = c.mix();
  for (int64_t it = c.tid; it < L * Dh; it += c.nt) {
    const int64_t t = it / Dh, h = it % Dh;
    double dy = u[dl.XR1 + it];
    if (mix) {
      dy = u[dl.acum + t] * dy + u[dl.cc + t] * u[dl.XR2 + it];
      for (int64_t j = 0; j <= t; ++j) dy += u[dl.NA + t * Lm + j] * u[dl.AC + w.mh(kSmMem, j, h)];
    }
    u[dl.DY + it] = dy;
  }
  for (int64_t it = c.tid; it < L * Dh && mix; it += c.nt) {
    const int64_t j = it / Dh, h = it % Dh;
    double acc = 0;
    for (int64_t t = j; t < L; ++t) acc += u[dl.NA + t * Lm + j] * u[dl.Y + t * Dh + h];
    u[dl.dA + w.mh(kSmMem, j, h)] += acc;
  }
  for (int64_t it = c.tid; it < L * D && mix; it += c.nt) {
    const int64_t j = it / D, a = it % D;
    double acc = 0;
    for (int64_t t = j; t < L; ++t) acc += u[dl.NB + t * Lm + j] * c.dor(t, a);
    u[dl.dE + w.md(kSmMem, j, a)] += acc;
  }
  T *dW1 = c.dS(snap ? kSmA1 : kSmW1, kSmMem), *dS1 = c.dS(kSmS1, kSmMem);
  for (int64_t e = c.tid; e < c.d.n(); e += c.nt) {
    const int64_t a = e / Dh, h = e % Dh;
    double wa = 0, sa = 0;
    for (int64_t t = 0; t < L; ++t) {
      const double oy = c.dor(t, a) * u[dl.Y + t * Dh + h];
      wa += (snap ? 1.0 : u[dl.acum + t]) * oy;
      sa += u[dl.cc + t] * oy;
    }
    dW1[e] = T(double(dW1[e]) + wa);
    if (!snap) dS1[e] = T(double(dS1[e]) + sa);
  }
}

// R5: dz = dy silu'(z); the A_t, C_t adjoints of mem's z.
template <class T>
NL_HD void sm_db_r5(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  double* u = w.u;
  const int64_t Dh = w.Dh, Lm = w.Lm;
  for (int64_t t = c.tid; t < c.L; t += c.nt) {
    double a = 0, s = 0;
    for (int64_t h = 0; h < Dh; ++h) {
      const int64_t i = t * Dh + h;
      const double dz = u[dl.DY + i] * sm_d1(u[dl.Z + i]);
      u[dl.DZ + i] = dz;
      a += dz * u[dl.QW + i];
      s += dz * u[dl.QS + i];
    }
    if (c.mix()) {
      u[dl.dac + kSmMem * Lm + t] += a;
      u[dl.dcc + kSmMem * Lm + t] += s;
    }
  }
}

}  // namespace nl::cuda

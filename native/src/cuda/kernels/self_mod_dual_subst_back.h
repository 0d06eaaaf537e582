// SelfModifyingTitans backward in chunk ("dual") form on CUDA: mem's reads reversed through z
// (R6-R8), the substitution for u reversed (S1-S3) and the coefficients reversed through alpha and
// eta (C1, C2); phases of self_mod_dual_backward.h (CPU: DualBack::reads_back, substitution_back,
// coefficients_back in cpu/self_mod_dual_backward.h). Conventions: self_mod_dual_piece_back.h.
#pragma once
#include <cstdint>

#include "cuda/kernels/self_mod_dual_piece_back.h"

namespace nl::cuda {

// R6: dW2_0, dS2_0 (dA2 with read_snapshot) += dz q^T; dq; du, dg of mem; dz.u, dz.g [L, L] in NA, NB.
template <class T>
NL_HD void sm_db_r6(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  double* u = w.u;
  const int64_t D = w.D, Dh = w.Dh, L = c.L, Lm = w.Lm;
  const bool snap = c.d.read_snapshot, mix = c.mix();
  T *dW2 = c.dS(snap ? kSmA2 : kSmW2, kSmMem), *dS2 = c.dS(kSmS2, kSmMem);
  for (int64_t e = c.tid; e < c.d.n(); e += c.nt) {
    const int64_t h = e / D, a = e % D;
    double wa = 0, sa = 0;
    for (int64_t t = 0; t < L; ++t) {
      const double zq = u[dl.DZ + t * Dh + h] * c.qv(t)[a];
      wa += (snap ? 1.0 : u[dl.acum + t]) * zq;
      sa += u[dl.cc + t] * zq;
    }
    dW2[e] = T(double(dW2[e]) + wa);
    if (!snap) dS2[e] = T(double(dS2[e]) + sa);
  }
  const T *W2 = c.W(snap ? kSmA2 : kSmW2, kSmMem), *S2 = c.W(kSmS2, kSmMem);
  for (int64_t it = c.tid; it < L * D; it += c.nt) {
    const int64_t t = it / D, a = it % D;
    double acc = 0;
    for (int64_t h = 0; h < Dh; ++h) {
      const double dz = u[dl.DZ + t * Dh + h];
      acc += snap ? dz * double(W2[h * D + a])
                  : dz * (u[dl.acum + t] * double(W2[h * D + a]) + u[dl.cc + t] * double(S2[h * D + a]));
    }
    u[dl.dQ + it] += acc;
  }
  if (!mix) return;
  for (int64_t it = c.tid; it < L * Dh; it += c.nt) {
    const int64_t j = it / Dh, h = it % Dh;
    double du = 0, dg = 0;
    for (int64_t t = j; t < L; ++t) {
      const double qz = u[dl.QK + t * Lm + j] * u[dl.DZ + t * Dh + h];
      du += u[dl.R + t * Lm + j] * qz;
      dg -= u[dl.Hc + t * Lm + j] * qz;
    }
    u[dl.dU + w.mh(kSmMem, j, h)] += du;
    u[dl.dG + w.mh(kSmMem, j, h)] += dg;
  }
  for (int64_t it = c.tid; it < L * L; it += c.nt) {
    const int64_t t = it / L, j = it % L;
    double zu = 0, zg = 0;
    for (int64_t h = 0; h < Dh; ++h) {
      zu += u[dl.DZ + t * Dh + h] * u[dl.U + w.mh(kSmMem, j, h)];
      zg += u[dl.DZ + t * Dh + h] * u[dl.GG + w.mh(kSmMem, j, h)];
    }
    u[dl.NA + t * Lm + j] = zu;
    u[dl.NB + t * Lm + j] = zg;
  }
}

// R7: the R, H adjoints of mem's reads; NQ = d(q_t . k_j).  R8: dq += NQ K, dk += NQ^T Q.
template <class T>
NL_HD void sm_db_r7(const SmDualBackCtx<T>& c) {
  if (!c.mix()) return;
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  double* u = w.u;
  const int64_t L = c.L, Lm = w.Lm;
  for (int64_t it = c.tid; it < L * L; it += c.nt) {
    const int64_t t = it / L, j = it % L, i = t * Lm + j;
    if (j > t) {
      u[dl.NQ + i] = 0;
      continue;
    }
    const double qk = u[dl.QK + i], zu = u[dl.NA + i], zg = u[dl.NB + i];
    u[dl.dR + w.ml(kSmMem, t, j)] += zu * qk;
    u[dl.dH + w.ml(kSmMem, t, j)] -= zg * qk;
    u[dl.NQ + i] = zu * u[dl.R + i] - zg * u[dl.Hc + i];
  }
}
template <class T>
NL_HD void sm_db_r8(const SmDualBackCtx<T>& c) {
  if (!c.mix()) return;
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  double* u = w.u;
  const int64_t D = w.D, L = c.L, Lm = w.Lm;
  for (int64_t it = c.tid; it < L * D; it += c.nt) {
    const int64_t t = it / D, a = it % D;
    double dq = 0, dk = 0;
    for (int64_t j = 0; j < L; ++j) {
      dq += u[dl.NQ + t * Lm + j] * w.k(j, a);
      dk += u[dl.NQ + j * Lm + t] * c.qv(j)[a];  // (row t here plays k's token)
    }
    u[dl.dQ + it] += dq;
    u[dl.dK + w.md(kSmMem, t, a)] += dk;
  }
}

// S1: back substitution per (memory, hidden unit) column: dv_t = -eta_t du_t, du_j += R G dv_t.
template <class T>
NL_HD void sm_db_s1(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  double* u = w.u;
  const int64_t Dh = w.Dh, L = c.L, Lm = w.Lm;
  for (int64_t it = c.tid; it < c.d.M * Dh; it += c.nt) {
    const int64_t m = it / Dh, h = it % Dh;
    for (int64_t t = L - 1; t >= 0; --t) {
      const double dv = -w.et(t) * u[dl.dU + w.mh(m, t, h)];
      u[dl.DV + w.mh(m, t, h)] = dv;
      for (int64_t j = 0; j < t; ++j)
        u[dl.dU + w.mh(m, j, h)] += u[dl.R + (t - 1) * Lm + j] * u[dl.G + t * Lm + j] * dv;
    }
  }
}

// S2: dv's dots: eta, A, C adjoints; dv_t . u_j, dv_t . g_j into the R, H and Gram adjoints.
template <class T>
NL_HD void sm_db_s2(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  double* u = w.u;
  const int64_t Dh = w.Dh, L = c.L, Lm = w.Lm, M = c.d.M;
  for (int64_t it = c.tid; it < M * L; it += c.nt) {
    const int64_t m = it / L, t = it % L;
    double vd = 0, pd = 0, sd = 0;
    for (int64_t h = 0; h < Dh; ++h) {
      const int64_t i = w.mh(m, t, h);
      vd += u[dl.V + i] * u[dl.dU + i];
      pd += u[dl.P0 + i] * u[dl.DV + i];
      sd += u[dl.PS + i] * u[dl.DV + i];
    }
    u[dl.det + m * Lm + t] -= vd;
    if (t > 0) {
      u[dl.dac + m * Lm + t - 1] += pd;
      u[dl.dcc + m * Lm + t - 1] += sd;
    }
  }
  for (int64_t it = c.tid; it < M * L * L; it += c.nt) {
    const int64_t m = it / (L * L), t = it / L % L, j = it % L;
    if (j >= t) continue;
    double ud = 0, gd = 0;
    for (int64_t h = 0; h < Dh; ++h) {
      const double dv = u[dl.DV + w.mh(m, t, h)];
      ud += dv * u[dl.U + w.mh(m, j, h)];
      gd += dv * u[dl.GG + w.mh(m, j, h)];
    }
    const double g = u[dl.G + t * Lm + j];
    const int64_t pj = (t - 1) * Lm + j;
    u[dl.dR + w.ml(m, t - 1, j)] += g * ud;
    u[dl.dH + w.ml(m, t - 1, j)] -= g * gd;
    u[dl.dGm + w.ml(m, t, j)] += u[dl.R + pj] * ud - u[dl.Hc + pj] * gd;
  }
}

// S3: dg -= H G-weighted dv; dW2_0 += dv^T (A K), dS2_0 += dv^T (C K); dk += (A dv) W2_0 + (C dv) S2_0.
template <class T>
NL_HD void sm_db_s3(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  double* u = w.u;
  const int64_t D = w.D, Dh = w.Dh, L = c.L, Lm = w.Lm, M = c.d.M, n = c.d.n();
  for (int64_t it = c.tid; it < M * L * Dh; it += c.nt) {
    const int64_t m = it / (L * Dh), j = it / Dh % L, h = it % Dh;
    double acc = 0;
    for (int64_t t = j + 1; t < L; ++t)
      acc += u[dl.Hc + (t - 1) * Lm + j] * u[dl.G + t * Lm + j] * u[dl.DV + w.mh(m, t, h)];
    u[dl.dG + w.mh(m, j, h)] -= acc;
  }
  for (int64_t it = c.tid; it < M * n; it += c.nt) {
    const int64_t m = it / n, e = it % n, h = e / D, a = e % D;
    double wa = 0, sa = 0;
    for (int64_t t = 0; t < L; ++t) {
      const double kd = w.k(t, a) * u[dl.DV + w.mh(m, t, h)];
      wa += w.a0(t) * kd;
      sa += w.c0(t) * kd;
    }
    T *dW2 = c.dS(kSmW2, m) + e, *dS2 = c.dS(kSmS2, m) + e;
    *dW2 = T(double(*dW2) + wa);
    *dS2 = T(double(*dS2) + sa);
  }
  for (int64_t it = c.tid; it < M * L * D; it += c.nt) {
    const int64_t m = it / (L * D), t = it / D % L, a = it % D;
    const T *W2 = c.W(kSmW2, m), *S2 = c.W(kSmS2, m);
    double acc = 0;
    for (int64_t h = 0; h < Dh; ++h) {
      const double dv = u[dl.DV + w.mh(m, t, h)];
      acc += dv * (w.a0(t) * double(W2[h * D + a]) + w.c0(t) * double(S2[h * D + a]));
    }
    u[dl.dK + w.md(m, t, a)] += acc;
  }
}

// C1: per column j, dR, dH summed over memories and reversed through R[t, j] = alpha_t R[t-1, j],
// H[t, j] = alpha_t H[t-1, j] + eta_j beta^{t-j}: the alpha share of row t (GALm[t, j]) and eta_j's
// adjoint (get[j], with every memory's direct eta and eb shares); the Gram adjoint summed (Gs).
template <class T>
NL_HD void sm_db_c1(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  double* u = w.u;
  const int64_t L = c.L, Lm = w.Lm, M = c.d.M;
  const double beta = c.d.momentum;
  for (int64_t j = c.tid; j < L; j += c.nt) {
    for (int64_t t = j; t < L; ++t) {
      double r = 0, hh = 0;
      for (int64_t m = 0; m < M; ++m) r += u[dl.dR + w.ml(m, t, j)], hh += u[dl.dH + w.ml(m, t, j)];
      u[dl.Rs + t * Lm + j] = r;
      u[dl.Hs + t * Lm + j] = hh;
    }
    double ge = 0, bt = 1;
    for (int64_t t = 0; t < L; ++t) u[dl.GALm + t * Lm + j] = 0;
    for (int64_t t = L - 1; t > j; --t) bt *= beta;  // beta^{L-1-j}
    for (int64_t t = L - 1; t > j; --t) {
      double pw = 1;  // beta^{t-j}
      for (int64_t i = j; i < t; ++i) pw *= beta;
      const int64_t i = t * Lm + j, pi = (t - 1) * Lm + j;
      const double dh = u[dl.Hs + i], dr = u[dl.Rs + i];
      u[dl.GALm + i] = dh * u[dl.Hc + pi] + dr * u[dl.R + pi];
      u[dl.Hs + pi] += w.al(t) * dh;
      u[dl.Rs + pi] += w.al(t) * dr;
      ge += dh * pw;
    }
    ge += u[dl.Hs + j * Lm + j];
    double db = 0;
    for (int64_t m = 0; m < M; ++m) ge += u[dl.det + m * Lm + j], db += u[dl.deb + m * Lm + j];
    u[dl.get + j] = ge + db * bt;
  }
  for (int64_t it = c.tid; it < L * L; it += c.nt) {
    const int64_t t = it / L, j = it % L;
    double g = 0;
    for (int64_t m = 0; m < M && j < t; ++m) g += u[dl.dGm + w.ml(m, t, j)];
    u[dl.Gs + t * Lm + j] = g;
  }
}

// C2: thread 0 reverses A_t, C_t into the alpha adjoints gal; dk_t = sum over memories + (Gs + Gs^T) K.
template <class T>
NL_HD void sm_db_c2(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  double* u = w.u;
  const int64_t D = w.D, L = c.L, Lm = w.Lm, M = c.d.M;
  if (c.tid == 0) {
    double da = 0, dc = 0;  // running adjoints of A_t, C_t
    for (int64_t t = L - 1; t >= 0; --t) {
      for (int64_t m = 0; m < M; ++m) da += u[dl.dac + m * Lm + t], dc += u[dl.dcc + m * Lm + t];
      double g = 0;
      for (int64_t j = 0; j < t; ++j) g += u[dl.GALm + t * Lm + j];
      g += t > 0 ? da * u[dl.acum + t - 1] + dc * u[dl.cc + t - 1] : da;
      u[dl.gal + t] = g;
      da *= w.al(t), dc *= w.al(t);
    }
  }
  for (int64_t it = c.tid; it < L * D; it += c.nt) {
    const int64_t t = it / D, a = it % D;
    double acc = 0;
    for (int64_t m = 0; m < M; ++m) acc += u[dl.dK + w.md(m, t, a)];
    for (int64_t j = 0; j < L; ++j) acc += (j < t ? u[dl.Gs + t * Lm + j] : u[dl.Gs + j * Lm + t]) * w.k(j, a);
    u[dl.dKt + it] = acc;
  }
}

}  // namespace nl::cuda

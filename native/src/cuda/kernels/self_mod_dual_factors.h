// SelfModifyingTitans backward in chunk ("dual") form on CUDA: the snapshot-only maths of a piece
// reversed (F1-F5: inner-gradient factors and targets of every memory; G1-G3: k's normalisation,
// the gates, the generators; G4: the snapshot taken at the piece start) and the dispatch of one
// piece's phases (self_mod_dual_backward.h). CPU: Back::factors_back, generators_back in
// cpu/self_mod_backward.cc. Conventions: self_mod_dual_piece_back.h. X1..X4 [M, L, Dh] are reused.
#pragma once
#include <cstdint>

#include "cuda/kernels/self_mod_clip_back.h"
#include "cuda/kernels/self_mod_dual_subst_back.h"

namespace nl::cuda {

// CB (dims.clip > 0; self_mod_clip_back.h), one thread per (memory, token): the clip reversed, dE,
// dG, dA of the unscaled e, g; e, cm of the token vectors back to unscaled; k's coefficient to cf
// (F3 adds its term to dK).
template <class T>
NL_HD void sm_db_clip(const SmDualBackCtx<T>& c) {
  if (!(c.d.clip > 0)) return;
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  double* v = const_cast<double*>(w.v);  // the piece's token vectors (scratch of this launch)
  for (int64_t it = c.tid; it < c.d.M * c.L; it += c.nt) {
    const int64_t m = it / c.L, t = it % c.L;
    double* tv = v + t * w.ly.total;
    tv[w.ly.cf + m] = sm_clip_back_one(c.d, w.ly, tv, m, w.u + dl.dE + w.md(m, t, 0), w.u + dl.dG + w.mh(m, t, 0),
                                       w.u + dl.dA + w.mh(m, t, 0));
  }
}

// F1: x1 = dg silu'(p), x2 = dg cm silu''(p) (g = cm silu'(p)).
template <class T>
NL_HD void sm_db_f1(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  const int64_t Dh = w.Dh, L = c.L;
  for (int64_t it = c.tid; it < c.d.M * L * Dh; it += c.nt) {
    const int64_t m = it / (L * Dh), t = it / Dh % L, h = it % Dh, i = w.mh(m, t, h);
    const double p = w.tok(t)[w.ly.p + m * Dh + h], dg = w.u[dl.dG + i];
    w.u[dl.X1 + i] = dg * sm_d1(p);
    w.u[dl.X2 + i] = dg * w.tok(t)[w.ly.cm + m * Dh + h] * sm_d2(p);
  }
}

// F2: de += x1 A1^T (cm = A1^T e), dA1 += E^T x1.
template <class T>
NL_HD void sm_db_f2(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  const int64_t D = w.D, Dh = w.Dh, L = c.L, M = c.d.M, n = c.d.n();
  for (int64_t it = c.tid; it < M * L * D; it += c.nt) {
    const int64_t m = it / (L * D), t = it / D % L, a = it % D;
    const T* A1 = c.W(kSmA1, m) + a * Dh;
    double acc = 0;
    for (int64_t h = 0; h < Dh; ++h) acc += w.u[dl.X1 + w.mh(m, t, h)] * double(A1[h]);
    w.u[dl.dE + w.md(m, t, a)] += acc;
  }
  for (int64_t it = c.tid; it < M * n; it += c.nt) {
    const int64_t m = it / n, e = it % n, a = e / Dh, h = e % Dh;
    double acc = 0;
    for (int64_t t = 0; t < L; ++t) acc += w.e(m, t, a) * w.u[dl.X1 + w.mh(m, t, h)];
    T* dA1 = c.dS(kSmA1, m) + e;
    *dA1 = T(double(*dA1) + acc);
  }
}

// F3: x3 = dE A1 [M, L, Dh]; e = k - v + ...: dk = de (+ the clip's term), dv = -de (per memory).
template <class T>
NL_HD void sm_db_f3(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  const int64_t D = w.D, Dh = w.Dh, L = c.L, M = c.d.M;
  for (int64_t it = c.tid; it < M * L * Dh; it += c.nt) {
    const int64_t m = it / (L * Dh), t = it / Dh % L, h = it % Dh;
    const T* A1 = c.W(kSmA1, m) + h;
    double acc = 0;
    for (int64_t a = 0; a < D; ++a) acc += w.u[dl.dE + w.md(m, t, a)] * double(A1[a * Dh]);
    w.u[dl.X3 + w.mh(m, t, h)] = acc;
  }
  for (int64_t it = c.tid; it < M * L * D; it += c.nt) {
    const int64_t m = it / (L * D), t = it / D % L, a = it % D, k = w.md(m, t, a);
    w.u[dl.dK + k] = w.u[dl.dE + k];
    if (c.d.clip > 0) w.u[dl.dK + k] -= w.tok(t)[w.ly.cf + m] * w.k(t, a);  // the clip's k term
    w.u[dl.dVv + k] = -w.u[dl.dE + k];
  }
}

// F4: dp = x2 + (da + x3) silu'(p) in X2; silu(p) - silu(hv) in X4; dhv = -x3 silu'(hv) in X1.
template <class T>
NL_HD void sm_db_f4(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  const int64_t Dh = w.Dh, L = c.L;
  for (int64_t it = c.tid; it < c.d.M * L * Dh; it += c.nt) {
    const int64_t m = it / (L * Dh), t = it / Dh % L, h = it % Dh, i = w.mh(m, t, h);
    const double p = w.tok(t)[w.ly.p + m * Dh + h], hv = w.tok(t)[w.ly.hv + m * Dh + h], x3 = w.u[dl.X3 + i];
    w.u[dl.X2 + i] += (w.u[dl.dA + i] + x3) * sm_d1(p);
    w.u[dl.X4 + i] = sm_silu(p) - sm_silu(hv);
    w.u[dl.X1 + i] = -x3 * sm_d1(hv);
  }
}

// F5: dA1 += dE^T x4, dA2 += dp^T K + dhv^T V ([Dh, D]); dk += dp A2, dv += dhv A2.
template <class T>
NL_HD void sm_db_f5(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  const int64_t D = w.D, Dh = w.Dh, L = c.L, M = c.d.M, n = c.d.n();
  for (int64_t it = c.tid; it < M * n; it += c.nt) {
    const int64_t m = it / n, e = it % n;
    double a1 = 0, a2 = 0;
    for (int64_t t = 0; t < L; ++t) {
      a1 += w.u[dl.dE + w.md(m, t, e / Dh)] * w.u[dl.X4 + w.mh(m, t, e % Dh)];
      const int64_t i = w.mh(m, t, e / D);
      a2 += w.u[dl.X2 + i] * w.k(t, e % D) + w.u[dl.X1 + i] * w.gen(kSmV, t, e % D);
    }
    T *dA1 = c.dS(kSmA1, m) + e, *dA2 = c.dS(kSmA2, m) + e;
    *dA1 = T(double(*dA1) + a1);
    *dA2 = T(double(*dA2) + a2);
  }
  for (int64_t it = c.tid; it < M * L * D; it += c.nt) {
    const int64_t m = it / (L * D), t = it / D % L, a = it % D;
    const T* A2 = c.W(kSmA2, m) + a;
    double dk = 0, dv = 0;
    for (int64_t h = 0; h < Dh; ++h) {
      dk += w.u[dl.X2 + w.mh(m, t, h)] * double(A2[h * D]);
      dv += w.u[dl.X1 + w.mh(m, t, h)] * double(A2[h * D]);
    }
    w.u[dl.dK + w.md(m, t, a)] += dk;
    w.u[dl.dVv + w.md(m, t, a)] += dv;
  }
}

// Gradient of generator m's output (token t, column a) once G1 ran.
template <class T>
NL_HD double sm_db_dgen(const SmDualBackCtx<T>& c, int64_t m, int64_t t, int64_t a) {
  const SmDualLayout& dl = c.w.dl;
  if (m == kSmK) return c.w.u[dl.dKt + t * c.w.D + a];
  if (m == kSmV) return c.w.u[dl.dVv + c.w.md(0, t, a)];
  if (m == kSmQ) return c.w.u[dl.dQ + t * c.w.D + a];
  return c.w.u[(m == kSmAlpha ? dl.dal : dl.dte) + t];
}

// G1 (thread per token): dk summed and taken through k's normalisation; dv summed; the gates.
template <class T>
NL_HD void sm_db_g1(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const SmDualLayout& dl = w.dl;
  double* u = w.u;
  const int64_t D = w.D, M = c.d.M;
  for (int64_t t = c.tid; t < c.L; t += c.nt) {
    double* dk = u + dl.dKt + t * D;
    double dot = 0;
    for (int64_t a = 0; a < D; ++a) {
      for (int64_t m = 0; m < M; ++m) dk[a] += u[dl.dK + w.md(m, t, a)];
      dot += w.gen(kSmK, t, a) * dk[a];
      double dv = 0;
      for (int64_t m = 0; m < M; ++m) dv += u[dl.dVv + w.md(m, t, a)];
      u[dl.dVv + w.md(0, t, a)] = dv;
    }
    const double nr = w.tok(t)[w.ly.sc], den = nr + 1e-6, s = nr > 0 ? dot / (nr * den * den) : 0.0;
    for (int64_t a = 0; a < D; ++a) dk[a] = dk[a] / den - s * w.gen(kSmK, t, a);
    const double al = w.al(t), bg = w.tok(t)[w.ly.sc + 2], ge = u[dl.get + t], ga = u[dl.gal + t] + bg * ge;
    u[dl.dte + t] = al * ge * bg * (1.0 - bg) / double(D);
    u[dl.dal + t] = ga * al * (1.0 - al) / double(D);
  }
}

// G2: x1 = (dgen A1) silu'(hg) per generator.
template <class T>
NL_HD void sm_db_g2(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const int64_t D = w.D, Dh = w.Dh, L = c.L;
  for (int64_t it = c.tid; it < c.d.M * L * Dh; it += c.nt) {
    const int64_t m = it / (L * Dh), t = it / Dh % L, h = it % Dh;
    if (!c.d.is_gen(m)) continue;
    const T* A1 = c.W(kSmA1, m) + h;
    double acc = 0;
    for (int64_t a = 0; a < D; ++a) acc += sm_db_dgen(c, m, t, a) * double(A1[a * Dh]);
    w.u[w.dl.X1 + w.mh(m, t, h)] = acc * sm_d1(w.tok(t)[w.ly.hg + m * Dh + h]);
  }
}

// G3: dA1 += dgen^T silu(hg), dA2 += x1^T X; dx = sum of dgen + x1 A2; dq (0 with adaptive_q).
template <class T>
NL_HD void sm_db_g3(const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const int64_t D = w.D, Dh = w.Dh, L = c.L, M = c.d.M, n = c.d.n();
  for (int64_t it = c.tid; it < M * n; it += c.nt) {
    const int64_t m = it / n, e = it % n;
    if (!c.d.is_gen(m)) continue;
    double a1 = 0, a2 = 0;
    for (int64_t t = 0; t < L; ++t) {
      a1 += sm_db_dgen(c, m, t, e / Dh) * sm_silu(w.tok(t)[w.ly.hg + m * Dh + e % Dh]);
      a2 += w.u[w.dl.X1 + w.mh(m, t, e / D)] * double(c.x[(c.row0 + t * c.d.H) * D + e % D]);
    }
    T *dA1 = c.dS(kSmA1, m) + e, *dA2 = c.dS(kSmA2, m) + e;
    *dA1 = T(double(*dA1) + a1);
    *dA2 = T(double(*dA2) + a2);
  }
  for (int64_t it = c.tid; it < L * D; it += c.nt) {
    const int64_t t = it / D, a = it % D, r = (c.row0 + t * c.d.H) * D + a;
    double acc = 0;
    for (int64_t m = 0; m < M; ++m) {
      if (!c.d.is_gen(m)) continue;
      const T* A2 = c.W(kSmA2, m) + a;
      acc += sm_db_dgen(c, m, t, a);
      for (int64_t h = 0; h < Dh; ++h) acc += w.u[w.dl.X1 + w.mh(m, t, h)] * double(A2[h * D]);
    }
    c.dx[r] = T(acc);
    c.dq[r] = c.d.adaptive_q ? T(0) : T(w.u[w.dl.dQ + it]);
  }
}

// G4: the snapshot A <- W taken at the piece start: dW += dA, dA = 0.
template <class T>
NL_HD void sm_db_g4(const SmDualBackCtx<T>& c) {
  const int64_t M = c.d.M, n = c.d.n();
  for (int64_t it = c.tid; it < M * n; it += c.nt) {
    const int64_t m = it / n, e = it % n;
    if (c.pos % c.d.chunk_of(m) != 0) continue;
    for (int s = 0; s < 2; ++s) {
      T *dA = c.dS(kSmA1 + s, m) + e, *dW = c.dS(kSmW1 + s, m) + e;
      *dW = T(double(*dW) + double(*dA));
      *dA = T(0);
    }
  }
}

constexpr int kSmDualPieceBack = 26;

// Phase s of one piece's backward after its token phases: K, P, U, E1-E3, R4-R8, S1-S3, C1, C2,
// CB (the clip), F1-F5, G1-G4.
template <class T>
NL_HD void sm_dual_piece_back(int s, const SmDualBackCtx<T>& c) {
  const SmDualView& w = c.w;
  const bool reads = c.reads();
  switch (s) {
    case 0: return sm_dual_coefficients<T>(c.d, w.ly, w.dl, w.v, w.u, c.L, c.q, c.row0, c.d.H, c.mix(), c.tid, c.nt);
    case 1: return sm_dual_p0<T>(c.d, w.ly, w.dl, w.v, w.u, c.L, c.st, c.q, c.row0, reads, c.tid, c.nt);
    case 2: return sm_dual_solve_u(c.d, w.ly, w.dl, w.v, w.u, c.L, true, c.tid, c.nt);
    case 3: return sm_db_e1(c);
    case 4: return sm_db_e2(c);
    case 5: return sm_db_e3(c);
    case 6: return reads ? sm_db_r4(c) : void();
    case 7: return reads ? sm_db_r5(c) : void();
    case 8: return reads ? sm_db_r6(c) : void();
    case 9: return sm_db_r7(c);
    case 10: return sm_db_r8(c);
    case 11: return sm_db_s1(c);
    case 12: return sm_db_s2(c);
    case 13: return sm_db_s3(c);
    case 14: return sm_db_c1(c);
    case 15: return sm_db_c2(c);
    case 16: return sm_db_clip(c);
    case 17: return sm_db_f1(c);
    case 18: return sm_db_f2(c);
    case 19: return sm_db_f3(c);
    case 20: return sm_db_f4(c);
    case 21: return sm_db_f5(c);
    case 22: return sm_db_g1(c);
    case 23: return sm_db_g2(c);
    case 24: return sm_db_g3(c);
    default: return sm_db_g4(c);
  }
}

}  // namespace nl::cuda

// SelfModifyingTitans backward of one piece in chunk ("dual") form (dims.dual; see self_mod.h and
// the forward's algebra in self_mod_dual.h). Given the piece-start states W1_0, W2_0, S1_0, S2_0 of
// every memory, the adjoints of the piece-end states (in dst, overwritten by the piece-start ones)
// and of mem's reads, it adds the adjoints of every per-token quantity the piece consumed: e, a, g
// of every memory, k (before its normalisation), q (mem's read), and alpha, eta. 0-based t, j < L:
//   end states  W1_L = A W1_0 + C S1_0 - E^T (H_L a),  S1_L = beta^L S1_0 - E^T (eb a),
//               W2_L = A W2_0 + C S2_0 + (R_L u - H_L g) K,  S2_L = beta^L S2_0 - (eb g) K;
//   reads       z_t = A_t W2_0 q_t + C_t S2_0 q_t + sum_j (R o QK)[t, j] u_j - (H o QK)[t, j] g_j,
//               o_t = q_t + A_t W1_0 y_t + C_t S1_0 y_t - sum_j H[t, j] (y_t . a_j) e_j, y = silu(z);
//   u_t = -eta_t v_t, v_t = A_{t-1} W2_0 k_t + C_{t-1} S2_0 k_t + sum_{j<t} R[t-1, j] G[t, j] u_j
//         - H[t-1, j] G[t, j] g_j (G = K K^T): its adjoint is a transposed (backward) substitution;
//   the coefficients A, C, R, H, eb (self_mod_dual.h) are reversed through alpha and eta last.
// (W2, S2 and their adjoints are [D, Dh] here, transposed, as in the worker.)
#pragma once
#include <algorithm>
#include <vector>

#include "cpu/delta_rule_vec.h"
#include "cpu/self_mod.h"
#include "cpu/self_mod_gemm.h"
#include "cpu/self_mod_vec.h"
#include "cpu/self_mod_work.h"

namespace nl::self_mod_detail {

// Where the piece's adjoints go (the backward's row arrays; rows r of the block).
template <typename F>
struct DualGrads {
  F *dK, *dQv;     // [Lb, D]
  F *dE;           // [M][Lb, D]
  F *dG, *dAc;     // [M][Lb, Dh]
  F *dal, *det;    // [Lb]
};

template <typename F>
struct DualBack {
  explicit DualBack(const SelfModDims& d) : D(d.d), Dh(d.hidden), Lb(d.block) {
    const size_t LL = static_cast<size_t>(Lb * Lb), LH = static_cast<size_t>(Lb * Dh);
    const size_t LD = static_cast<size_t>(Lb * D), n = static_cast<size_t>(D * Dh), l = static_cast<size_t>(Lb);
    for (auto* v : {&R, &Hc, &G, &QK, &M1, &M2, &dR, &dH, &dGm, &N1, &N2}) v->resize(LL);
    for (auto* v : {&acum, &cc, &eb, &dacum, &dcc, &deb, &gal, &get}) v->resize(l);
    for (auto* v : {&P0, &PS, &U, &V, &dU, &Z, &SZ, &X1, &X2, &X3, &QW, &QS}) v->resize(LH);
    for (auto* v : {&Kt, &Et, &dOc, &dQK}) v->resize(LD);
    for (auto* v : {&T1, &T2}) v->resize(std::max({n, LD, LH}));
  }
  const int64_t D, Dh, Lb;
  bool fits(const SelfModDims& o) const { return o.d == D && o.hidden == Dh && o.block == Lb; }
  void set_dims(const SelfModDims&) {}
  // [L, L] R, H, Gram, q.k, masks, their adjoints, scratch; [L] A_t, C_t, eb, their adjoints, the
  // gate adjoints; [L, Dh] W2_0 k, S2_0 k, u, v, du, z, sigmoid(z), scratch, W2_0 q, S2_0 q;
  // [D, L] / [L, D] K^T, E^T, do, scratch; [D Dh] transposes.
  std::vector<F> R, Hc, G, QK, M1, M2, dR, dH, dGm, N1, N2, acum, cc, eb, dacum, dcc, deb, gal, get;
  std::vector<F> P0, PS, U, V, dU, Z, SZ, X1, X2, X3, QW, QS, Kt, Et, dOc, dQK, T1, T2;
  F betaL = 1;

  static F dotn(int64_t n, const F* a, const F* b) { return vdot(n, a, b); }
  static void axpy(int64_t n, F s, const F* x, F* y) {
    for (int64_t i = 0; i < n; ++i) y[i] += s * x[i];
  }

  // A_t, C_t, R, H, eb of the piece (as self_mod_dual.h).
  void coefficients(const F* al, const F* et, F beta, int64_t L) {
    F bp = 1;
    for (int64_t t = 0; t < L; ++t) {
      bp *= beta;
      acum[t] = (t > 0 ? acum[t - 1] : F(1)) * al[t];
      cc[t] = (t > 0 ? al[t] * cc[t - 1] : F(0)) + bp;
      F *rt = R.data() + t * L, *ht = Hc.data() + t * L;
      F bj = beta;
      for (int64_t j = t - 1; j >= 0; --j, bj *= beta) {
        rt[j] = rt[j - L] * al[t];
        ht[j] = al[t] * ht[j - L] + et[j] * bj;
      }
      rt[t] = 1;
      ht[t] = et[t];
      for (int64_t j = t + 1; j < L; ++j) rt[j] = ht[j] = 0;
    }
    betaL = bp;
    F pw = 1;
    for (int64_t j = L - 1; j >= 0; --j, pw *= beta) eb[j] = et[j] * pw;
  }

  // Coefficient adjoints back to the gates: gal, get [L].
  void coefficients_back(const F* al, F beta, int64_t L) {
    F pw = 1;
    for (int64_t j = L - 1; j >= 0; --j, pw *= beta) get[j] += deb[j] * pw;
    for (int64_t t = L - 1; t >= 0; --t) {
      F *drt = dR.data() + t * L, *dht = dH.data() + t * L;
      const F *rt = R.data() + t * L, *ht = Hc.data() + t * L;
      get[t] += dht[t];
      F bj = beta;
      for (int64_t j = t - 1; j >= 0; --j, bj *= beta) {
        gal[t] += dht[j] * ht[j - L] + drt[j] * rt[j - L];
        dht[j - L] += al[t] * dht[j];
        drt[j - L] += al[t] * drt[j];
        get[j] += dht[j] * bj;
      }
      if (t > 0) {
        gal[t] += dacum[t] * acum[t - 1] + dcc[t] * cc[t - 1];
        dacum[t - 1] += al[t] * dacum[t];
        dcc[t - 1] += al[t] * dcc[t];
      } else {
        gal[0] += dacum[0];
      }
    }
  }

  // u_t (forward substitution) of one memory: P0 = K W2_0, PS = K S2_0, V, U [L, Dh].
  void solve_u(const F* K, const F* W2, const F* S2, const F* Gg, const F* et, int64_t L) {
    gemm<F>(L, Dh, D, K, D, W2, Dh, P0.data(), Dh, false);
    gemm<F>(L, Dh, D, K, D, S2, Dh, PS.data(), Dh, false);
    for (int64_t t = 0; t < L; ++t) {
      const F a0 = t > 0 ? acum[t - 1] : F(1), c0 = t > 0 ? cc[t - 1] : F(0);
      F* vt = V.data() + t * Dh;
      for (int64_t c = 0; c < Dh; ++c) vt[c] = a0 * P0[t * Dh + c] + c0 * PS[t * Dh + c];
      for (int64_t j = 0; j < t; ++j) {
        const F ru = R[(t - 1) * L + j] * G[t * L + j], hu = Hc[(t - 1) * L + j] * G[t * L + j];
        for (int64_t c = 0; c < Dh; ++c) vt[c] += ru * U[j * Dh + c] - hu * Gg[j * Dh + c];
      }
      for (int64_t c = 0; c < Dh; ++c) U[t * Dh + c] = -et[t] * vt[c];
    }
  }

  // dst [6][M][n] (kW1.. layout): piece-end adjoints in, piece-start ones out. st0 [4][M][n]:
  // piece-start W1, W2, S1, S2. d_o: row t of mem's read adjoint at d_o + t ldo (null: no reads here).
  void back(Worker<F>& w, const F* st0, F* dst, int64_t r0, int64_t L, const F* d_o, int64_t ldo,
            const DualGrads<F>& gr) {
    const int64_t M = w.M, n = w.n;
    const F beta = static_cast<F>(w.d.momentum);
    const F *al = w.al.data() + r0, *et = w.et.data() + r0;
    coefficients(al, et, beta, L);
    const F* K = w.Kn.data() + r0 * D;
    memvec::transpose<F>(L, D, K, D, Kt.data(), L);
    gemm<F>(L, L, D, K, D, Kt.data(), L, G.data(), L, false);
    for (auto* v : {&dacum, &dcc, &deb, &gal, &get}) std::fill(v->begin(), v->begin() + L, F(0));
    for (auto* v : {&dR, &dH, &dGm}) std::fill(v->begin(), v->begin() + L * L, F(0));
    F* dK = gr.dK + r0 * D;
    for (int64_t m = 0; m < M; ++m) {
      const F *W1 = st0 + (kW1 * M + m) * n, *W2 = st0 + (kW2 * M + m) * n;
      const F *S1 = st0 + (kS1 * M + m) * n, *S2 = st0 + (kS2 * M + m) * n;
      F *dW1 = dst + (kW1 * M + m) * n, *dW2 = dst + (kW2 * M + m) * n;
      F *dS1 = dst + (kS1 * M + m) * n, *dS2 = dst + (kS2 * M + m) * n;
      const F *E = w.row(w.E, m, r0, D), *Ac = w.row(w.Ac, m, r0, Dh), *Gg = w.row(w.Gg, m, r0, Dh);
      F *de = gr.dE + (m * Lb + r0) * D, *dg = gr.dG + (m * Lb + r0) * Dh, *da = gr.dAc + (m * Lb + r0) * Dh;
      solve_u(K, W2, S2, Gg, et, L);
      std::fill(dU.begin(), dU.begin() + L * Dh, F(0));
      ends_back(L, K, E, Ac, Gg, W1, W2, S1, S2, dW1, dW2, dS1, dS2, dK, de, dg, da);
      if (m == kMem && d_o) {
        reads_back(w, r0, L, d_o, ldo, K, E, Ac, Gg, W1, W2, S1, S2, dW1, dW2, dS1, dS2, gr, de, dg, da);
      }
      substitution_back(L, K, W2, S2, Gg, et, dW2, dS2, dK, dg);
    }
    coefficients_back(al, beta, L);
    for (int64_t t = 0; t < L; ++t) {  // dG is strictly lower: dK += (dG + dG^T) K
      for (int64_t j = 0; j < t; ++j) dGm[j * L + t] = dGm[t * L + j];
      dGm[t * L + t] = 0;
    }
    gemm<F>(L, D, L, dGm.data(), L, K, D, dK, D, true);
    for (int64_t t = 0; t < L; ++t) {
      gr.dal[r0 + t] += gal[t];
      gr.det[r0 + t] += get[t];
    }
  }

  // Piece-end states reversed; dW*, dS* become the piece-start adjoints (reads and u add later).
  void ends_back(int64_t L, const F* K, const F* E, const F* Ac, const F* Gg, const F* W1, const F* W2, const F* S1,
                 const F* S2, F* dW1, F* dW2, F* dS1, F* dS2, F* dK, F* de, F* dg, F* da) {
    const int64_t n = D * Dh;
    const F *rL = R.data() + (L - 1) * L, *hL = Hc.data() + (L - 1) * L;
    F *dRL = dR.data() + (L - 1) * L, *dHL = dH.data() + (L - 1) * L;
    F *x1 = X1.data(), *x2 = X2.data();
    // W2, S2: x1 = K dW2L (rows dW2L k_j), x2 = K dS2L
    gemm<F>(L, Dh, D, K, D, dW2, Dh, x1, Dh, false);
    gemm<F>(L, Dh, D, K, D, dS2, Dh, x2, Dh, false);
    for (int64_t j = 0; j < L; ++j) {
      const F *uj = U.data() + j * Dh, *gj = Gg + j * Dh, *a1 = x1 + j * Dh, *a2 = x2 + j * Dh;
      dRL[j] += dotn(Dh, uj, a1);
      dHL[j] -= dotn(Dh, gj, a1);
      deb[j] -= dotn(Dh, gj, a2);
      for (int64_t c = 0; c < Dh; ++c) {
        dU[j * Dh + c] += rL[j] * a1[c];
        dg[j * Dh + c] -= hL[j] * a1[c] + eb[j] * a2[c];
      }
    }
    memvec::transpose<F>(D, Dh, dW2, Dh, T1.data(), D);  // [Dh, D]
    memvec::transpose<F>(D, Dh, dS2, Dh, T2.data(), D);
    for (int64_t j = 0; j < L; ++j) {  // dk_j += dW2L (R u_j - H g_j) - dS2L eb_j g_j
      for (int64_t c = 0; c < Dh; ++c) {
        x1[j * Dh + c] = rL[j] * U[j * Dh + c] - hL[j] * Gg[j * Dh + c];
        x2[j * Dh + c] = -eb[j] * Gg[j * Dh + c];
      }
    }
    gemm<F>(L, D, Dh, x1, Dh, T1.data(), D, dK, D, true);
    gemm<F>(L, D, Dh, x2, Dh, T2.data(), D, dK, D, true);
    // W1, S1: x1 = E dW1L, x2 = E dS1L
    gemm<F>(L, Dh, D, E, D, dW1, Dh, x1, Dh, false);
    gemm<F>(L, Dh, D, E, D, dS1, Dh, x2, Dh, false);
    for (int64_t j = 0; j < L; ++j) {
      const F *aj = Ac + j * Dh, *a1 = x1 + j * Dh, *a2 = x2 + j * Dh;
      dHL[j] -= dotn(Dh, aj, a1);
      deb[j] -= dotn(Dh, aj, a2);
      for (int64_t c = 0; c < Dh; ++c) da[j * Dh + c] -= hL[j] * a1[c] + eb[j] * a2[c];
    }
    memvec::transpose<F>(D, Dh, dW1, Dh, T1.data(), D);
    memvec::transpose<F>(D, Dh, dS1, Dh, T2.data(), D);
    for (int64_t j = 0; j < L; ++j) {
      for (int64_t c = 0; c < Dh; ++c) {
        x1[j * Dh + c] = -hL[j] * Ac[j * Dh + c];
        x2[j * Dh + c] = -eb[j] * Ac[j * Dh + c];
      }
    }
    gemm<F>(L, D, Dh, x1, Dh, T1.data(), D, de, D, true);
    gemm<F>(L, D, Dh, x2, Dh, T2.data(), D, de, D, true);
    const F aL = acum[L - 1], cL = cc[L - 1];
    dacum[L - 1] += dotn(n, W1, dW1) + dotn(n, W2, dW2);
    dcc[L - 1] += dotn(n, S1, dW1) + dotn(n, S2, dW2);
    for (int64_t i = 0; i < n; ++i) {
      dS1[i] = cL * dW1[i] + betaL * dS1[i];
      dW1[i] *= aL;
      dS2[i] = cL * dW2[i] + betaL * dS2[i];
      dW2[i] *= aL;
    }
  }

  // mem's reads reversed (after ends_back: dW*, dS* are piece-start adjoints).
  void reads_back(Worker<F>& w, int64_t r0, int64_t L, const F* d_o, int64_t ldo, const F* K, const F* E,
                  const F* Ac, const F* Gg, const F* W1, const F* W2, const F* S1, const F* S2, F* dW1, F* dW2,
                  F* dS1, F* dS2, const DualGrads<F>& gr, F* de, F* dg, F* da) {
    const F* Q = w.Qv.data() + r0 * D;  // [L, D]
    F* dQ = gr.dQv + r0 * D;
    F *qk = QK.data(), *m1 = M1.data(), *m2 = M2.data(), *z = Z.data(), *sz = SZ.data();
    // forward: z, y
    gemm<F>(L, L, D, Q, D, Kt.data(), L, qk, L, false);
    for (int64_t t = 0; t < L; ++t) {
      for (int64_t j = 0; j < L; ++j) {
        const bool in = j <= t;
        m1[t * L + j] = in ? R[t * L + j] * qk[t * L + j] : F(0);
        m2[t * L + j] = in ? -Hc[t * L + j] * qk[t * L + j] : F(0);
      }
    }
    gemm<F>(L, Dh, D, Q, D, W2, Dh, QW.data(), Dh, false);
    gemm<F>(L, Dh, D, Q, D, S2, Dh, QS.data(), Dh, false);
    for (int64_t t = 0; t < L; ++t) {
      for (int64_t c = 0; c < Dh; ++c) z[t * Dh + c] = acum[t] * QW[t * Dh + c] + cc[t] * QS[t * Dh + c];
    }
    gemm<F>(L, Dh, L, m1, L, U.data(), Dh, z, Dh, true);
    gemm<F>(L, Dh, L, m2, L, Gg, Dh, z, Dh, true);
    sigmoid_n(L * Dh, z, sz);
    F* y = X3.data();
    for (int64_t i = 0; i < L * Dh; ++i) y[i] = z[i] * sz[i];
    // o_t = q_t + A_t W1_0 y_t + C_t S1_0 y_t - sum_j H[t, j] (y_t . a_j) e_j
    F* dO = dOc.data();
    for (int64_t t = 0; t < L; ++t) {
      for (int64_t c = 0; c < D; ++c) {
        dO[t * D + c] = d_o[t * ldo + c];
        dQ[t * D + c] += d_o[t * ldo + c];
      }
    }
    F *x1 = X1.data(), *x2 = X2.data();
    gemm<F>(L, Dh, D, dO, D, W1, Dh, x1, Dh, false);  // W1_0^T do_t
    gemm<F>(L, Dh, D, dO, D, S1, Dh, x2, Dh, false);
    memvec::transpose<F>(L, D, E, D, Et.data(), L);
    memvec::transpose<F>(L, Dh, Ac, Dh, T1.data(), L);  // a^T [Dh, L]
    F *n1 = N1.data(), *n2 = N2.data();
    gemm<F>(L, L, D, dO, D, Et.data(), L, n1, L, false);  // do_t . e_j
    gemm<F>(L, L, Dh, y, Dh, T1.data(), L, n2, L, false);  // y_t . a_j
    for (int64_t t = 0; t < L; ++t) {
      dacum[t] += dotn(Dh, y + t * Dh, x1 + t * Dh);
      dcc[t] += dotn(Dh, y + t * Dh, x2 + t * Dh);
      for (int64_t j = 0; j < L; ++j) {
        const F de_tj = n1[t * L + j], ya = n2[t * L + j], h = Hc[t * L + j];
        if (j <= t) dH[t * L + j] -= ya * de_tj;
        n1[t * L + j] = j <= t ? -h * de_tj : F(0);  // dy_t += sum_j n1 a_j; da_j += n1^T y
        n2[t * L + j] = j <= t ? -h * ya : F(0);     // de_j += n2^T do
      }
    }
    F* dy = x1;  // dy = A x1 + C x2 + n1 a
    for (int64_t t = 0; t < L; ++t) {
      for (int64_t c = 0; c < Dh; ++c) dy[t * Dh + c] = acum[t] * x1[t * Dh + c] + cc[t] * x2[t * Dh + c];
    }
    gemm<F>(L, Dh, L, n1, L, Ac, Dh, dy, Dh, true);
    gemm<F, true>(L, Dh, L, n1, L, y, Dh, da, Dh, true);
    gemm<F, true>(L, D, L, n2, L, dO, D, de, D, true);
    for (int64_t t = 0; t < L; ++t) {  // dO scaled by A, then C: dW1 += (A do)^T y, dS1 += (C do)^T y
      for (int64_t c = 0; c < D; ++c) dQK[t * D + c] = acum[t] * dO[t * D + c];
    }
    gemm<F, true>(D, Dh, L, dQK.data(), D, y, Dh, dW1, Dh, true);
    for (int64_t t = 0; t < L; ++t) {
      for (int64_t c = 0; c < D; ++c) dQK[t * D + c] = cc[t] * dO[t * D + c];
    }
    gemm<F, true>(D, Dh, L, dQK.data(), D, y, Dh, dS1, Dh, true);
    // z reversed
    F* dz = x2;
    for (int64_t i = 0; i < L * Dh; ++i) dz[i] = dy[i] * d1s(z[i], sz[i]);
    for (int64_t t = 0; t < L; ++t) {
      dacum[t] += dotn(Dh, dz + t * Dh, QW.data() + t * Dh);
      dcc[t] += dotn(Dh, dz + t * Dh, QS.data() + t * Dh);
      for (int64_t c = 0; c < D; ++c) dQK[t * D + c] = acum[t] * Q[t * D + c];
    }
    gemm<F, true>(D, Dh, L, dQK.data(), D, dz, Dh, dW2, Dh, true);
    for (int64_t t = 0; t < L; ++t) {
      for (int64_t c = 0; c < D; ++c) dQK[t * D + c] = cc[t] * Q[t * D + c];
    }
    gemm<F, true>(D, Dh, L, dQK.data(), D, dz, Dh, dS2, Dh, true);
    memvec::transpose<F>(D, Dh, W2, Dh, T1.data(), D);  // [Dh, D]
    memvec::transpose<F>(D, Dh, S2, Dh, T2.data(), D);
    F* sc = QW.data();  // (no longer needed)
    for (int64_t t = 0; t < L; ++t) {
      for (int64_t c = 0; c < Dh; ++c) sc[t * Dh + c] = acum[t] * dz[t * Dh + c];
    }
    gemm<F>(L, D, Dh, sc, Dh, T1.data(), D, dQ, D, true);
    for (int64_t t = 0; t < L; ++t) {
      for (int64_t c = 0; c < Dh; ++c) sc[t * Dh + c] = cc[t] * dz[t * Dh + c];
    }
    gemm<F>(L, D, Dh, sc, Dh, T2.data(), D, dQ, D, true);
    gemm<F, true>(L, Dh, L, m1, L, dz, Dh, dU.data(), Dh, true);
    gemm<F, true>(L, Dh, L, m2, L, dz, Dh, dg, Dh, true);
    memvec::transpose<F>(L, Dh, U.data(), Dh, T1.data(), L);  // u^T [Dh, L]
    memvec::transpose<F>(L, Dh, Gg, Dh, T2.data(), L);
    gemm<F>(L, L, Dh, dz, Dh, T1.data(), L, m1, L, false);  // dz_t . u_j
    gemm<F>(L, L, Dh, dz, Dh, T2.data(), L, m2, L, false);  // dz_t . g_j
    for (int64_t t = 0; t < L; ++t) {
      for (int64_t j = 0; j < L; ++j) {
        const int64_t i = t * L + j;
        if (j > t) {
          n1[i] = 0;
          continue;
        }
        dR[i] += m1[i] * qk[i];
        dH[i] -= m2[i] * qk[i];
        n1[i] = m1[i] * R[i] - m2[i] * Hc[i];  // d(q_t . k_j)
      }
    }
    gemm<F>(L, D, L, n1, L, K, D, dQ, D, true);
    gemm<F, true>(L, D, L, n1, L, Q, D, gr.dK + r0 * D, D, true);
  }

  // The substitution for u reversed (transposed, last token first), then P0 = K W2_0, PS = K S2_0.
  void substitution_back(int64_t L, const F* K, const F* W2, const F* S2, const F* Gg, const F* et, F* dW2, F* dS2,
                         F* dK, F* dg) {
    F *dv = X1.data(), *du = dU.data();
    for (int64_t t = L - 1; t >= 0; --t) {  // dv_t = -eta_t du_t, du_j += R[t-1, j] G[t, j] dv_t (j < t)
      F* dvt = dv + t * Dh;
      for (int64_t c = 0; c < Dh; ++c) dvt[c] = -et[t] * du[t * Dh + c];
      get[t] -= dotn(Dh, V.data() + t * Dh, du + t * Dh);
      if (t > 0) {
        dacum[t - 1] += dotn(Dh, P0.data() + t * Dh, dvt);
        dcc[t - 1] += dotn(Dh, PS.data() + t * Dh, dvt);
      }
      for (int64_t j = 0; j < t; ++j) axpy(Dh, R[(t - 1) * L + j] * G[t * L + j], dvt, du + j * Dh);
    }
    F *ud = M1.data(), *gd = M2.data(), *hu = N1.data();  // dv_t . u_j, dv_t . g_j, H[t-1, j] G[t, j]
    memvec::transpose<F>(L, Dh, U.data(), Dh, T1.data(), L);
    memvec::transpose<F>(L, Dh, Gg, Dh, T2.data(), L);
    gemm<F>(L, L, Dh, dv, Dh, T1.data(), L, ud, L, false);
    gemm<F>(L, L, Dh, dv, Dh, T2.data(), L, gd, L, false);
    for (int64_t t = 0; t < L; ++t) {
      for (int64_t j = 0; j < L; ++j) {
        const int64_t i = t * L + j, pj = (t - 1) * L + j;
        if (j >= t) {
          hu[i] = 0;
          continue;
        }
        const F gt = G[i];
        hu[i] = Hc[pj] * gt;
        dR[pj] += gt * ud[i];
        dH[pj] -= gt * gd[i];
        dGm[i] += R[pj] * ud[i] - Hc[pj] * gd[i];
      }
    }
    for (int64_t i = 0; i < L * Dh; ++i) X2[i] = -dv[i];
    gemm<F, true>(L, Dh, L, hu, L, X2.data(), Dh, dg, Dh, true);  // dg_j -= sum_t hu[t, j] dv_t
    F *p0 = X2.data(), *ps = X3.data();
    for (int64_t t = 0; t < L; ++t) {
      const F a0 = t > 0 ? acum[t - 1] : F(1), c0 = t > 0 ? cc[t - 1] : F(0);
      for (int64_t c = 0; c < Dh; ++c) {
        p0[t * Dh + c] = a0 * dv[t * Dh + c];
        ps[t * Dh + c] = c0 * dv[t * Dh + c];
      }
    }
    gemm<F, true>(D, Dh, L, K, D, p0, Dh, dW2, Dh, true);
    gemm<F, true>(D, Dh, L, K, D, ps, Dh, dS2, Dh, true);
    memvec::transpose<F>(D, Dh, W2, Dh, T1.data(), D);
    memvec::transpose<F>(D, Dh, S2, Dh, T2.data(), D);
    gemm<F>(L, D, Dh, p0, Dh, T1.data(), D, dK, D, true);
    gemm<F>(L, D, Dh, ps, Dh, T2.data(), D, dK, D, true);
  }
};

}  // namespace nl::self_mod_detail

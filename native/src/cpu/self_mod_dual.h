// SelfModifyingTitans forward in chunk ("dual") form (dims.dual; see self_mod.h): inside a piece
// of L tokens that share every snapshot, the per-token rank-1 writes of every memory become small
// GEMMs (the algebra of packages/memory/src/modules/self-modifying-chunked*.ts). 0-based t, j < L:
//   A_t = prod_{i<=t} alpha_i,  R[t, j] = prod_{j<i<=t} alpha_i,  C_t = alpha_t C_{t-1} + beta^{t+1},
//   H[t, j] = alpha_t H[t-1, j] + eta_j beta^{t-j}  (H[j, j] = eta_j),
//   W1_t = A_t W1_0 + C_t S1_0 - sum_{j<=t} H[t, j] e_j a_j^T,
//   W2_t = A_t W2_0 + C_t S2_0 + sum_{j<=t} (R[t, j] u_j - H[t, j] g_j) k_j^T,
//   u_t = -eta_t W2_{t-1} k_t  (forward substitution over the Gram matrix k_j^T k_t),
//   S_L = beta^L S_0 - sum_j eta_j beta^{L-1-j} (gradient_j), and mem's read after each write
//   o_t = q_t + W1_t silu(W2_t q_t) from the same sums with q_t (causal [L, L] coefficient masks).
// R, C, H come from products (no exp / log). Only piece-end states are materialised.
#pragma once
#include <algorithm>
#include <vector>

#include "cpu/delta_rule_vec.h"
#include "cpu/self_mod.h"
#include "cpu/self_mod_gemm.h"
#include "cpu/self_mod_vec.h"
#include "cpu/self_mod_work.h"

namespace nl::self_mod_detail {

template <typename F>
struct Dual {
  explicit Dual(const SelfModDims& d) : D(d.d), Dh(d.hidden), Lb(d.block) {
    const size_t LL = static_cast<size_t>(Lb * Lb), LH = static_cast<size_t>(Lb * Dh);
    const size_t LD = static_cast<size_t>(Lb * D), n = static_cast<size_t>(D * Dh);
    for (auto* v : {&R, &Hc, &G, &QK, &M1, &M2}) v->resize(LL);
    for (auto* v : {&acum, &cc, &eb}) v->resize(static_cast<size_t>(Lb));
    for (auto* v : {&P0, &PS, &U, &Z, &T1, &SZ}) v->resize(LH);
    for (auto* v : {&Kt, &Ot, &O2}) v->resize(LD);
    for (auto* v : {&W1t, &S1t}) v->resize(n);
    Act.resize(LH);
  }
  const int64_t D, Dh, Lb;
  bool fits(const SelfModDims& o) const { return o.d == D && o.hidden == Dh && o.block == Lb; }
  void set_dims(const SelfModDims&) {}
  // [L, L] R, H, Gram K K^T, q.k / y.a and masked products; [L] A_t, C_t, eta_j beta^{L-1-j};
  // [L, Dh] W2_0 k, S2_0 k, u, z = W2_t q_t, a scratch, sigmoid(z); [D, L] K^T; [L, D] outputs;
  // [Dh, D] W1_0^T, S1_0^T; [Dh, L] a^T.
  std::vector<F> R, Hc, G, QK, M1, M2, acum, cc, eb, P0, PS, U, Z, T1, SZ, Kt, Ot, O2, W1t, S1t, Act;

  // Piece of rows r0..r0+L of w (w.precompute done for them): every memory's write; with o
  // ([L, D], token rows r0.. of the output, row stride ldo) mem's read after each write.
  void piece(Worker<F>& w, int64_t r0, int64_t L, F* o, int64_t ldo) {
    using memvec::transpose;
    const F beta = static_cast<F>(w.d.momentum);
    const F *al = w.al.data() + r0, *et = w.et.data() + r0;
    F bp = 1;  // beta^(t+1)
    for (int64_t t = 0; t < L; ++t) {
      bp *= beta;
      acum[t] = (t > 0 ? acum[t - 1] : F(1)) * al[t];
      cc[t] = (t > 0 ? al[t] * cc[t - 1] : F(0)) + bp;
      F* rt = R.data() + t * L;
      F* ht = Hc.data() + t * L;
      const F* rp = rt - L;  // row t-1 (read only when t > 0)
      const F* hp = ht - L;
      F bj = beta;  // beta^(t-j) for j = t-1 down
      for (int64_t j = t - 1; j >= 0; --j, bj *= beta) {
        rt[j] = rp[j] * al[t];
        ht[j] = al[t] * hp[j] + et[j] * bj;
      }
      rt[t] = 1;
      ht[t] = et[t];
      for (int64_t j = t + 1; j < L; ++j) rt[j] = ht[j] = 0;
    }
    const F betaL = bp;
    F pw = 1;
    for (int64_t j = L - 1; j >= 0; --j, pw *= beta) eb[j] = et[j] * pw;  // eta_j beta^{L-1-j}
    const F* K = w.Kn.data() + r0 * D;  // [L, D]
    transpose<F>(L, D, K, D, Kt.data(), L);
    gemm<F>(L, L, D, K, D, Kt.data(), L, G.data(), L, false);  // G[t, j] = k_t . k_j
    const bool reads = o && !w.d.read_snapshot;
    for (int64_t m = 0; m < w.M; ++m) {
      F *W1 = w.W(kW1, m), *W2 = w.W(kW2, m), *S1 = w.S(kS1, m), *S2 = w.S(kS2, m);  // W2, S2 [D, Dh]
      const F *E = w.row(w.E, m, r0, D), *Ac = w.row(w.Ac, m, r0, Dh), *Gg = w.row(w.Gg, m, r0, Dh);
      gemm<F>(L, Dh, D, K, D, W2, Dh, P0.data(), Dh, false);  // W2_0 k_t
      gemm<F>(L, Dh, D, K, D, S2, Dh, PS.data(), Dh, false);  // S2_0 k_t
      for (int64_t t = 0; t < L; ++t) {  // u_t = -eta_t W2_{t-1} k_t
        const F a0 = t > 0 ? acum[t - 1] : F(1), c0 = t > 0 ? cc[t - 1] : F(0);
        const F* rp = R.data() + std::max<int64_t>(t - 1, 0) * L;  // row t-1 (unused at t = 0)
        const F* hp = Hc.data() + std::max<int64_t>(t - 1, 0) * L;
        const F* gt = G.data() + t * L;
        F* ut = U.data() + t * Dh;
        each<F>(Dh, [&](auto tag, int64_t c) {
          using P = decltype(tag);
          P z = a0 * vload<P>(P0.data() + t * Dh + c) + c0 * vload<P>(PS.data() + t * Dh + c);
          for (int64_t j = 0; j < t; ++j) {
            z += (rp[j] * gt[j]) * vload<P>(U.data() + j * Dh + c) - (hp[j] * gt[j]) * vload<P>(Gg + j * Dh + c);
          }
          vstore(ut + c, -et[t] * z);
        });
      }
      if (m == kMem && reads) read(w, r0, L, W1, W2, S1, S2, E, Ac, Gg, o, ldo);
      // piece-end states (W from the old S first)
      const F aL = acum[L - 1], cL = cc[L - 1];
      const F *rL = R.data() + (L - 1) * L, *hL = Hc.data() + (L - 1) * L;
      for (int64_t i = 0; i < D * Dh; ++i) {
        W1[i] = aL * W1[i] + cL * S1[i];
        W2[i] = aL * W2[i] + cL * S2[i];
        S1[i] *= betaL;
        S2[i] *= betaL;
      }
      for (int64_t j = 0; j < L; ++j) {  // W2 += K^T (R[L-1, j] u_j - H[L-1, j] g_j)
        for (int64_t c = 0; c < Dh; ++c) T1[j * Dh + c] = rL[j] * U[j * Dh + c] - hL[j] * Gg[j * Dh + c];
      }
      gemm<F, true>(D, Dh, L, K, D, T1.data(), Dh, W2, Dh, true);
      for (int64_t j = 0; j < L; ++j) {  // S2 -= K^T (eb_j g_j)
        for (int64_t c = 0; c < Dh; ++c) T1[j * Dh + c] = -eb[j] * Gg[j * Dh + c];
      }
      gemm<F, true>(D, Dh, L, K, D, T1.data(), Dh, S2, Dh, true);
      for (int64_t j = 0; j < L; ++j) {  // W1 -= E^T (H[L-1, j] a_j)
        for (int64_t c = 0; c < Dh; ++c) T1[j * Dh + c] = -hL[j] * Ac[j * Dh + c];
      }
      gemm<F, true>(D, Dh, L, E, D, T1.data(), Dh, W1, Dh, true);
      for (int64_t j = 0; j < L; ++j) {  // S1 -= E^T (eb_j a_j)
        for (int64_t c = 0; c < Dh; ++c) T1[j * Dh + c] = -eb[j] * Ac[j * Dh + c];
      }
      gemm<F, true>(D, Dh, L, E, D, T1.data(), Dh, S1, Dh, true);
    }
    if (o && w.d.read_snapshot) {
      for (int64_t t = 0; t < L; ++t) w.read(w.Qv.data() + (r0 + t) * D, o + t * ldo);
    }
  }

  // o_t = q_t + W1_t silu(W2_t q_t) for the piece's tokens, from the segment-start states.
  void read(Worker<F>& w, int64_t r0, int64_t L, const F* W1, const F* W2, const F* S1, const F* S2, const F* E,
            const F* Ac, const F* Gg, F* o, int64_t ldo) {
    using memvec::transpose;
    const F* Q = w.Qv.data() + r0 * D;  // [L, D]
    gemm<F>(L, L, D, Q, D, Kt.data(), L, QK.data(), L, false);  // q_t . k_j
    for (int64_t t = 0; t < L; ++t) {
      for (int64_t j = 0; j < L; ++j) {
        const bool in = j <= t;
        M1[t * L + j] = in ? R[t * L + j] * QK[t * L + j] : F(0);
        M2[t * L + j] = in ? -Hc[t * L + j] * QK[t * L + j] : F(0);
      }
    }
    gemm<F>(L, Dh, D, Q, D, W2, Dh, Z.data(), Dh, false);  // z = A_t W2_0 q_t + C_t S2_0 q_t + ...
    gemm<F>(L, Dh, D, Q, D, S2, Dh, T1.data(), Dh, false);
    for (int64_t t = 0; t < L; ++t) {
      for (int64_t c = 0; c < Dh; ++c) Z[t * Dh + c] = acum[t] * Z[t * Dh + c] + cc[t] * T1[t * Dh + c];
    }
    gemm<F>(L, Dh, L, M1.data(), L, U.data(), Dh, Z.data(), Dh, true);
    gemm<F>(L, Dh, L, M2.data(), L, Gg, Dh, Z.data(), Dh, true);
    sigmoid_n(L * Dh, Z.data(), SZ.data());
    for (int64_t i = 0; i < L * Dh; ++i) Z[i] *= SZ[i];  // y = silu(z)
    transpose<F>(D, Dh, W1, Dh, W1t.data(), D);
    transpose<F>(D, Dh, S1, Dh, S1t.data(), D);
    transpose<F>(L, Dh, Ac, Dh, Act.data(), L);
    gemm<F>(L, D, Dh, Z.data(), Dh, W1t.data(), D, Ot.data(), D, false);
    gemm<F>(L, D, Dh, Z.data(), Dh, S1t.data(), D, O2.data(), D, false);
    gemm<F>(L, L, Dh, Z.data(), Dh, Act.data(), L, QK.data(), L, false);  // y_t . a_j
    for (int64_t t = 0; t < L; ++t) {
      for (int64_t j = 0; j < L; ++j) M2[t * L + j] = j <= t ? -Hc[t * L + j] * QK[t * L + j] : F(0);
      for (int64_t c = 0; c < D; ++c) Ot[t * D + c] = Q[t * D + c] + acum[t] * Ot[t * D + c] + cc[t] * O2[t * D + c];
    }
    gemm<F>(L, D, L, M2.data(), L, E, D, Ot.data(), D, true);
    for (int64_t t = 0; t < L; ++t) {
      for (int64_t c = 0; c < D; ++c) o[t * ldo + c] = Ot[t * D + c];
    }
  }
};

}  // namespace nl::self_mod_detail

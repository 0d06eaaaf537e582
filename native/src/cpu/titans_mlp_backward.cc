// Titans MLP memory: backward in chunk (dual) form with chunk-boundary recompute. See titans_mlp.h
// and the forward in titans_mlp_chunk.cc (notation: P, A, E, Cm, Gm, R, Z, W = G_{tc,.} masked).
//
// Per (batch, head) the chunk forward recomputes W1, W2, S1, S2 at every chunk start; chunks are then
// reversed last to first. Given dO and the chunk-end gradients dW1L, dS1L, dW2L, dS2L:
//   end states: dE = -diag(g) A dW1L^T - diag(nu) A dS1L^T,  dA = -diag(g) E dW1L - diag(nu) E dS1L,
//               dGm = -diag(g) K dW2L^T - diag(nu) K dS2L^T, dK = -diag(g) Gm dW2L - diag(nu) Gm dS2L,
//               dg_j, dnu_j = -(row dots of the same products)
//   layer-1 read O = Q + diag(cb) Z W1'^T + diag(cf) Z S1'^T - (W . Z A^T) E
//   Z = silu(R);  layer-2 read R = diag(cb) Q W2'^T + diag(cf) Q S2'^T - (W . Q K^T) Gm
//   Gm = (E W1') . silu'(P),  E = K + A W1'^T - V,  A = silu(P),  P = K W2'^T
// each reversed with small matmuls, then the scalar coefficient recurrences for dtheta, deta, dalpha
// (as in titans_linear_backward.cc). Per-token weights are never formed.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/chunking.h"
#include "cpu/delta_rule_vec.h"
#include "cpu/thread_pool.h"
#include "cpu/titans_mlp.h"

namespace nl {
namespace {

template <typename F>
inline F sg(F x) {
  return F(1) / (F(1) + std::exp(-x));
}
template <typename F>
inline F d1(F x) {
  const F s = sg(x);
  return s * (F(1) + x * (F(1) - s));
}
template <typename F>
inline F d2(F x) {
  const F s = sg(x);
  return s * (F(1) - s) * (F(2) + x * (F(1) - F(2) * s));
}

template <typename F>
struct Work {
  Work(const TitansMlpDims& d, int64_t nchunks) {
    const size_t C = static_cast<size_t>(d.chunk), D = static_cast<size_t>(d.d), Dh = static_cast<size_t>(d.hidden);
    const size_t n = D * Dh;
    bound.resize(4 * static_cast<size_t>(nchunks) * n);
    for (auto* v : {&K, &Q, &E, &dO, &dE, &dK, &dQ, &T1, &Y1, &Y2}) v->resize(C * D);
    for (auto* v : {&P, &A, &Cm, &Gm, &R, &Z, &dA, &dGm, &dR, &dZ, &dP, &QW2, &QS2, &T2}) v->resize(C * Dh);
    for (auto* v : {&W1t, &W2t, &S1t, &S2t, &tW1, &tW2, &tS1, &tS2, &acc1, &acc2, &acc3, &acc4}) v->resize(n);
    for (auto* v : {&G, &N, &QK, &ZA, &M1, &M2}) v->resize(C * C);
    Xt.resize(std::max(std::max(D, Dh), C) * C);
    for (auto* v : {&mc, &bc, &fc, &dmc, &dbc, &dfc, &th, &et, &keep}) v->resize(C);
    fwd.resize(static_cast<size_t>(4) * n);
  }
  std::vector<F> bound, K, Q, E, dO, dE, dK, dQ, T1, Y1, Y2, P, A, Cm, Gm, R, Z, dA, dGm, dR, dZ, dP, QW2, QS2, T2;
  std::vector<F> W1t, W2t, S1t, S2t, tW1, tW2, tS1, tS2, acc1, acc2, acc3, acc4, G, N, QK, ZA, M1, M2, Xt;
  std::vector<F> mc, bc, fc, dmc, dbc, dfc, th, et, keep, fwd;
};

// dst [L, cols] (+)= -diag(w1) src1 - diag(w2) src2 (row scalings), src rows of width cols.
template <typename F>
inline void combine(int64_t L, int64_t cols, const F* w1, const F* s1, const F* w2, const F* s2, F* dst, bool acc) {
  for (int64_t i = 0; i < L; ++i)
    for (int64_t c = 0; c < cols; ++c) {
      const F x = -w1[i] * s1[i * cols + c] - w2[i] * s2[i * cols + c];
      dst[i * cols + c] = acc ? dst[i * cols + c] + x : x;
    }
}

template <typename F>
void chunk_backward(const TitansMlpDims& d, int64_t b, int64_t h, int64_t t0, int64_t L, const F* q, const F* k,
                    const F* v, const F* theta, const F* eta, const F* alpha, const F* d_o, const F* W1,
                    const F* W2, const F* S1, const F* S2, F* gW1, F* gW2, F* gS1, F* gS2, F* dq, F* dk, F* dv,
                    F* dtheta, F* deta, F* dalpha, Work<F>& w) {
  using memvec::dot;
  using memvec::matmul;
  using memvec::transpose;
  const int64_t T = d.seq, H = d.heads, D = d.d, Dh = d.hidden, C = d.chunk, n = D * Dh;
  F *K = w.K.data(), *Q = w.Q.data(), *E = w.E.data(), *dO = w.dO.data(), *dE = w.dE.data(), *dK = w.dK.data();
  F *dQ = w.dQ.data(), *T1 = w.T1.data(), *Y1 = w.Y1.data(), *Y2 = w.Y2.data(), *P = w.P.data(), *A = w.A.data();
  F *Cm = w.Cm.data(), *Gm = w.Gm.data(), *R = w.R.data(), *Z = w.Z.data(), *dA = w.dA.data(), *dGm = w.dGm.data();
  F *dR = w.dR.data(), *dZ = w.dZ.data(), *dP = w.dP.data(), *QW2 = w.QW2.data(), *QS2 = w.QS2.data();
  F *T2 = w.T2.data(), *W1t = w.W1t.data(), *W2t = w.W2t.data(), *S1t = w.S1t.data(), *S2t = w.S2t.data();
  F *tW1 = w.tW1.data(), *tW2 = w.tW2.data(), *tS1 = w.tS1.data(), *tS2 = w.tS2.data();
  F *aW1 = w.acc1.data(), *aW2 = w.acc2.data(), *aS1 = w.acc3.data(), *aS2 = w.acc4.data();
  F *G = w.G.data(), *N = w.N.data(), *QK = w.QK.data(), *ZA = w.ZA.data(), *M1 = w.M1.data(), *M2 = w.M2.data();
  F *Xt = w.Xt.data(), *mc = w.mc.data(), *bc = w.bc.data(), *fc = w.fc.data(), *dmc = w.dmc.data();
  F *dbc = w.dbc.data(), *dfc = w.dfc.data(), *th = w.th.data(), *et = w.et.data(), *keep = w.keep.data();
  // ---- recompute the chunk forward
  for (int64_t i = 0; i < L; ++i) {
    const int64_t row = (b * T + t0 + i) * H + h;
    std::copy(k + row * D, k + row * D + D, K + i * D);
    std::copy(q + row * D, q + row * D + D, Q + i * D);
    std::copy(d_o + row * D, d_o + row * D + D, dO + i * D);
    th[i] = theta[row];
    et[i] = eta[row];
    keep[i] = F(1) - alpha[row];
  }
  transpose<F>(D, Dh, W1, Dh, W1t, D);
  transpose<F>(Dh, D, W2, D, W2t, Dh);
  transpose<F>(D, Dh, S1, Dh, S1t, D);
  transpose<F>(Dh, D, S2, D, S2t, Dh);
  matmul<F>(L, Dh, D, K, D, W2t, Dh, P, Dh, false);
  for (int64_t x = 0; x < L * Dh; ++x) A[x] = P[x] * sg(P[x]);
  matmul<F>(L, D, Dh, A, Dh, W1t, D, E, D, false);
  for (int64_t i = 0; i < L; ++i) {
    const F* vi = v + ((b * T + t0 + i) * H + h) * D;
    for (int64_t c = 0; c < D; ++c) E[i * D + c] += K[i * D + c] - vi[c];
  }
  matmul<F>(L, Dh, D, E, D, W1, Dh, Cm, Dh, false);
  for (int64_t x = 0; x < L * Dh; ++x) Gm[x] = Cm[x] * d1(P[x]);
  F m_run = 1, b_run = 1, f_run = 0;
  for (int64_t t = 0; t < L; ++t) {
    m_run *= et[t];
    b_run *= keep[t];
    f_run = keep[t] * f_run + m_run;
    mc[t] = m_run;
    bc[t] = b_run;
    fc[t] = f_run;
    for (int64_t j = 0; j < t; ++j) {
      N[t * C + j] = et[t] * N[(t - 1) * C + j];
      G[t * C + j] = keep[t] * G[(t - 1) * C + j] + N[t * C + j];
    }
    N[t * C + t] = th[t];
    G[t * C + t] = th[t];
  }
  auto coef = [&](int64_t t, F* cb, F* cf) {
    const int64_t tc = d.read_after ? t : t - 1;
    *cb = tc >= 0 ? bc[tc] : F(1);
    *cf = tc >= 0 ? fc[tc] : F(0);
    return tc;
  };
  transpose<F>(L, D, K, D, Xt, C);
  matmul<F>(L, L, D, Q, D, Xt, C, QK, C, false);  // raw Q K^T
  matmul<F>(L, Dh, D, Q, D, W2t, Dh, QW2, Dh, false);
  matmul<F>(L, Dh, D, Q, D, S2t, Dh, QS2, Dh, false);
  for (int64_t t = 0; t < L; ++t) {
    F cb, cf;
    const int64_t tc = coef(t, &cb, &cf);
    for (int64_t j = 0; j < Dh; ++j) R[t * Dh + j] = cb * QW2[t * Dh + j] + cf * QS2[t * Dh + j];
    for (int64_t j = 0; j < L; ++j) M1[t * C + j] = j <= tc ? -G[tc * C + j] * QK[t * C + j] : F(0);  // -(W.QK)
  }
  matmul<F>(L, Dh, L, M1, C, Gm, Dh, R, Dh, true);
  for (int64_t x = 0; x < L * Dh; ++x) Z[x] = R[x] * sg(R[x]);
  transpose<F>(L, Dh, A, Dh, Xt, C);
  matmul<F>(L, L, Dh, Z, Dh, Xt, C, ZA, C, false);  // raw Z A^T
  matmul<F>(L, D, Dh, Z, Dh, W1t, D, Y1, D, false);
  matmul<F>(L, D, Dh, Z, Dh, S1t, D, Y2, D, false);
  // ---- adjoints
  std::fill(dmc, dmc + L, F(0));
  std::fill(dbc, dbc + L, F(0));
  std::fill(dfc, dfc + L, F(0));
  std::fill(M2, M2 + C * C, F(0));  // dG
  F* dG = M2;
  std::vector<F> dN(static_cast<size_t>(C * C), F(0));
  const int64_t last = L - 1;
  for (int64_t x = 0; x < n; ++x) {
    aW1[x] = bc[last] * gW1[x];
    aW2[x] = bc[last] * gW2[x];
    aS1[x] = fc[last] * gW1[x] + mc[last] * gS1[x];
    aS2[x] = fc[last] * gW2[x] + mc[last] * gS2[x];
  }
  dbc[last] += dot(W1, gW1, n) + dot(W2, gW2, n);
  dfc[last] += dot(S1, gW1, n) + dot(S2, gW2, n);
  dmc[last] += dot(S1, gS1, n) + dot(S2, gS2, n);
  // end states, layer 1: -E^T diag(g) A, -E^T diag(nu) A
  transpose<F>(D, Dh, gW1, Dh, tW1, D);
  transpose<F>(D, Dh, gS1, Dh, tS1, D);
  matmul<F>(L, D, Dh, A, Dh, tW1, D, T1, D, false);  // A dW1L^T
  matmul<F>(L, D, Dh, A, Dh, tS1, D, dE, D, false);  // A dS1L^T (temp)
  const F* g = G + last * C;
  const F* nu = N + last * C;
  for (int64_t j = 0; j < L; ++j) {
    dG[last * C + j] -= dot(E + j * D, T1 + j * D, D);
    dN[static_cast<size_t>(last * C + j)] -= dot(E + j * D, dE + j * D, D);
  }
  combine(L, D, g, T1, nu, dE, dE, false);
  matmul<F>(L, Dh, D, E, D, gW1, Dh, T2, Dh, false);  // E dW1L
  matmul<F>(L, Dh, D, E, D, gS1, Dh, dA, Dh, false);  // E dS1L (temp)
  combine(L, Dh, g, T2, nu, dA, dA, false);
  // end states, layer 2: -Gm^T diag(g) K, -Gm^T diag(nu) K
  transpose<F>(Dh, D, gW2, D, tW2, Dh);
  transpose<F>(Dh, D, gS2, D, tS2, Dh);
  matmul<F>(L, Dh, D, K, D, tW2, Dh, T2, Dh, false);   // K dW2L^T
  matmul<F>(L, Dh, D, K, D, tS2, Dh, dGm, Dh, false);  // K dS2L^T (temp)
  for (int64_t j = 0; j < L; ++j) {
    dG[last * C + j] -= dot(Gm + j * Dh, T2 + j * Dh, Dh);
    dN[static_cast<size_t>(last * C + j)] -= dot(Gm + j * Dh, dGm + j * Dh, Dh);
  }
  combine(L, Dh, g, T2, nu, dGm, dGm, false);
  matmul<F>(L, D, Dh, Gm, Dh, gW2, D, T1, D, false);  // Gm dW2L
  matmul<F>(L, D, Dh, Gm, Dh, gS2, D, dK, D, false);  // Gm dS2L (temp)
  combine(L, D, g, T1, nu, dK, dK, false);
  // ---- layer-1 read
  std::copy(dO, dO + L * D, dQ);
  for (int64_t t = 0; t < L; ++t) {
    F cb, cf;
    const int64_t tc = coef(t, &cb, &cf);
    if (tc >= 0) {
      dbc[tc] += dot(Y1 + t * D, dO + t * D, D);
      dfc[tc] += dot(Y2 + t * D, dO + t * D, D);
    }
    for (int64_t c = 0; c < D; ++c) {
      T1[t * D + c] = cb * dO[t * D + c];  // dY1
      Y2[t * D + c] = cf * dO[t * D + c];  // dY2 (Y2 no longer needed)
    }
  }
  matmul<F>(L, Dh, D, T1, D, W1, Dh, dZ, Dh, false);  // dZ = dY1 W1'
  matmul<F>(L, Dh, D, Y2, D, S1, Dh, dZ, Dh, true);   // + dY2 S1'
  transpose<F>(L, D, T1, D, Xt, C);
  matmul<F>(D, Dh, L, Xt, C, Z, Dh, aW1, Dh, true);  // dW1' += dY1^T Z
  transpose<F>(L, D, Y2, D, Xt, C);
  matmul<F>(D, Dh, L, Xt, C, Z, Dh, aS1, Dh, true);  // dS1' += dY2^T Z
  transpose<F>(L, D, E, D, Xt, C);
  matmul<F>(L, L, D, dO, D, Xt, C, M1, C, false);  // dO E^T = -dPZ
  for (int64_t t = 0; t < L; ++t) {
    const int64_t tc = d.read_after ? t : t - 1;
    for (int64_t j = 0; j < L; ++j) {
      if (j <= tc) {
        const F dPZ = -M1[t * C + j];
        dG[tc * C + j] += dPZ * ZA[t * C + j];
        M1[t * C + j] = G[tc * C + j] * dPZ;                     // dZA
        ZA[t * C + j] = -G[tc * C + j] * ZA[t * C + j];          // -PZ
      } else {
        M1[t * C + j] = 0;
        ZA[t * C + j] = 0;
      }
    }
  }
  transpose<F>(L, L, ZA, C, Xt, C);                  // -PZ^T
  matmul<F>(L, D, L, Xt, C, dO, D, dE, D, true);     // dE -= PZ^T dO
  matmul<F>(L, Dh, L, M1, C, A, Dh, dZ, Dh, true);   // dZ += dZA A
  transpose<F>(L, L, M1, C, Xt, C);
  matmul<F>(L, Dh, L, Xt, C, Z, Dh, dA, Dh, true);   // dA += dZA^T Z
  // ---- Z = silu(R); layer-2 read
  for (int64_t x = 0; x < L * Dh; ++x) dR[x] = dZ[x] * d1(R[x]);
  for (int64_t t = 0; t < L; ++t) {
    F cb, cf;
    const int64_t tc = coef(t, &cb, &cf);
    if (tc >= 0) {
      dbc[tc] += dot(QW2 + t * Dh, dR + t * Dh, Dh);
      dfc[tc] += dot(QS2 + t * Dh, dR + t * Dh, Dh);
    }
    for (int64_t j = 0; j < Dh; ++j) {
      QW2[t * Dh + j] = cb * dR[t * Dh + j];  // diag(cb) dR
      QS2[t * Dh + j] = cf * dR[t * Dh + j];  // diag(cf) dR
    }
  }
  matmul<F>(L, D, Dh, QW2, Dh, W2, D, dQ, D, true);  // dQ += diag(cb) dR W2'
  matmul<F>(L, D, Dh, QS2, Dh, S2, D, dQ, D, true);  // dQ += diag(cf) dR S2'
  transpose<F>(L, Dh, QW2, Dh, Xt, C);
  matmul<F>(Dh, D, L, Xt, C, Q, D, aW2, D, true);  // dW2' += (cb dR)^T Q
  transpose<F>(L, Dh, QS2, Dh, Xt, C);
  matmul<F>(Dh, D, L, Xt, C, Q, D, aS2, D, true);  // dS2' += (cf dR)^T Q
  transpose<F>(L, Dh, Gm, Dh, Xt, C);
  matmul<F>(L, L, Dh, dR, Dh, Xt, C, M1, C, false);  // dR Gm^T = -dPQ
  for (int64_t t = 0; t < L; ++t) {
    const int64_t tc = d.read_after ? t : t - 1;
    for (int64_t j = 0; j < L; ++j) {
      if (j <= tc) {
        const F dPQ = -M1[t * C + j];
        dG[tc * C + j] += dPQ * QK[t * C + j];
        M1[t * C + j] = G[tc * C + j] * dPQ;              // dQK
        ZA[t * C + j] = -G[tc * C + j] * QK[t * C + j];   // -PQ
      } else {
        M1[t * C + j] = 0;
        ZA[t * C + j] = 0;
      }
    }
  }
  transpose<F>(L, L, ZA, C, Xt, C);
  matmul<F>(L, Dh, L, Xt, C, dR, Dh, dGm, Dh, true);  // dGm -= PQ^T dR
  matmul<F>(L, D, L, M1, C, K, D, dQ, D, true);       // dQ += dQK K
  transpose<F>(L, L, M1, C, Xt, C);
  matmul<F>(L, D, L, Xt, C, Q, D, dK, D, true);       // dK += dQK^T Q
  // ---- Gm = Cm . silu'(P), Cm = E W1'
  for (int64_t x = 0; x < L * Dh; ++x) {
    dP[x] = dGm[x] * Cm[x] * d2(P[x]);
    dGm[x] *= d1(P[x]);  // dCm
  }
  matmul<F>(L, D, Dh, dGm, Dh, W1t, D, dE, D, true);  // dE += dCm W1'^T
  transpose<F>(L, D, E, D, Xt, C);
  matmul<F>(D, Dh, L, Xt, C, dGm, Dh, aW1, Dh, true);  // dW1' += E^T dCm
  // ---- E = K + A W1'^T - V
  for (int64_t x = 0; x < L * D; ++x) dK[x] += dE[x];
  matmul<F>(L, Dh, D, dE, D, W1, Dh, dA, Dh, true);  // dA += dE W1'
  transpose<F>(L, D, dE, D, Xt, C);
  matmul<F>(D, Dh, L, Xt, C, A, Dh, aW1, Dh, true);  // dW1' += dE^T A
  // ---- A = silu(P), P = K W2'^T
  for (int64_t x = 0; x < L * Dh; ++x) dP[x] += dA[x] * d1(P[x]);
  matmul<F>(L, D, Dh, dP, Dh, W2, D, dK, D, true);  // dK += dP W2'
  transpose<F>(L, Dh, dP, Dh, Xt, C);
  matmul<F>(Dh, D, L, Xt, C, K, D, aW2, D, true);  // dW2' += dP^T K
  // ---- scalar coefficient recurrences, reversed (as titans_linear_backward.cc)
  for (int64_t t = L - 1; t >= 0; --t) {
    const F f_prev = t > 0 ? fc[t - 1] : F(0), b_prev = t > 0 ? bc[t - 1] : F(1), m_prev = t > 0 ? mc[t - 1] : F(1);
    F dal = -dfc[t] * f_prev - dbc[t] * b_prev;
    dmc[t] += dfc[t];
    F det = dmc[t] * m_prev;
    if (t > 0) {
      dfc[t - 1] += keep[t] * dfc[t];
      dbc[t - 1] += keep[t] * dbc[t];
      dmc[t - 1] += et[t] * dmc[t];
    }
    for (int64_t j = 0; j < t; ++j) {
      const F gg = dG[t * C + j];
      dal -= gg * G[(t - 1) * C + j];
      dG[(t - 1) * C + j] += keep[t] * gg;
      dN[static_cast<size_t>(t * C + j)] += gg;
      det += dN[static_cast<size_t>(t * C + j)] * N[(t - 1) * C + j];
      dN[static_cast<size_t>((t - 1) * C + j)] += et[t] * dN[static_cast<size_t>(t * C + j)];
    }
    const int64_t row = (b * T + t0 + t) * H + h;
    dalpha[row] = dal;
    deta[row] = det;
    dtheta[row] = dG[t * C + t] + dN[static_cast<size_t>(t * C + t)];
    std::copy(dQ + t * D, dQ + (t + 1) * D, dq + row * D);
    std::copy(dK + t * D, dK + (t + 1) * D, dk + row * D);
    for (int64_t c = 0; c < D; ++c) dv[row * D + c] = -dE[t * D + c];
  }
  std::copy(aW1, aW1 + n, gW1);
  std::copy(aW2, aW2 + n, gW2);
  std::copy(aS1, aS1 + n, gS1);
  std::copy(aS2, aS2 + n, gS2);
}

}  // namespace

template <typename F>
void titans_mlp_backward(const TitansMlpDims& dims, const F* q, const F* k, const F* v, const F* theta, const F* eta,
                         const F* alpha, const F* w1, const F* w2, const F* s1, const F* s2, const F* d_o,
                         const F* d_w1, const F* d_w2, const F* d_s1, const F* d_s2, F* dq, F* dk, F* dv,
                         F* dtheta, F* deta, F* dalpha, F* dw1, F* dw2, F* ds1, F* ds2) {
  const TitansMlpDims d = with_effective_chunk(dims);  // chunk >= T is one chunk of T (same result)
  const int64_t D = d.d, Dh = d.hidden, n = D * Dh, T = d.seq, H = d.heads, C = d.chunk;
  const int64_t nchunks = std::max<int64_t>((T + C - 1) / C, 1);
  parallel_for(d.batch * H, 1, [&](int64_t begin, int64_t end) {
    Work<F> w(d, nchunks);
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / H, h = bh % H;
      // forward through the chunks, keeping W1, W2, S1, S2 at every chunk start
      F *W1 = w.fwd.data(), *W2 = W1 + n, *S1 = W2 + n, *S2 = S1 + n;
      std::copy(w1 + bh * n, w1 + (bh + 1) * n, W1);
      std::copy(w2 + bh * n, w2 + (bh + 1) * n, W2);
      for (int64_t i = 0; i < n; ++i) {
        S1[i] = s1 ? s1[bh * n + i] : F(0);
        S2[i] = s2 ? s2[bh * n + i] : F(0);
      }
      F* bd = w.bound.data();
      for (int64_t c = 0; c * C < T; ++c) {
        std::copy(W1, W1 + 4 * n, bd + c * 4 * n);
        titans_mlp_detail::chunk_step<F>(d, b, h, c * C, std::min(C, T - c * C), q, k, v, theta, eta, alpha, W1,
                                         W2, S1, S2);
      }
      F *gW1 = dw1 + bh * n, *gW2 = dw2 + bh * n, *gS1 = ds1 + bh * n, *gS2 = ds2 + bh * n;
      for (int64_t i = 0; i < n; ++i) {
        gW1[i] = d_w1 ? d_w1[bh * n + i] : F(0);
        gW2[i] = d_w2 ? d_w2[bh * n + i] : F(0);
        gS1[i] = d_s1 ? d_s1[bh * n + i] : F(0);
        gS2[i] = d_s2 ? d_s2[bh * n + i] : F(0);
      }
      for (int64_t c = (T + C - 1) / C - 1; c >= 0; --c) {
        const F* st = bd + c * 4 * n;
        chunk_backward<F>(d, b, h, c * C, std::min(C, T - c * C), q, k, v, theta, eta, alpha, d_o, st, st + n,
                          st + 2 * n, st + 3 * n, gW1, gW2, gS1, gS2, dq, dk, dv, dtheta, deta, dalpha, w);
      }
    }
  });
}

template void titans_mlp_backward<float>(const TitansMlpDims&, const float*, const float*, const float*,
                                         const float*, const float*, const float*, const float*, const float*,
                                         const float*, const float*, const float*, const float*, const float*,
                                         const float*, const float*, float*, float*, float*, float*, float*, float*,
                                         float*, float*, float*, float*);
template void titans_mlp_backward<double>(const TitansMlpDims&, const double*, const double*, const double*,
                                          const double*, const double*, const double*, const double*, const double*,
                                          const double*, const double*, const double*, const double*, const double*,
                                          const double*, const double*, double*, double*, double*, double*, double*,
                                          double*, double*, double*, double*, double*);

}  // namespace nl

// Titans MLP memory: chunk (dual) form of the forward (version 2 of the forward; see titans_mlp.h).
//
// Inside a chunk of L tokens with start weights W1', W2' and momenta S1', S2' (coefficients m, b, f,
// n_{j,t}, G_{t,j} exactly as for the linear memory, titans_linear.cc), the inner-gradient factors
// of every token come from the start weights in batched products:
//   P = K W2'^T, A = silu(P), E = K + A W1'^T - V, Cm = E W1', Gm = Cm . silu'(P)
// and, because each layer's read is linear in that layer's per-token weights,
//   R = diag(cb) Q W2'^T + diag(cf) Q S2'^T - (W . Q K^T) Gm,  Z = silu(R)
//   O = Q + diag(cb) Z W1'^T + diag(cf) Z S1'^T - (W . Z A^T) E
// with W_tj = G_{tc,j} for j <= tc (tc = t, or t - 1 when reading before the write). Chunk end:
//   W1 = b_L W1' + f_L S1' - E^T diag(g) A,   S1 = m_L S1' - E^T diag(nu) A
//   W2 = b_L W2' + f_L S2' - Gm^T diag(g) K,  S2 = m_L S2' - Gm^T diag(nu) K
// Per-token weights are never formed.
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
struct ChunkWork {
  explicit ChunkWork(const TitansMlpDims& d) {
    const size_t C = static_cast<size_t>(d.chunk), D = static_cast<size_t>(d.d), Dh = static_cast<size_t>(d.hidden);
    for (auto* v : {&K, &Q, &E, &Y}) v->resize(C * D);
    for (auto* v : {&P, &A, &Gm, &R}) v->resize(C * Dh);
    for (auto* v : {&W1t, &W2t, &S1t, &S2t}) v->resize(D * Dh);
    for (auto* v : {&G, &QK, &ZA}) v->resize(C * C);
    for (auto* v : {&Xt}) v->resize(std::max(D, Dh) * C);
    for (auto* v : {&mc, &bc, &fc, &nvec, &wv}) v->resize(C);
  }
  std::vector<F> K, Q, E, Y, P, A, Gm, R, W1t, W2t, S1t, S2t, G, QK, ZA, Xt, mc, bc, fc, nvec, wv;
};

// Outputs of one chunk (the two dual-form reads); K, Q, A, E, Gm, G, bc, fc and the transposed
// start weights/momenta must already be in w (chunk_forward fills them).
template <typename F>
void read_chunk(const TitansMlpDims& d, int64_t b, int64_t h, int64_t t0, int64_t L, const F* q, ChunkWork<F>& w,
                F* o) {
  using memvec::matmul;
  using memvec::transpose;
  const int64_t T = d.seq, H = d.heads, D = d.d, Dh = d.hidden, C = d.chunk;
  F *K = w.K.data(), *Q = w.Q.data(), *E = w.E.data(), *Y = w.Y.data(), *P = w.P.data(), *A = w.A.data();
  F *Gm = w.Gm.data(), *R = w.R.data(), *W1t = w.W1t.data(), *W2t = w.W2t.data(), *S1t = w.S1t.data();
  F *S2t = w.S2t.data(), *G = w.G.data(), *QK = w.QK.data(), *ZA = w.ZA.data(), *Xt = w.Xt.data();
  F *bc = w.bc.data(), *fc = w.fc.data();
  // layer 2 read: R = diag(cb) Q W2'^T + diag(cf) Q S2'^T - (W . Q K^T) Gm
  transpose<F>(L, D, K, D, Xt, C);
  matmul<F>(L, L, D, Q, D, Xt, C, QK, C, false);
  matmul<F>(L, Dh, D, Q, D, W2t, Dh, R, Dh, false);
  matmul<F>(L, Dh, D, Q, D, S2t, Dh, P, Dh, false);  // P reused: Q S2'^T
  for (int64_t t = 0; t < L; ++t) {
    const int64_t tc = d.read_after ? t : t - 1;
    const F cb = tc >= 0 ? bc[tc] : F(1), cf = tc >= 0 ? fc[tc] : F(0);
    for (int64_t j = 0; j < Dh; ++j) R[t * Dh + j] = cb * R[t * Dh + j] + cf * P[t * Dh + j];
    for (int64_t j = 0; j < L; ++j) QK[t * C + j] = j <= tc ? -G[tc * C + j] * QK[t * C + j] : F(0);
  }
  matmul<F>(L, Dh, L, QK, C, Gm, Dh, R, Dh, true);
  for (int64_t x = 0; x < L * Dh; ++x) R[x] = R[x] * sg(R[x]);  // Z
  // layer 1 read: O = Q + diag(cb) Z W1'^T + diag(cf) Z S1'^T - (W . Z A^T) E
  transpose<F>(L, Dh, A, Dh, Xt, C);
  matmul<F>(L, L, Dh, R, Dh, Xt, C, ZA, C, false);
  matmul<F>(L, D, Dh, R, Dh, W1t, D, Y, D, false);
  matmul<F>(L, D, Dh, R, Dh, S1t, D, Q, D, false);  // Q reused (free after QK, Q W2'^T, Q S2'^T): Z S1'^T
  for (int64_t t = 0; t < L; ++t) {
    const int64_t tc = d.read_after ? t : t - 1;
    const F cb = tc >= 0 ? bc[tc] : F(1), cf = tc >= 0 ? fc[tc] : F(0);
    F* ot = o + ((b * T + t0 + t) * H + h) * D;
    const F* qt = q + ((b * T + t0 + t) * H + h) * D;
    for (int64_t c = 0; c < D; ++c) ot[c] = qt[c] + cb * Y[t * D + c] + cf * Q[t * D + c];
    for (int64_t j = 0; j < L; ++j) ZA[t * C + j] = j <= tc ? -G[tc * C + j] * ZA[t * C + j] : F(0);
  }
  matmul<F>(L, D, L, ZA, C, E, D, o + ((b * T + t0) * H + h) * D, H * D, true);
}

template <typename F>
void chunk_forward(const TitansMlpDims& d, int64_t b, int64_t h, int64_t t0, int64_t L, const F* q, const F* k,
                   const F* v, const F* theta, const F* eta, const F* alpha, F* W1, F* W2, F* S1, F* S2, F* o,
                   ChunkWork<F>& w) {
  using memvec::matmul;
  using memvec::transpose;
  const int64_t T = d.seq, H = d.heads, D = d.d, Dh = d.hidden, C = d.chunk, n = D * Dh;
  F *K = w.K.data(), *Q = w.Q.data(), *E = w.E.data(), *P = w.P.data(), *A = w.A.data();
  F *Gm = w.Gm.data(), *W1t = w.W1t.data(), *W2t = w.W2t.data(), *S1t = w.S1t.data();
  F *S2t = w.S2t.data(), *G = w.G.data(), *Xt = w.Xt.data();
  F *mc = w.mc.data(), *bc = w.bc.data(), *fc = w.fc.data(), *nvec = w.nvec.data(), *wv = w.wv.data();
  for (int64_t i = 0; i < L; ++i) {
    const int64_t row = (b * T + t0 + i) * H + h;
    std::copy(k + row * D, k + row * D + D, K + i * D);
    if (o) std::copy(q + row * D, q + row * D + D, Q + i * D);
  }
  transpose<F>(D, Dh, W1, Dh, W1t, D);  // [Dh, D]
  transpose<F>(Dh, D, W2, D, W2t, Dh);  // [D, Dh]
  transpose<F>(D, Dh, S1, Dh, S1t, D);
  transpose<F>(Dh, D, S2, D, S2t, Dh);
  // inner-gradient factors at the chunk-start weights
  matmul<F>(L, Dh, D, K, D, W2t, Dh, P, Dh, false);
  for (int64_t x = 0; x < L * Dh; ++x) A[x] = P[x] * sg(P[x]);
  matmul<F>(L, D, Dh, A, Dh, W1t, D, E, D, false);
  for (int64_t i = 0; i < L; ++i) {
    const F* vi = v + ((b * T + t0 + i) * H + h) * D;
    for (int64_t c = 0; c < D; ++c) E[i * D + c] += K[i * D + c] - vi[c];
  }
  matmul<F>(L, Dh, D, E, D, W1, Dh, Gm, Dh, false);  // Cm = E W1'
  for (int64_t x = 0; x < L * Dh; ++x) {
    const F s = sg(P[x]);
    Gm[x] *= s * (F(1) + P[x] * (F(1) - s));
  }
  // coefficients
  F m_run = 1, b_run = 1, f_run = 0;
  for (int64_t t = 0; t < L; ++t) {
    const int64_t row = (b * T + t0 + t) * H + h;
    const F et = eta[row], keep = F(1) - alpha[row];
    m_run *= et;
    b_run *= keep;
    f_run = keep * f_run + m_run;
    mc[t] = m_run;
    bc[t] = b_run;
    fc[t] = f_run;
    for (int64_t j = 0; j < t; ++j) {
      nvec[j] *= et;
      G[t * C + j] = keep * G[(t - 1) * C + j] + nvec[j];
    }
    nvec[t] = theta[row];
    G[t * C + t] = theta[row];
  }
  if (o) read_chunk(d, b, h, t0, L, q, w, o);
  // chunk-end weights and momenta
  const int64_t last = L - 1;
  const F bL = bc[last], fL = fc[last], mL = mc[last];
  for (int64_t x = 0; x < n; ++x) {
    W1[x] = bL * W1[x] + fL * S1[x];
    W2[x] = bL * W2[x] + fL * S2[x];
    S1[x] *= mL;
    S2[x] *= mL;
  }
  for (int64_t j = 0; j < L; ++j) wv[j] = -G[last * C + j];
  for (int64_t j = 0; j < L; ++j) nvec[j] = -nvec[j];
  transpose<F>(L, D, E, D, Xt, C, wv);  // -E^T diag(g) [D, L]
  matmul<F>(D, Dh, L, Xt, C, A, Dh, W1, Dh, true);
  transpose<F>(L, D, E, D, Xt, C, nvec);
  matmul<F>(D, Dh, L, Xt, C, A, Dh, S1, Dh, true);
  transpose<F>(L, Dh, Gm, Dh, Xt, C, wv);  // -Gm^T diag(g) [Dh, L]
  matmul<F>(Dh, D, L, Xt, C, K, D, W2, D, true);
  transpose<F>(L, Dh, Gm, Dh, Xt, C, nvec);
  matmul<F>(Dh, D, L, Xt, C, K, D, S2, D, true);
}

}  // namespace

namespace titans_mlp_detail {
template <typename F>
void chunk_step(const TitansMlpDims& d, int64_t b, int64_t h, int64_t t0, int64_t L, const F* q, const F* k,
                const F* v, const F* theta, const F* eta, const F* alpha, F* W1, F* W2, F* S1, F* S2) {
  ChunkWork<F> w(d);
  chunk_forward<F>(d, b, h, t0, L, q, k, v, theta, eta, alpha, W1, W2, S1, S2, nullptr, w);
}
template void chunk_step<float>(const TitansMlpDims&, int64_t, int64_t, int64_t, int64_t, const float*, const float*,
                                const float*, const float*, const float*, const float*, float*, float*, float*,
                                float*);
template void chunk_step<double>(const TitansMlpDims&, int64_t, int64_t, int64_t, int64_t, const double*,
                                 const double*, const double*, const double*, const double*, const double*, double*,
                                 double*, double*, double*);
}  // namespace titans_mlp_detail

template <typename F>
void titans_mlp_forward(const TitansMlpDims& dims, const F* q, const F* k, const F* v, const F* theta, const F* eta,
                        const F* alpha, const F* w1, const F* w2, const F* s1, const F* s2, F* o, F* w1_out,
                        F* w2_out, F* s1_out, F* s2_out) {
  const TitansMlpDims d = with_effective_chunk(dims);  // chunk >= T is one chunk of T (same result)
  const int64_t n = d.d * d.hidden, T = d.seq;
  parallel_for(d.batch * d.heads, 1, [&](int64_t begin, int64_t end) {
    ChunkWork<F> w(d);
    for (int64_t bh = begin; bh < end; ++bh) {
      F *W1 = w1_out + bh * n, *W2 = w2_out + bh * n, *S1 = s1_out + bh * n, *S2 = s2_out + bh * n;
      std::copy(w1 + bh * n, w1 + (bh + 1) * n, W1);
      std::copy(w2 + bh * n, w2 + (bh + 1) * n, W2);
      for (int64_t i = 0; i < n; ++i) {
        S1[i] = s1 ? s1[bh * n + i] : F(0);
        S2[i] = s2 ? s2[bh * n + i] : F(0);
      }
      for (int64_t t0 = 0; t0 < T; t0 += d.chunk) {
        chunk_forward<F>(d, bh / d.heads, bh % d.heads, t0, std::min(d.chunk, T - t0), q, k, v, theta, eta, alpha,
                         W1, W2, S1, S2, o, w);
      }
    }
  });
}

template void titans_mlp_forward<float>(const TitansMlpDims&, const float*, const float*, const float*, const float*,
                                        const float*, const float*, const float*, const float*, const float*,
                                        const float*, float*, float*, float*, float*, float*);
template void titans_mlp_forward<double>(const TitansMlpDims&, const double*, const double*, const double*,
                                         const double*, const double*, const double*, const double*, const double*,
                                         const double*, const double*, double*, double*, double*, double*, double*);

}  // namespace nl

// Titans linear memory: chunked backward (closed form, small matmuls) with chunk-boundary recompute.
// See titans_linear.h; forward notation in titans_linear.cc.
//
// Per (batch, head) the chunked forward recomputes M0, S0 at every chunk start; chunks are then
// visited last to first. In a chunk (E = K M0^T - V, P_tj = W_tj QK_tj with W_tj = G_{tc,j}, j <= tc):
//   O   = diag(cb) Q M0^T + diag(cf) Q S0^T - P E
//   M_L = b_L M0 + f_L S0 - E^T diag(g) K,   g_j = G_{L,j}
//   S_L = m_L S0 - E^T diag(nu) K,           nu_j = n_{j,L}
// Given dM = dL/dM_L, dS = dL/dS_L and dO:
//   dE  = -diag(g) K dM^T - diag(nu) K dS^T - P^T dO          dK = -diag(g) E dM - diag(nu) E dS
//   dg_j = -e_j.(dM k_j), dnu_j = -e_j.(dS k_j), dP = -dO E^T -> dW = dP . QK, dQK = W . dP
//   dQ  = dQK K + diag(cb) dO M0 + diag(cf) dO S0,   dK += dQK^T Q + dE M0,   dv = -dE
//   dM0 = b_L dM + (diag(cb) dO)^T Q + dE^T K,       dS0 = f_L dM + m_L dS + (diag(cf) dO)^T Q
// then the scalar coefficient recurrences (m, b, f, n, G) are reversed token by token to give
// dtheta, deta, dalpha (O(C^2) per chunk, no divisions).
#include <algorithm>
#include <vector>

#include "cpu/chunking.h"
#include "cpu/delta_rule_vec.h"
#include "cpu/thread_pool.h"
#include "cpu/titans_linear.h"

namespace nl {
namespace {

template <typename F>
struct Work {
  explicit Work(const TitansLinearDims& d) {
    const size_t C = static_cast<size_t>(d.chunk), dk = static_cast<size_t>(d.dk), dv = static_cast<size_t>(d.dv);
    const size_t nch = static_cast<size_t>(std::max<int64_t>((d.seq + d.chunk - 1) / d.chunk, 1));
    m_bound.resize(nch * dk * dv);
    s_bound.resize(nch * dk * dv);
    fwd_scratch.resize(static_cast<size_t>(titans_detail::scratch_size(d)));
    for (auto* v : {&K, &Q, &dKc, &dQc, &T1}) v->resize(C * dk);
    Kt.resize(dk * C);
    for (auto* v : {&E, &QM, &QS, &dO, &dE, &T2, &dQM, &dQS}) v->resize(C * dv);
    for (auto* v : {&Et, &Tt}) v->resize(dv * C);
    for (auto* v : {&Mt, &St, &dMt, &dSt, &Macc, &Sacc, &M, &S}) v->resize(dk * dv);
    for (auto* v : {&G, &N, &QK, &dG, &dN, &M1, &M2}) v->resize(C * C);
    for (auto* v : {&mc, &bc, &fc, &dmc, &dbc, &dfc, &th, &et, &keep}) v->resize(C);
  }
  std::vector<F> m_bound, s_bound, fwd_scratch, K, Q, dKc, dQc, T1, Kt, E, QM, QS, dO, dE, T2, dQM, dQS, Et, Tt;
  std::vector<F> Mt, St, dMt, dSt, Macc, Sacc, M, S, G, N, QK, dG, dN, M1, M2, mc, bc, fc, dmc, dbc, dfc, th, et,
      keep;
};

template <typename F>
void chunk_backward(const TitansLinearDims& d, int64_t b, int64_t h, int64_t t0, int64_t L, const F* q, const F* k,
                    const F* v, const F* theta, const F* eta, const F* alpha, const F* d_o, const F* M0,
                    const F* S0, F* dM, F* dS, F* dq_out, F* dk_out, F* dv_out, F* dtheta, F* deta, F* dalpha,
                    Work<F>& w) {
  using memvec::dot;
  using memvec::matmul;
  using memvec::transpose;
  const int64_t T = d.seq, H = d.heads, dk = d.dk, dv = d.dv, C = d.chunk, n = dk * dv;
  F *K = w.K.data(), *Q = w.Q.data(), *Kt = w.Kt.data(), *E = w.E.data(), *QM = w.QM.data(), *QS = w.QS.data();
  F *dO = w.dO.data(), *dE = w.dE.data(), *T1 = w.T1.data(), *T2 = w.T2.data(), *Et = w.Et.data();
  F *Tt = w.Tt.data(), *Mt = w.Mt.data(), *St = w.St.data(), *dMt = w.dMt.data(), *dSt = w.dSt.data();
  F *Macc = w.Macc.data(), *Sacc = w.Sacc.data(), *G = w.G.data(), *N = w.N.data(), *QK = w.QK.data();
  F *dG = w.dG.data(), *dN = w.dN.data(), *M1 = w.M1.data(), *M2 = w.M2.data(), *dKc = w.dKc.data();
  F *dQc = w.dQc.data(), *dQM = w.dQM.data(), *dQS = w.dQS.data(), *mc = w.mc.data(), *bc = w.bc.data();
  F *fc = w.fc.data(), *dmc = w.dmc.data(), *dbc = w.dbc.data(), *dfc = w.dfc.data(), *th = w.th.data();
  F *et = w.et.data(), *keep = w.keep.data();
  // ---- recompute
  for (int64_t i = 0; i < L; ++i) {
    const int64_t row = (b * T + t0 + i) * H + h;
    std::copy(k + row * dk, k + row * dk + dk, K + i * dk);
    std::copy(q + row * dk, q + row * dk + dk, Q + i * dk);
    std::copy(d_o + row * dv, d_o + row * dv + dv, dO + i * dv);
    th[i] = theta[row];
    et[i] = eta[row];
    keep[i] = F(1) - alpha[row];
  }
  transpose<F>(L, dk, K, dk, Kt, C);
  transpose<F>(dv, dk, M0, dk, Mt, dv);
  transpose<F>(dv, dk, S0, dk, St, dv);
  transpose<F>(dv, dk, dM, dk, dMt, dv);
  transpose<F>(dv, dk, dS, dk, dSt, dv);
  matmul<F>(L, dv, dk, K, dk, Mt, dv, E, dv, false);
  for (int64_t i = 0; i < L; ++i) {
    const F* vi = v + ((b * T + t0 + i) * H + h) * dv;
    for (int64_t r = 0; r < dv; ++r) E[i * dv + r] -= vi[r];
  }
  matmul<F>(L, dv, dk, Q, dk, Mt, dv, QM, dv, false);
  matmul<F>(L, dv, dk, Q, dk, St, dv, QS, dv, false);
  matmul<F>(L, L, dk, Q, dk, Kt, C, QK, C, false);
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
  std::fill(dG, dG + C * C, F(0));
  std::fill(dN, dN + C * C, F(0));
  std::fill(dmc, dmc + L, F(0));
  std::fill(dbc, dbc + L, F(0));
  std::fill(dfc, dfc + L, F(0));
  const int64_t last = L - 1;
  for (int64_t p = 0; p < n; ++p) {
    Macc[p] = bc[last] * dM[p];
    Sacc[p] = fc[last] * dM[p] + mc[last] * dS[p];
  }
  dbc[last] += dot(M0, dM, n);
  dfc[last] += dot(S0, dM, n);
  dmc[last] += dot(S0, dS, n);
  // ---- chunk-end states: -E^T diag(g) K and -E^T diag(nu) K
  matmul<F>(L, dv, dk, K, dk, dMt, dv, dE, dv, false);  // K dM^T
  matmul<F>(L, dv, dk, K, dk, dSt, dv, T2, dv, false);  // K dS^T
  matmul<F>(L, dk, dv, E, dv, dM, dk, dKc, dk, false);  // E dM
  matmul<F>(L, dk, dv, E, dv, dS, dk, T1, dk, false);   // E dS
  for (int64_t j = 0; j < L; ++j) {
    const F g = G[last * C + j], nu = N[last * C + j];
    dG[last * C + j] -= dot(E + j * dv, dE + j * dv, dv);
    dN[last * C + j] -= dot(E + j * dv, T2 + j * dv, dv);
    for (int64_t r = 0; r < dv; ++r) dE[j * dv + r] = -g * dE[j * dv + r] - nu * T2[j * dv + r];
    for (int64_t p = 0; p < dk; ++p) dKc[j * dk + p] = -g * dKc[j * dk + p] - nu * T1[j * dk + p];
  }
  // ---- outputs
  for (int64_t t = 0; t < L; ++t) {
    const int64_t tc = d.read_after ? t : t - 1;
    const F cb = tc >= 0 ? bc[tc] : F(1), cf = tc >= 0 ? fc[tc] : F(0);
    if (tc >= 0) {
      dbc[tc] += dot(QM + t * dv, dO + t * dv, dv);
      dfc[tc] += dot(QS + t * dv, dO + t * dv, dv);
    }
    for (int64_t r = 0; r < dv; ++r) {
      dQM[t * dv + r] = cb * dO[t * dv + r];
      dQS[t * dv + r] = cf * dO[t * dv + r];
    }
  }
  transpose<F>(L, dv, E, dv, Et, C);
  matmul<F>(L, L, dv, dO, dv, Et, C, M1, C, false);  // dO E^T = -dP
  for (int64_t t = 0; t < L; ++t) {
    const int64_t tc = d.read_after ? t : t - 1;
    for (int64_t j = 0; j < L; ++j) {
      if (j <= tc) {
        const F dP = -M1[t * C + j];
        dG[tc * C + j] += dP * QK[t * C + j];
        M1[t * C + j] = G[tc * C + j] * dP;            // dQK
        M2[j * C + t] = -G[tc * C + j] * QK[t * C + j];  // -P^T
      } else {
        M1[t * C + j] = 0;
        M2[j * C + t] = 0;
      }
    }
  }
  matmul<F>(L, dv, L, M2, C, dO, dv, dE, dv, true);    // dE -= P^T dO
  matmul<F>(L, dk, L, M1, C, K, dk, dQc, dk, false);   // dQ = dQK K
  matmul<F>(L, dk, dv, dQM, dv, M0, dk, dQc, dk, true);  // + dQM M0
  matmul<F>(L, dk, dv, dQS, dv, S0, dk, dQc, dk, true);  // + dQS S0
  transpose<F>(L, L, M1, C, M2, C);
  matmul<F>(L, dk, L, M2, C, Q, dk, dKc, dk, true);    // dK += dQK^T Q
  transpose<F>(L, dv, dQM, dv, Tt, C);
  matmul<F>(dv, dk, L, Tt, C, Q, dk, Macc, dk, true);  // dM0 += dQM^T Q
  transpose<F>(L, dv, dQS, dv, Tt, C);
  matmul<F>(dv, dk, L, Tt, C, Q, dk, Sacc, dk, true);  // dS0 += dQS^T Q
  // ---- E = K M0^T - V
  matmul<F>(L, dk, dv, dE, dv, M0, dk, dKc, dk, true);  // dK += dE M0
  transpose<F>(L, dv, dE, dv, Tt, C);
  matmul<F>(dv, dk, L, Tt, C, K, dk, Macc, dk, true);   // dM0 += dE^T K
  // ---- scalar coefficient recurrences, reversed
  for (int64_t t = L - 1; t >= 0; --t) {
    const F f_prev = t > 0 ? fc[t - 1] : F(0), b_prev = t > 0 ? bc[t - 1] : F(1), m_prev = t > 0 ? mc[t - 1] : F(1);
    F dal = 0, det = 0;
    dal -= dfc[t] * f_prev;
    dmc[t] += dfc[t];
    dal -= dbc[t] * b_prev;
    det += dmc[t] * m_prev;
    if (t > 0) {
      dfc[t - 1] += keep[t] * dfc[t];
      dbc[t - 1] += keep[t] * dbc[t];
      dmc[t - 1] += et[t] * dmc[t];
    }
    for (int64_t j = 0; j < t; ++j) {
      const F g = dG[t * C + j];
      dal -= g * G[(t - 1) * C + j];
      dG[(t - 1) * C + j] += keep[t] * g;
      dN[t * C + j] += g;
      det += dN[t * C + j] * N[(t - 1) * C + j];
      dN[(t - 1) * C + j] += et[t] * dN[t * C + j];
    }
    const int64_t row = (b * T + t0 + t) * H + h;
    dalpha[row] = dal;
    deta[row] = det;
    dtheta[row] = dG[t * C + t] + dN[t * C + t];
    std::copy(dQc + t * dk, dQc + (t + 1) * dk, dq_out + row * dk);
    std::copy(dKc + t * dk, dKc + (t + 1) * dk, dk_out + row * dk);
    for (int64_t r = 0; r < dv; ++r) dv_out[row * dv + r] = -dE[t * dv + r];
  }
  std::copy(Macc, Macc + n, dM);
  std::copy(Sacc, Sacc + n, dS);
}

}  // namespace

template <typename F>
void titans_linear_backward(const TitansLinearDims& dims, const F* q, const F* k, const F* v, const F* theta,
                            const F* eta, const F* alpha, const F* m0, const F* s0, const F* d_o, const F* d_m,
                            const F* d_s, F* dq, F* dk, F* dv, F* dtheta, F* deta, F* dalpha, F* dm0, F* ds0) {
  const TitansLinearDims d = with_effective_chunk(dims);  // chunk >= T is one chunk of T (same result)
  const int64_t n = d.dk * d.dv;
  const int64_t nchunks = (d.seq + d.chunk - 1) / d.chunk;
  parallel_for(d.batch * d.heads, 1, [&](int64_t begin, int64_t end) {
    Work<F> w(d);
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / d.heads, h = bh % d.heads;
      F* M = w.M.data();
      F* S = w.S.data();
      for (int64_t p = 0; p < n; ++p) {
        M[p] = m0 ? m0[bh * n + p] : F(0);
        S[p] = s0 ? s0[bh * n + p] : F(0);
      }
      titans_detail::forward_one<F>(d, b, h, q, k, v, theta, eta, alpha, M, S, nullptr, w.m_bound.data(),
                                    w.s_bound.data(), w.fwd_scratch.data());
      // dL/dM and dL/dS at the current chunk end live in the outputs and end as dL/dM0, dL/dS0.
      F* dM = dm0 + bh * n;
      F* dS = ds0 + bh * n;
      for (int64_t p = 0; p < n; ++p) {
        dM[p] = d_m ? d_m[bh * n + p] : F(0);
        dS[p] = d_s ? d_s[bh * n + p] : F(0);
      }
      for (int64_t c = nchunks - 1; c >= 0; --c) {
        const int64_t t0 = c * d.chunk;
        chunk_backward<F>(d, b, h, t0, std::min(d.chunk, d.seq - t0), q, k, v, theta, eta, alpha, d_o,
                          w.m_bound.data() + c * n, w.s_bound.data() + c * n, dM, dS, dq, dk, dv, dtheta, deta,
                          dalpha, w);
      }
    }
  });
}

template void titans_linear_backward<float>(const TitansLinearDims&, const float*, const float*, const float*,
                                            const float*, const float*, const float*, const float*, const float*,
                                            const float*, const float*, const float*, float*, float*, float*,
                                            float*, float*, float*, float*, float*);
template void titans_linear_backward<double>(const TitansLinearDims&, const double*, const double*, const double*,
                                             const double*, const double*, const double*, const double*,
                                             const double*, const double*, const double*, const double*, double*,
                                             double*, double*, double*, double*, double*, double*, double*);

}  // namespace nl

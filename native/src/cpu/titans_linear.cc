// Titans linear memory: chunked forward in closed form (shared/docs/kernels.md §5.2). See titans_linear.h.
//
// Inside a chunk of L tokens with start states M0, S0 and e_j = M0 k_j - v_j (so u_j = e_j k_j^T):
//   m_t = prod_{j<=t} eta_j          b_t = prod_{j<=t} (1 - alpha_j)      f_t = (1-alpha_t) f_{t-1} + m_t
//   n_{j,t} = theta_j prod_{j<s<=t} eta_s      G_{t,j} = (1-alpha_t) G_{t-1,j} + n_{j,t},  G_{j,j} = theta_j
//   S_t = m_t S0 - sum_{j<=t} n_{j,t} e_j k_j^T      M_t = b_t M0 + f_t S0 - sum_{j<=t} G_{t,j} e_j k_j^T
//   o_t = M_t q_t = b_t M0 q_t + f_t S0 q_t - sum_{j<=t} G_{t,j} (k_j.q_t) e_j     (read after write;
//   read before write uses the t-1 coefficients and j < t)
// All coefficients come from recurrences (no divisions), so gates of exactly 0 or 1 are fine.
// Cost per chunk ~ 2 L Dk Dv (E) + 4 L Dk Dv (M0 Q, S0 Q) + L^2 (Dk + Dv) + 4 L Dk Dv (state).
#include "cpu/chunking.h"
#include "cpu/titans_linear.h"
#include "cpu/delta_rule_vec.h"

#include <algorithm>
#include <vector>

#include "cpu/thread_pool.h"

namespace nl {
namespace titans_detail {

int64_t scratch_size(const TitansLinearDims& d) {
  const int64_t C = d.chunk, dk = d.dk, dv = d.dv;
  // K, Q [C, Dk]; Kt [Dk, C]; Mt, St [Dk, Dv]; E, QM, QS [C, Dv]; Et [Dv, C]; G, QK [C, C];
  // nvec, mc, bc, fc [C]
  return 2 * C * dk + C * dk + 2 * dk * dv + 3 * C * dv + dv * C + 2 * C * C + 4 * C;
}

template <typename F>
void forward_one(const TitansLinearDims& d, int64_t b, int64_t h, const F* q, const F* k, const F* v,
                 const F* theta, const F* eta, const F* alpha, F* M, F* S, F* o, F* m_bound, F* s_bound,
                 F* scratch) {
  const int64_t T = d.seq, H = d.heads, dk = d.dk, dv = d.dv, C = d.chunk, n = dk * dv;
  F* K = scratch;        // [C, Dk]
  F* Q = K + C * dk;     // [C, Dk]
  F* Kt = Q + C * dk;    // [Dk, C]
  F* Mt = Kt + C * dk;   // [Dk, Dv]  M0^T
  F* St = Mt + n;        // [Dk, Dv]  S0^T
  F* E = St + n;         // [C, Dv]   e_j = M0 k_j - v_j
  F* QM = E + C * dv;    // [C, Dv]
  F* QS = QM + C * dv;   // [C, Dv]
  F* Et = QS + C * dv;   // [Dv, C]   scaled E^T for the state updates
  F* G = Et + dv * C;    // [C, C]
  F* QK = G + C * C;     // [C, C]; becomes -(G . QK^T), masked
  F* nvec = QK + C * C;  // [C] n_{j,t} for the current t
  F* mc = nvec + C;      // [C]
  F* bc = mc + C;        // [C]
  F* fc = bc + C;        // [C]
  for (int64_t t0 = 0, c = 0; t0 < T; t0 += C, ++c) {
    const int64_t L = std::min(C, T - t0);
    if (m_bound) std::copy(M, M + n, m_bound + c * n);
    if (s_bound) std::copy(S, S + n, s_bound + c * n);
    for (int64_t i = 0; i < L; ++i) {
      const int64_t row = (b * T + t0 + i) * H + h;
      std::copy(k + row * dk, k + row * dk + dk, K + i * dk);
      if (o) std::copy(q + row * dk, q + row * dk + dk, Q + i * dk);
    }
    // E = K M0^T - V
    memvec::transpose<F>(dv, dk, M, dk, Mt, dv);
    memvec::matmul<F>(L, dv, dk, K, dk, Mt, dv, E, dv, false);
    for (int64_t i = 0; i < L; ++i) {
      const F* vi = v + ((b * T + t0 + i) * H + h) * dv;
      for (int64_t r = 0; r < dv; ++r) E[i * dv + r] -= vi[r];
    }
    if (o) {
      memvec::transpose<F>(dv, dk, S, dk, St, dv);
      memvec::transpose<F>(L, dk, K, dk, Kt, C);
      memvec::matmul<F>(L, dv, dk, Q, dk, Mt, dv, QM, dv, false);
      memvec::matmul<F>(L, dv, dk, Q, dk, St, dv, QS, dv, false);
      memvec::matmul<F>(L, L, dk, Q, dk, Kt, C, QK, C, false);
    }
    // scalar coefficients
    F m_run = 1, b_run = 1, f_run = 0;
    for (int64_t t = 0; t < L; ++t) {
      const int64_t row = (b * T + t0 + t) * H + h;
      const F et = eta[row], keep = F(1) - alpha[row], th = theta[row];
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
      nvec[t] = th;
      G[t * C + t] = th;
    }
    // outputs: o_t = cb M0 q_t + cf S0 q_t - sum_{j<=tc} G_{tc,j} (k_j.q_t) e_j, tc = t (read after) or t-1
    if (o) {
      for (int64_t t = 0; t < L; ++t) {
        const int64_t tc = d.read_after ? t : t - 1;  // coefficient row
        const F cb = tc >= 0 ? bc[tc] : F(1);
        const F cf = tc >= 0 ? fc[tc] : F(0);
        F* ot = o + ((b * T + t0 + t) * H + h) * dv;
        for (int64_t r = 0; r < dv; ++r) ot[r] = cb * QM[t * dv + r] + cf * QS[t * dv + r];
        for (int64_t j = 0; j <= tc; ++j) QK[t * C + j] *= -G[tc * C + j];
        for (int64_t j = tc + 1; j < L; ++j) QK[t * C + j] = 0;
      }
      memvec::matmul<F>(L, dv, L, QK, C, E, dv, o + ((b * T + t0) * H + h) * dv, H * dv, true);
    }
    // chunk-end states: M first (it reads the old S); then the rank-L updates -E^T diag(w) K
    const F bL = bc[L - 1], fL = fc[L - 1], mL = mc[L - 1];
    for (int64_t p = 0; p < n; ++p) M[p] = bL * M[p] + fL * S[p];
    for (int64_t p = 0; p < n; ++p) S[p] *= mL;
    for (int64_t j = 0; j < L; ++j) nvec[j] = -nvec[j];
    for (int64_t j = 0; j < L; ++j) mc[j] = -G[(L - 1) * C + j];  // mc reused as the M weights
    memvec::transpose<F>(L, dv, E, dv, Et, C, mc);
    memvec::matmul<F>(dv, dk, L, Et, C, K, dk, M, dk, true);
    memvec::transpose<F>(L, dv, E, dv, Et, C, nvec);
    memvec::matmul<F>(dv, dk, L, Et, C, K, dk, S, dk, true);
  }
}

template void forward_one<float>(const TitansLinearDims&, int64_t, int64_t, const float*, const float*, const float*,
                                 const float*, const float*, const float*, float*, float*, float*, float*, float*,
                                 float*);
template void forward_one<double>(const TitansLinearDims&, int64_t, int64_t, const double*, const double*,
                                  const double*, const double*, const double*, const double*, double*, double*,
                                  double*, double*, double*, double*);

}  // namespace titans_detail

template <typename F>
void titans_linear_forward(const TitansLinearDims& dims, const F* q, const F* k, const F* v, const F* theta,
                           const F* eta, const F* alpha, const F* m0, const F* s0, F* o, F* m_out, F* s_out) {
  const TitansLinearDims d = with_effective_chunk(dims);  // chunk >= T is one chunk of T (same result)
  const int64_t n = d.dk * d.dv;
  parallel_for(d.batch * d.heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<F> scratch(static_cast<size_t>(titans_detail::scratch_size(d)));
    for (int64_t bh = begin; bh < end; ++bh) {
      F* M = m_out + bh * n;
      F* S = s_out + bh * n;
      if (m0) std::copy(m0 + bh * n, m0 + bh * n + n, M);
      else std::fill(M, M + n, F(0));
      if (s0) std::copy(s0 + bh * n, s0 + bh * n + n, S);
      else std::fill(S, S + n, F(0));
      titans_detail::forward_one<F>(d, bh / d.heads, bh % d.heads, q, k, v, theta, eta, alpha, M, S, o, nullptr,
                                    nullptr, scratch.data());
    }
  });
}

template void titans_linear_forward<float>(const TitansLinearDims&, const float*, const float*, const float*,
                                           const float*, const float*, const float*, const float*, const float*,
                                           float*, float*, float*);
template void titans_linear_forward<double>(const TitansLinearDims&, const double*, const double*, const double*,
                                            const double*, const double*, const double*, const double*,
                                            const double*, double*, double*, double*);

}  // namespace nl

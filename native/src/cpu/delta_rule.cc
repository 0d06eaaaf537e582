// Gated delta rule: chunked forward (WY/UT transform), exact tiling. See delta_rule.h.
//
// Inside a chunk of L tokens with incoming state S0 (notation of shared/docs/kernels.md §5.1, gates
// as products rather than exp of log sums so that a = 0 is exact):
//   e_i     = prod_{s<=i} a_s                    G_ij = prod_{j<s<=i} a_s  (j <= i)
//   d_i     = b_i (v_i - c_i S0^T k_i) - sum_{j<i} b_i G_ij (k_i.k_j) d_j   (forward substitution;
//             c_i = e_i, or e_i + a_i with the snapshot correction (S0 is then the snapshot);
//             without the erase term (linear attention) c_i = 0 (or a_i) and A = 0;
//             the rows of (I + A)^{-1} diag(b) (V - diag(e) K S0), i.e. U - W S0)
//   o_i     = e_i S0^T q_i + sum_{j<=i} G_ij (q_i.k_j) d_j
//   S_L     = e_L S0 + sum_j G_Lj k_j d_j^T
// Cost per chunk ~ 2L^2 Dk (KK^T, QK^T) + 6 L Dk Dv (K S0, Q S0, update) + 2 L^2 Dv (solve, O).
#include "cpu/chunking.h"
#include "cpu/delta_rule.h"
#include "cpu/delta_rule_vec.h"

#include <algorithm>
#include <vector>

#include "cpu/thread_pool.h"

namespace nl {
namespace delta_rule_detail {

int64_t scratch_size(const DeltaRuleDims& d) {
  const int64_t C = d.chunk, dk = d.dk, dv = d.dv;
  // K, Q [C, Dk]; Kt [Dk, C]; V, KS, QS, D [C, Dv]; e [C]; Gam, KK, QK [C, C]
  return 3 * C * dk + 4 * C * dv + C + 3 * C * C;
}

template <typename F>
void forward_one(const DeltaRuleDims& d, int64_t b, int64_t h, const F* q, const F* k, const F* v, const F* alpha,
                 const F* beta, F* S, F* o, F* boundary, F* scratch) {
  const int64_t T = d.seq, H = d.heads, dk = d.dk, dv = d.dv, C = d.chunk;
  F* K = scratch;          // [C, Dk]
  F* Q = K + C * dk;       // [C, Dk]
  F* Kt = Q + C * dk;      // [Dk, C]  K^T, later (G_Lj k_j) columns
  F* V = Kt + C * dk;      // [C, Dv]
  F* KS = V + C * dv;      // [C, Dv]
  F* QS = KS + C * dv;     // [C, Dv]
  F* D = QS + C * dv;      // [C, Dv] the new values d_i
  F* e = D + C * dv;       // [C]
  F* Gam = e + C;          // [C, C]
  F* KK = Gam + C * C;     // [C, C]
  F* QK = KK + C * C;      // [C, C]; becomes the masked, decayed (G . QK^T) for the outputs
  for (int64_t t0 = 0, n = 0; t0 < T; t0 += C, ++n) {
    const int64_t L = std::min(C, T - t0);
    if (boundary) std::copy(S, S + dk * dv, boundary + n * dk * dv);
    // gather the chunk
    for (int64_t i = 0; i < L; ++i) {
      const int64_t row = (b * T + t0 + i) * H + h;
      std::copy(k + row * dk, k + row * dk + dk, K + i * dk);
      if (o) std::copy(q + row * dk, q + row * dk + dk, Q + i * dk);
      std::copy(v + row * dv, v + row * dv + dv, V + i * dv);
    }
    memvec::transpose<F>(L, dk, K, dk, Kt, C);
    // decays
    F run = 1;
    for (int64_t i = 0; i < L; ++i) {
      run *= alpha[(b * T + t0 + i) * H + h];
      e[i] = run;
      Gam[i * C + i] = 1;
      for (int64_t j = i - 1; j >= 0; --j) Gam[i * C + j] = Gam[i * C + j + 1] * alpha[(b * T + t0 + j + 1) * H + h];
    }
    // Gram matrices K K^T, Q K^T and the products K S0, Q S0
    memvec::matmul<F>(L, L, dk, K, dk, Kt, C, KK, C, false);
    memvec::matmul<F>(L, dv, dk, K, dk, S, dv, KS, dv, false);
    if (o) {
      memvec::matmul<F>(L, L, dk, Q, dk, Kt, C, QK, C, false);
      memvec::matmul<F>(L, dv, dk, Q, dk, S, dv, QS, dv, false);
    }
    // forward substitution for the new values
    for (int64_t i = 0; i < L; ++i) {
      const F bi = beta[(b * T + t0 + i) * H + h];
      F* di = D + i * dv;
      const F ei = e[i];
      // S0^T k_i coefficient: e_i from the erase term, a_i from the snapshot correction
      const F ci = (d.erase ? ei : F(0)) + (d.snapshot ? alpha[(b * T + t0 + i) * H + h] : F(0));
      for (int64_t j = 0; j < dv; ++j) di[j] = bi * (V[i * dv + j] - ci * KS[i * dv + j]);
      if (d.erase) {
        for (int64_t m = 0; m < i; ++m) memvec::axpy(dv, -bi * Gam[i * C + m] * KK[i * C + m], D + m * dv, di);
      }
    }
    // outputs: o_i = e_i (Q S0)_i + sum_{m<=i} G_im (q_i.k_m) d_m
    if (o) {
      for (int64_t i = 0; i < L; ++i) {
        for (int64_t m = 0; m <= i; ++m) QK[i * C + m] *= Gam[i * C + m];
        for (int64_t m = i + 1; m < L; ++m) QK[i * C + m] = 0;
        F* oi = o + ((b * T + t0 + i) * H + h) * dv;
        for (int64_t j = 0; j < dv; ++j) oi[j] = e[i] * QS[i * dv + j];
      }
      memvec::matmul<F>(L, dv, L, QK, C, D, dv, o + ((b * T + t0) * H + h) * dv, H * dv, true);
    }
    // state update: S <- e_L S + sum_m G_Lm k_m d_m^T = e_L S + (K^T diag(G_L.)) D
    const F eL = e[L - 1];
    for (int64_t p = 0; p < dk * dv; ++p) S[p] *= eL;
    memvec::transpose<F>(L, dk, K, dk, Kt, C, Gam + (L - 1) * C);
    memvec::matmul<F>(dk, dv, L, Kt, C, D, dv, S, dv, true);
  }
}

template void forward_one<float>(const DeltaRuleDims&, int64_t, int64_t, const float*, const float*, const float*,
                                 const float*, const float*, float*, float*, float*, float*);
template void forward_one<double>(const DeltaRuleDims&, int64_t, int64_t, const double*, const double*,
                                  const double*, const double*, const double*, double*, double*, double*, double*);

}  // namespace delta_rule_detail

template <typename F>
void delta_rule_forward(const DeltaRuleDims& dims, const F* q, const F* k, const F* v, const F* alpha, const F* beta,
                        const F* s0, F* o, F* state_out) {
  const DeltaRuleDims d = with_effective_chunk(dims);  // chunk >= T is one chunk of T (same result)
  const int64_t n = d.dk * d.dv;
  parallel_for(d.batch * d.heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<F> scratch(static_cast<size_t>(delta_rule_detail::scratch_size(d)));
    for (int64_t bh = begin; bh < end; ++bh) {
      F* S = state_out + bh * n;
      if (s0) std::copy(s0 + bh * n, s0 + bh * n + n, S);
      else std::fill(S, S + n, F(0));
      delta_rule_detail::forward_one<F>(d, bh / d.heads, bh % d.heads, q, k, v, alpha, beta, S, o, nullptr,
                                        scratch.data());
    }
  });
}

template void delta_rule_forward<float>(const DeltaRuleDims&, const float*, const float*, const float*, const float*,
                                        const float*, const float*, float*, float*);
template void delta_rule_forward<double>(const DeltaRuleDims&, const double*, const double*, const double*,
                                         const double*, const double*, const double*, double*, double*);

}  // namespace nl

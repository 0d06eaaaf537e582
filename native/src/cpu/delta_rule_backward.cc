// Gated delta rule: backward with chunk-boundary recompute. See delta_rule.h.
//
// Per (batch, head): (1) the chunked forward (delta_rule.cc) recomputes the state at the start of
// every chunk ([N, Dk, Dv], N = ceil(T/C)); (2) chunks are visited last to first: the C per-token
// states of the chunk are recomputed from its boundary state, then the token recurrence is
// reversed. With G = dL/dS_t, per token (a = S_{t-1}^T k, d = b (v - a_t a), S_t = a_t S_{t-1} + k d^T):
//   G += q do^T;  dq = S_t do;  dd = G^T k;  dk = G d + S_{t-1} da;  da = -a_t b dd
//   dalpha = <S_{t-1}, G> - b <dd, a>;  dbeta = <dd, v - a_t a>;  dv = b dd
//   dL/dS_{t-1} = a_t G + k da^T
// Memory: N boundary states + (C+1) token states per thread, never T per-token states.
#include <algorithm>
#include <vector>

#include "cpu/delta_rule.h"
#include "cpu/delta_rule_vec.h"
#include "cpu/thread_pool.h"

namespace nl {
namespace {

// S_next = a S + k d^T with d = b (v - a S^T k); writes a_vec = S^T k and d.
template <typename F>
inline void token_step(int64_t dk, int64_t dv, const F* S, F* S_next, const F* k, const F* v, F al, F be, F* a_vec,
                       F* d_vec) {
  std::fill(a_vec, a_vec + dv, F(0));
  for (int64_t p = 0; p < dk; ++p) {
    const F kp = k[p];
    const F* sp = S + p * dv;
    for (int64_t j = 0; j < dv; ++j) a_vec[j] += kp * sp[j];
  }
  for (int64_t j = 0; j < dv; ++j) d_vec[j] = be * (v[j] - al * a_vec[j]);
  for (int64_t p = 0; p < dk; ++p) {
    const F kp = k[p];
    const F* sp = S + p * dv;
    F* np = S_next + p * dv;
    for (int64_t j = 0; j < dv; ++j) np[j] = al * sp[j] + kp * d_vec[j];
  }
}

template <typename F>
void backward_one(const DeltaRuleDims& d, int64_t b, int64_t h, const F* q, const F* k, const F* v, const F* alpha,
                  const F* beta, const F* d_o, F* G, F* dq, F* dkk, F* dv_out, F* dalpha, F* dbeta,
                  const F* boundary, F* states, F* vecs) {
  const int64_t T = d.seq, H = d.heads, dk = d.dk, dv = d.dv, C = d.chunk;
  const int64_t n = dk * dv;
  const int64_t nchunks = (T + C - 1) / C;
  F* a_vec = vecs;
  F* d_vec = a_vec + dv;
  F* dd = d_vec + dv;
  F* da = dd + dv;
  for (int64_t c = nchunks - 1; c >= 0; --c) {
    const int64_t t0 = c * C;
    const int64_t L = std::min(C, T - t0);
    std::copy(boundary + c * n, boundary + (c + 1) * n, states);
    for (int64_t i = 0; i < L; ++i) {
      const int64_t row = (b * T + t0 + i) * H + h;
      token_step(dk, dv, states + i * n, states + (i + 1) * n, k + row * dk, v + row * dv, alpha[row], beta[row],
                 a_vec, d_vec);
    }
    for (int64_t i = L - 1; i >= 0; --i) {
      const int64_t row = (b * T + t0 + i) * H + h;
      const F* Sp = states + i * n;
      const F* Sc = states + (i + 1) * n;
      const F* qt = q + row * dk;
      const F* kt = k + row * dk;
      const F* vt = v + row * dv;
      const F* dot = d_o + row * dv;
      const F al = alpha[row], be = beta[row];
      // o = S_t^T q
      for (int64_t p = 0; p < dk; ++p) {
        memvec::axpy(dv, qt[p], dot, G + p * dv);
        dq[row * dk + p] = memvec::dot(Sc + p * dv, dot, dv);
      }
      // recompute a and d
      std::fill(a_vec, a_vec + dv, F(0));
      for (int64_t p = 0; p < dk; ++p) {
        const F kp = kt[p];
        const F* sp = Sp + p * dv;
        for (int64_t j = 0; j < dv; ++j) a_vec[j] += kp * sp[j];
      }
      for (int64_t j = 0; j < dv; ++j) d_vec[j] = be * (vt[j] - al * a_vec[j]);
      // S_t = a S_{t-1} + k d^T
      F dal = memvec::dot(Sp, G, n);
      std::fill(dd, dd + dv, F(0));
      for (int64_t p = 0; p < dk; ++p) {
        const F* gp = G + p * dv;
        memvec::axpy(dv, kt[p], gp, dd);
        dkk[row * dk + p] = memvec::dot(gp, d_vec, dv);
      }
      // d = b (v - a a_vec)
      F dbe = 0;
      for (int64_t j = 0; j < dv; ++j) {
        dbe += dd[j] * (vt[j] - al * a_vec[j]);
        dal -= be * dd[j] * a_vec[j];
        dv_out[row * dv + j] = be * dd[j];
        da[j] = -al * be * dd[j];
      }
      dalpha[row] = dal;
      dbeta[row] = dbe;
      // a_vec = S_{t-1}^T k;  G <- a G + k da^T
      for (int64_t p = 0; p < dk; ++p) {
        dkk[row * dk + p] += memvec::dot(Sp + p * dv, da, dv);
        memvec::axpby(dv, kt[p], da, al, G + p * dv);
      }
    }
  }
}

}  // namespace

template <typename F>
void delta_rule_backward(const DeltaRuleDims& d, const F* q, const F* k, const F* v, const F* alpha, const F* beta,
                         const F* s0, const F* d_o, const F* d_state, F* dq, F* dk, F* dv, F* dalpha, F* dbeta,
                         F* ds0) {
  const int64_t n = d.dk * d.dv;
  const int64_t nchunks = (d.seq + d.chunk - 1) / d.chunk;
  parallel_for(d.batch * d.heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<F> scratch(static_cast<size_t>(delta_rule_detail::scratch_size(d)));
    std::vector<F> boundary(static_cast<size_t>(std::max<int64_t>(nchunks, 1) * n));
    std::vector<F> states(static_cast<size_t>((d.chunk + 1) * n));
    std::vector<F> S(static_cast<size_t>(n));
    std::vector<F> vecs(static_cast<size_t>(4 * d.dv));
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / d.heads, h = bh % d.heads;
      if (s0) std::copy(s0 + bh * n, s0 + bh * n + n, S.begin());
      else std::fill(S.begin(), S.end(), F(0));
      delta_rule_detail::forward_one<F>(d, b, h, q, k, v, alpha, beta, S.data(), nullptr, boundary.data(),
                                        scratch.data());
      F* G = ds0 + bh * n;  // dL/dS_t accumulates in place and ends as dL/dS0
      if (d_state) std::copy(d_state + bh * n, d_state + bh * n + n, G);
      else std::fill(G, G + n, F(0));
      backward_one<F>(d, b, h, q, k, v, alpha, beta, d_o, G, dq, dk, dv, dalpha, dbeta, boundary.data(),
                      states.data(), vecs.data());
    }
  });
}

template void delta_rule_backward<float>(const DeltaRuleDims&, const float*, const float*, const float*, const float*,
                                         const float*, const float*, const float*, const float*, float*, float*,
                                         float*, float*, float*, float*);
template void delta_rule_backward<double>(const DeltaRuleDims&, const double*, const double*, const double*,
                                          const double*, const double*, const double*, const double*, const double*,
                                          double*, double*, double*, double*, double*, double*);

}  // namespace nl

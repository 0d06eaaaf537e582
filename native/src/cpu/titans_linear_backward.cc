// Titans linear memory: backward with chunk-boundary recompute. See titans_linear.h.
//
// Per (batch, head): the closed-form chunked forward (titans_linear.cc) recomputes M and S at every
// chunk start; chunks are then visited last to first: the chunk's per-token M_t, S_t are recomputed
// from its boundary states (the snapshot M' is the boundary M), and the token recurrence is reversed.
// With dM = dL/dM_t and dSn = eta_{t+1} dL/dS_{t+1}, per token (e = M' k - v):
//   (read after) dM += do q^T, dq = M_t^T do           (read before: same with M_{t-1}, after the M step)
//   dS = dSn + dM;  dalpha = -<M_{t-1}, dM>;  deta = <S_{t-1}, dS>;  dtheta = -e^T dS k
//   de = -theta dS k;  dk = -theta dS^T e + M'^T de;  dv = -de;  dM' += de k^T
//   dL/dM_{t-1} = (1 - alpha) dM;  dSn = eta dS;  at the chunk's first token dL/dM_{t-1} += dM'.
// Memory: N boundary pairs + 2 (C+1) token states per thread, never T per-token states.
#include <algorithm>
#include <vector>

#include "cpu/thread_pool.h"
#include "cpu/titans_linear.h"
#include "cpu/delta_rule_vec.h"

namespace nl {
namespace {

template <typename F>
struct Work {
  std::vector<F> scratch, m_bound, s_bound, Ms, Ss, dM, dS, dSn, dSnap, e, de, tmp;
};

// e = snap k - v  (snap [Dv, Dk])
template <typename F>
inline void residual(int64_t dk, int64_t dv, const F* snap, const F* kt, const F* vt, F* e) {
  for (int64_t r = 0; r < dv; ++r) e[r] = memvec::dot(snap + r * dk, kt, dk) - vt[r];
}

template <typename F>
void backward_one(const TitansLinearDims& d, int64_t b, int64_t h, const F* q, const F* k, const F* v,
                  const F* theta, const F* eta, const F* alpha, const F* d_o, F* dq, F* dkk, F* dvv, F* dtheta,
                  F* deta, F* dalpha, Work<F>& w) {
  const int64_t T = d.seq, H = d.heads, dk = d.dk, dv = d.dv, C = d.chunk, n = dk * dv;
  const int64_t nchunks = (T + C - 1) / C;
  F* Ms = w.Ms.data();
  F* Ss = w.Ss.data();
  F* dM = w.dM.data();
  F* dS = w.dS.data();
  F* dSn = w.dSn.data();
  F* dSnap = w.dSnap.data();
  F* e = w.e.data();
  F* de = w.de.data();
  F* tmp = w.tmp.data();
  for (int64_t c = nchunks - 1; c >= 0; --c) {
    const int64_t t0 = c * C, L = std::min(C, T - t0);
    const F* snap = w.m_bound.data() + c * n;
    std::copy(snap, snap + n, Ms);
    std::copy(w.s_bound.data() + c * n, w.s_bound.data() + (c + 1) * n, Ss);
    for (int64_t i = 0; i < L; ++i) {  // recompute the chunk's per-token states
      const int64_t row = (b * T + t0 + i) * H + h;
      residual(dk, dv, snap, k + row * dk, v + row * dv, e);
      const F th = theta[row], et = eta[row], keep = F(1) - alpha[row];
      const F* kt = k + row * dk;
      for (int64_t r = 0; r < dv; ++r) {
        const F* mp = Ms + i * n + r * dk;
        const F* sp = Ss + i * n + r * dk;
        F* mn = Ms + (i + 1) * n + r * dk;
        F* sn = Ss + (i + 1) * n + r * dk;
        const F ce = th * e[r];
        for (int64_t p = 0; p < dk; ++p) {
          sn[p] = et * sp[p] - ce * kt[p];
          mn[p] = keep * mp[p] + sn[p];
        }
      }
    }
    std::fill(dSnap, dSnap + n, F(0));
    for (int64_t i = L - 1; i >= 0; --i) {
      const int64_t row = (b * T + t0 + i) * H + h;
      const F* qt = q + row * dk;
      const F* kt = k + row * dk;
      const F* dot = d_o + row * dv;
      const F* Mprev = Ms + i * n;
      const F* Mcur = Ms + (i + 1) * n;
      const F* Sprev = Ss + i * n;
      const F th = theta[row], et = eta[row], keep = F(1) - alpha[row];
      const F* readM = d.read_after ? Mcur : Mprev;
      std::fill(tmp, tmp + dk, F(0));
      for (int64_t r = 0; r < dv; ++r) {
        const F* mr = readM + r * dk;
        const F g = dot[r];
        for (int64_t p = 0; p < dk; ++p) tmp[p] += mr[p] * g;
      }
      std::copy(tmp, tmp + dk, dq + row * dk);
      if (d.read_after) {
        for (int64_t r = 0; r < dv; ++r)
          for (int64_t p = 0; p < dk; ++p) dM[r * dk + p] += dot[r] * qt[p];
      }
      residual(dk, dv, snap, kt, v + row * dv, e);
      for (int64_t p = 0; p < n; ++p) dS[p] = dSn[p] + dM[p];
      const F dal = -memvec::dot(Mprev, dM, n);
      const F det = memvec::dot(Sprev, dS, n);
      F dth = 0;
      std::fill(tmp, tmp + dk, F(0));
      for (int64_t r = 0; r < dv; ++r) {
        const F* sr = dS + r * dk;
        const F s = memvec::dot(sr, kt, dk);
        memvec::axpy(dk, e[r], sr, tmp);
        dth -= e[r] * s;
        de[r] = -th * s;
      }
      for (int64_t p = 0; p < dk; ++p) tmp[p] *= -th;
      for (int64_t r = 0; r < dv; ++r) {
        const F* sr = snap + r * dk;
        const F g = de[r];
        F* snr = dSnap + r * dk;
        for (int64_t p = 0; p < dk; ++p) {
          tmp[p] += sr[p] * g;
          snr[p] += g * kt[p];
        }
        dvv[row * dv + r] = -g;
      }
      std::copy(tmp, tmp + dk, dkk + row * dk);
      dalpha[row] = dal;
      deta[row] = det;
      dtheta[row] = dth;
      for (int64_t p = 0; p < n; ++p) {
        dSn[p] = et * dS[p];
        dM[p] = keep * dM[p];
      }
      if (!d.read_after) {
        for (int64_t r = 0; r < dv; ++r)
          for (int64_t p = 0; p < dk; ++p) dM[r * dk + p] += dot[r] * qt[p];
      }
    }
    for (int64_t p = 0; p < n; ++p) dM[p] += dSnap[p];
  }
}

}  // namespace

template <typename F>
void titans_linear_backward(const TitansLinearDims& d, const F* q, const F* k, const F* v, const F* theta,
                            const F* eta, const F* alpha, const F* m0, const F* s0, const F* d_o, const F* d_m,
                            const F* d_s, F* dq, F* dk, F* dv, F* dtheta, F* deta, F* dalpha, F* dm0, F* ds0) {
  const int64_t n = d.dk * d.dv;
  const int64_t nchunks = std::max<int64_t>((d.seq + d.chunk - 1) / d.chunk, 1);
  parallel_for(d.batch * d.heads, 1, [&](int64_t begin, int64_t end) {
    Work<F> w;
    w.scratch.resize(static_cast<size_t>(titans_detail::scratch_size(d)));
    w.m_bound.resize(static_cast<size_t>(nchunks * n));
    w.s_bound.resize(static_cast<size_t>(nchunks * n));
    w.Ms.resize(static_cast<size_t>((d.chunk + 1) * n));
    w.Ss.resize(static_cast<size_t>((d.chunk + 1) * n));
    w.dS.resize(static_cast<size_t>(n));
    w.dSnap.resize(static_cast<size_t>(n));
    w.e.resize(static_cast<size_t>(d.dv));
    w.de.resize(static_cast<size_t>(d.dv));
    w.tmp.resize(static_cast<size_t>(d.dk));
    std::vector<F> M(static_cast<size_t>(n)), S(static_cast<size_t>(n));
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / d.heads, h = bh % d.heads;
      for (int64_t p = 0; p < n; ++p) {
        M[p] = m0 ? m0[bh * n + p] : F(0);
        S[p] = s0 ? s0[bh * n + p] : F(0);
      }
      titans_detail::forward_one<F>(d, b, h, q, k, v, theta, eta, alpha, M.data(), S.data(), nullptr,
                                    w.m_bound.data(), w.s_bound.data(), w.scratch.data());
      // dM and dSn live in the outputs dm0 / ds0 and end there as dL/dM0, dL/dS0.
      F* dM = dm0 + bh * n;
      F* dSn = ds0 + bh * n;
      for (int64_t p = 0; p < n; ++p) {
        dM[p] = d_m ? d_m[bh * n + p] : F(0);
        dSn[p] = d_s ? d_s[bh * n + p] : F(0);
      }
      w.dM.assign(dM, dM + n);
      w.dSn.assign(dSn, dSn + n);
      backward_one<F>(d, b, h, q, k, v, theta, eta, alpha, d_o, dq, dk, dv, dtheta, deta, dalpha, w);
      std::copy(w.dM.begin(), w.dM.end(), dM);
      std::copy(w.dSn.begin(), w.dSn.end(), dSn);
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

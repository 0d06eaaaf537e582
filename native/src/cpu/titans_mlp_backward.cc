// Titans MLP memory: backward (version 1, token-level reverse inside chunks). See titans_mlp.h.
//
// Per (batch, head): a forward pass keeps W1, W2, S1, S2 at every chunk start; chunks are then
// visited last to first, their per-token states recomputed from the boundary, and the recurrence
// reversed (the same derivation as packages/memory/src/kernels/titans-mlp/ref-backward.ts):
//   read o = q + W1 z, z = silu(r), r = W2 q: dW1 += do z^T, dr = (W1^T do) * silu'(r), dW2 += dr q^T
//   per layer: dS = dSn + dW, dalpha -= <W_{t-1}, dW>, deta += <S_{t-1}, dS>, dtheta -= <u, dS>,
//              du = -theta dS, dL/dW_{t-1} = (1 - alpha) dW, dSn = eta dS
//   u1 = e a^T, u2 = g k^T; g = c * silu'(p), c = W1'^T e; e = k + W1' a - v; a = silu(p); p = W2' k
//   (snapshot adjoints dW' join dL/dW_{t-1} at the chunk's first token).
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/delta_rule_vec.h"
#include "cpu/thread_pool.h"
#include "cpu/titans_mlp.h"

namespace nl {
namespace {

template <typename F>
inline F sig(F x) {
  return F(1) / (F(1) + std::exp(-x));
}
template <typename F>
inline F silu_d1(F x) {
  const F s = sig(x);
  return s * (F(1) + x * (F(1) - s));
}
template <typename F>
inline F silu_d2(F x) {
  const F s = sig(x);
  return s * (F(1) - s) * (F(2) + x * (F(1) - F(2) * s));
}

template <typename F>
struct Work {
  Work(const TitansMlpDims& d, int64_t nchunks) {
    const size_t n = static_cast<size_t>(d.d * d.hidden), C1 = static_cast<size_t>(d.chunk + 1);
    bound.resize(4 * static_cast<size_t>(nchunks) * n);
    states.resize(4 * C1 * n);
    mats.resize(8 * n);
    vecs.resize(static_cast<size_t>(12 * d.hidden + 4 * d.d));
  }
  std::vector<F> bound, states, mats, vecs;
};

template <typename F>
void backward_one(const TitansMlpDims& d, int64_t b, int64_t h, const F* q, const F* k, const F* v, const F* theta,
                  const F* eta, const F* alpha, const F* d_o, F* dq, F* dk, F* dv, F* dtheta, F* deta, F* dalpha,
                  F* dW1, F* dW2, F* dSn1, F* dSn2, Work<F>& w, int64_t nchunks) {
  using namespace titans_mlp_detail;
  const int64_t D = d.d, Dh = d.hidden, n = D * Dh, T = d.seq, H = d.heads, C = d.chunk;
  F* bd = w.bound.data();  // [4][nchunks][n]: W1, W2, S1, S2
  F *W1t = w.states.data(), *W2t = W1t + (C + 1) * n, *S1t = W2t + (C + 1) * n, *S2t = S1t + (C + 1) * n;
  F *dS1 = w.mats.data(), *dS2 = dS1 + n, *dW1p = dS2 + n, *dW2p = dW1p + n;
  F *p = w.vecs.data(), *a = p + Dh, *c = a + Dh, *g = c + Dh, *r = g + Dh, *z = r + Dh, *da = z + Dh;
  F *dp = da + Dh, *dg = dp + Dh, *dc = dg + Dh, *dz = dc + Dh, *dr = dz + Dh;
  F *e = dr + Dh, *de = e + D, *tmp = de + D;
  auto read_back = [&](int64_t row, const F* W1r, const F* W2r) {
    const F* qt = q + row * D;
    const F* dot_ = d_o + row * D;
    for (int64_t j = 0; j < Dh; ++j) {
      r[j] = memvec::dot(W2r + j * D, qt, D);
      z[j] = r[j] * sig(r[j]);
    }
    std::fill(dz, dz + Dh, F(0));
    for (int64_t i = 0; i < D; ++i) {
      memvec::axpy(Dh, dot_[i], z, dW1 + i * Dh);
      memvec::axpy(Dh, dot_[i], W1r + i * Dh, dz);
    }
    for (int64_t j = 0; j < Dh; ++j) dr[j] = dz[j] * silu_d1(r[j]);
    std::copy(dot_, dot_ + D, tmp);
    for (int64_t j = 0; j < Dh; ++j) {
      memvec::axpy(D, dr[j], qt, dW2 + j * D);
      memvec::axpy(D, dr[j], W2r + j * D, tmp);
    }
    std::copy(tmp, tmp + D, dq + row * D);
  };
  for (int64_t ch = nchunks - 1; ch >= 0; --ch) {
    const int64_t t0 = ch * C, L = std::min(C, T - t0);
    std::copy(bd + (0 * nchunks + ch) * n, bd + (0 * nchunks + ch + 1) * n, W1t);
    std::copy(bd + (1 * nchunks + ch) * n, bd + (1 * nchunks + ch + 1) * n, W2t);
    std::copy(bd + (2 * nchunks + ch) * n, bd + (2 * nchunks + ch + 1) * n, S1t);
    std::copy(bd + (3 * nchunks + ch) * n, bd + (3 * nchunks + ch + 1) * n, S2t);
    const F* W1s = W1t;  // snapshot = chunk-start weights
    const F* W2s = W2t;
    for (int64_t i = 0; i < L; ++i) {
      const int64_t row = (b * T + t0 + i) * H + h;
      std::copy(W1t + i * n, W1t + (i + 1) * n, W1t + (i + 1) * n);
      std::copy(W2t + i * n, W2t + (i + 1) * n, W2t + (i + 1) * n);
      std::copy(S1t + i * n, S1t + (i + 1) * n, S1t + (i + 1) * n);
      std::copy(S2t + i * n, S2t + (i + 1) * n, S2t + (i + 1) * n);
      inner_factors(D, Dh, W1s, W2s, k + row * D, v + row * D, p, a, e, c, g);
      write_token(D, Dh, k + row * D, a, e, g, theta[row], eta[row], F(1) - alpha[row], W1t + (i + 1) * n,
                  W2t + (i + 1) * n, S1t + (i + 1) * n, S2t + (i + 1) * n);
    }
    std::fill(dW1p, dW1p + n, F(0));
    std::fill(dW2p, dW2p + n, F(0));
    for (int64_t i = L - 1; i >= 0; --i) {
      const int64_t row = (b * T + t0 + i) * H + h;
      const F* kt = k + row * D;
      const F *W1p = W1t + i * n, *W2p = W2t + i * n, *S1p = S1t + i * n, *S2p = S2t + i * n;
      if (d.read_after) read_back(row, W1t + (i + 1) * n, W2t + (i + 1) * n);
      inner_factors(D, Dh, W1s, W2s, kt, v + row * D, p, a, e, c, g);
      const F th = theta[row], et = eta[row], keep = F(1) - alpha[row];
      for (int64_t x = 0; x < n; ++x) {
        dS1[x] = dSn1[x] + dW1[x];
        dS2[x] = dSn2[x] + dW2[x];
      }
      F dal = -memvec::dot(W1p, dW1, n) - memvec::dot(W2p, dW2, n);
      F det = memvec::dot(S1p, dS1, n) + memvec::dot(S2p, dS2, n);
      F dth = 0;
      // layer 1: u1 = e a^T  (W1 [D, Dh])
      std::fill(da, da + Dh, F(0));
      for (int64_t ii = 0; ii < D; ++ii) {
        const F* s = dS1 + ii * Dh;
        const F sa = memvec::dot(s, a, Dh);
        dth -= e[ii] * sa;
        de[ii] = -th * sa;
        memvec::axpy(Dh, -th * e[ii], s, da);
      }
      // layer 2: u2 = g k^T  (W2 [Dh, D])
      std::fill(tmp, tmp + D, F(0));
      for (int64_t j = 0; j < Dh; ++j) {
        const F* s = dS2 + j * D;
        const F sk = memvec::dot(s, kt, D);
        dth -= g[j] * sk;
        dg[j] = -th * sk;
        memvec::axpy(D, -th * g[j], s, tmp);  // dk from u2
      }
      for (int64_t x = 0; x < n; ++x) {
        dSn1[x] = et * dS1[x];
        dSn2[x] = et * dS2[x];
        dW1[x] *= keep;
        dW2[x] *= keep;
      }
      // g = c * silu'(p), c = W1'^T e
      for (int64_t j = 0; j < Dh; ++j) {
        dc[j] = dg[j] * silu_d1(p[j]);
        dp[j] = dg[j] * c[j] * silu_d2(p[j]);
      }
      for (int64_t ii = 0; ii < D; ++ii) {
        memvec::axpy(Dh, e[ii], dc, dW1p + ii * Dh);
        de[ii] += memvec::dot(W1s + ii * Dh, dc, Dh);
      }
      // e = k + W1' a - v
      for (int64_t ii = 0; ii < D; ++ii) {
        tmp[ii] += de[ii];
        dv[row * D + ii] = -de[ii];
        memvec::axpy(Dh, de[ii], a, dW1p + ii * Dh);
        memvec::axpy(Dh, de[ii], W1s + ii * Dh, da);
      }
      // a = silu(p), p = W2' k
      for (int64_t j = 0; j < Dh; ++j) {
        dp[j] += da[j] * silu_d1(p[j]);
        memvec::axpy(D, dp[j], kt, dW2p + j * D);
        memvec::axpy(D, dp[j], W2s + j * D, tmp);
      }
      std::copy(tmp, tmp + D, dk + row * D);
      dalpha[row] = dal;
      deta[row] = det;
      dtheta[row] = dth;
      if (!d.read_after) read_back(row, W1p, W2p);
    }
    for (int64_t x = 0; x < n; ++x) {
      dW1[x] += dW1p[x];
      dW2[x] += dW2p[x];
    }
  }
}

}  // namespace

template <typename F>
void titans_mlp_backward(const TitansMlpDims& d, const F* q, const F* k, const F* v, const F* theta, const F* eta,
                         const F* alpha, const F* w1, const F* w2, const F* s1, const F* s2, const F* d_o,
                         const F* d_w1, const F* d_w2, const F* d_s1, const F* d_s2, F* dq, F* dk, F* dv,
                         F* dtheta, F* deta, F* dalpha, F* dw1, F* dw2, F* ds1, F* ds2) {
  using namespace titans_mlp_detail;
  const int64_t D = d.d, Dh = d.hidden, n = D * Dh, T = d.seq, H = d.heads;
  const int64_t nchunks = std::max<int64_t>((T + d.chunk - 1) / d.chunk, 1);
  parallel_for(d.batch * d.heads, 1, [&](int64_t begin, int64_t end) {
    Work<F> w(d, nchunks);
    std::vector<F> cur(static_cast<size_t>(4 * n)), snap(static_cast<size_t>(2 * n)), vec(static_cast<size_t>(4 * Dh + D));
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / H, h = bh % H;
      F *W1 = cur.data(), *W2 = W1 + n, *S1 = W2 + n, *S2 = S1 + n;
      std::copy(w1 + bh * n, w1 + (bh + 1) * n, W1);
      std::copy(w2 + bh * n, w2 + (bh + 1) * n, W2);
      for (int64_t i = 0; i < n; ++i) {
        S1[i] = s1 ? s1[bh * n + i] : F(0);
        S2[i] = s2 ? s2[bh * n + i] : F(0);
      }
      F *p = vec.data(), *a = p + Dh, *c = a + Dh, *g = c + Dh, *e = g + Dh;
      F *W1s = snap.data(), *W2s = W1s + n;
      F* bd = w.bound.data();
      for (int64_t t = 0; t < T; ++t) {  // forward: keep the chunk-start states
        const int64_t row = (b * T + t) * H + h;
        if (t % d.chunk == 0) {
          const int64_t ch = t / d.chunk;
          std::copy(W1, W1 + n, bd + (0 * nchunks + ch) * n);
          std::copy(W2, W2 + n, bd + (1 * nchunks + ch) * n);
          std::copy(S1, S1 + n, bd + (2 * nchunks + ch) * n);
          std::copy(S2, S2 + n, bd + (3 * nchunks + ch) * n);
          std::copy(W1, W1 + n, W1s);
          std::copy(W2, W2 + n, W2s);
        }
        inner_factors(D, Dh, W1s, W2s, k + row * D, v + row * D, p, a, e, c, g);
        write_token(D, Dh, k + row * D, a, e, g, theta[row], eta[row], F(1) - alpha[row], W1, W2, S1, S2);
      }
      F *dW1 = dw1 + bh * n, *dW2 = dw2 + bh * n, *dSn1 = ds1 + bh * n, *dSn2 = ds2 + bh * n;
      for (int64_t i = 0; i < n; ++i) {
        dW1[i] = d_w1 ? d_w1[bh * n + i] : F(0);
        dW2[i] = d_w2 ? d_w2[bh * n + i] : F(0);
        dSn1[i] = d_s1 ? d_s1[bh * n + i] : F(0);
        dSn2[i] = d_s2 ? d_s2[bh * n + i] : F(0);
      }
      if (T > 0) {
        backward_one<F>(d, b, h, q, k, v, theta, eta, alpha, d_o, dq, dk, dv, dtheta, deta, dalpha, dW1, dW2, dSn1,
                        dSn2, w, nchunks);
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

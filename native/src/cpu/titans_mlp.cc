// Titans MLP memory: token-level fused forward (version 1). See titans_mlp.h.
#include "cpu/titans_mlp.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/delta_rule_vec.h"
#include "cpu/thread_pool.h"

namespace nl {
namespace titans_mlp_detail {

template <typename F>
inline F sigmoid(F x) {
  return F(1) / (F(1) + std::exp(-x));
}

template <typename F>
void inner_factors(int64_t D, int64_t Dh, const F* W1s, const F* W2s, const F* k, const F* v, F* p, F* a, F* e,
                   F* c, F* g) {
  for (int64_t j = 0; j < Dh; ++j) {
    p[j] = memvec::dot(W2s + j * D, k, D);
    a[j] = p[j] * sigmoid(p[j]);
  }
  for (int64_t i = 0; i < D; ++i) e[i] = memvec::dot(W1s + i * Dh, a, Dh) + k[i] - v[i];
  std::fill(c, c + Dh, F(0));
  for (int64_t i = 0; i < D; ++i) memvec::axpy(Dh, e[i], W1s + i * Dh, c);
  for (int64_t j = 0; j < Dh; ++j) {
    const F s = sigmoid(p[j]);
    g[j] = c[j] * s * (F(1) + p[j] * (F(1) - s));
  }
}

template <typename F>
void write_token(int64_t D, int64_t Dh, const F* k, const F* a, const F* e, const F* g, F th, F et, F keep, F* W1,
                 F* W2, F* S1, F* S2) {
  for (int64_t i = 0; i < D; ++i) {
    F* s1 = S1 + i * Dh;
    F* w1 = W1 + i * Dh;
    const F ce = th * e[i];
    for (int64_t j = 0; j < Dh; ++j) {
      s1[j] = et * s1[j] - ce * a[j];
      w1[j] = keep * w1[j] + s1[j];
    }
  }
  for (int64_t j = 0; j < Dh; ++j) {
    F* s2 = S2 + j * D;
    F* w2 = W2 + j * D;
    const F cg = th * g[j];
    for (int64_t i = 0; i < D; ++i) {
      s2[i] = et * s2[i] - cg * k[i];
      w2[i] = keep * w2[i] + s2[i];
    }
  }
}

template <typename F>
void read(int64_t D, int64_t Dh, const F* W1, const F* W2, const F* q, F* out, F* r, F* z) {
  for (int64_t j = 0; j < Dh; ++j) {
    r[j] = memvec::dot(W2 + j * D, q, D);
    z[j] = r[j] * sigmoid(r[j]);
  }
  for (int64_t i = 0; i < D; ++i) out[i] = q[i] + memvec::dot(W1 + i * Dh, z, Dh);
}

#define NL_TITANS_MLP_INSTANTIATE(F)                                                                             \
  template void inner_factors<F>(int64_t, int64_t, const F*, const F*, const F*, const F*, F*, F*, F*, F*, F*); \
  template void write_token<F>(int64_t, int64_t, const F*, const F*, const F*, const F*, F, F, F, F*, F*, F*,   \
                               F*);                                                                             \
  template void read<F>(int64_t, int64_t, const F*, const F*, const F*, F*, F*, F*);
NL_TITANS_MLP_INSTANTIATE(float)
NL_TITANS_MLP_INSTANTIATE(double)
#undef NL_TITANS_MLP_INSTANTIATE

}  // namespace titans_mlp_detail

template <typename F>
void titans_mlp_forward(const TitansMlpDims& d, const F* q, const F* k, const F* v, const F* theta, const F* eta,
                        const F* alpha, const F* w1, const F* w2, const F* s1, const F* s2, F* o, F* w1_out,
                        F* w2_out, F* s1_out, F* s2_out) {
  using namespace titans_mlp_detail;
  const int64_t D = d.d, Dh = d.hidden, n = D * Dh, T = d.seq, H = d.heads;
  parallel_for(d.batch * d.heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<F> snap(static_cast<size_t>(2 * n)), vec(static_cast<size_t>(6 * Dh + D));
    F *W1s = snap.data(), *W2s = W1s + n;
    F *p = vec.data(), *a = p + Dh, *c = a + Dh, *g = c + Dh, *r = g + Dh, *z = r + Dh, *e = z + Dh;
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / H, h = bh % H;
      F *W1 = w1_out + bh * n, *W2 = w2_out + bh * n, *S1 = s1_out + bh * n, *S2 = s2_out + bh * n;
      std::copy(w1 + bh * n, w1 + (bh + 1) * n, W1);
      std::copy(w2 + bh * n, w2 + (bh + 1) * n, W2);
      for (int64_t i = 0; i < n; ++i) {
        S1[i] = s1 ? s1[bh * n + i] : F(0);
        S2[i] = s2 ? s2[bh * n + i] : F(0);
      }
      for (int64_t t = 0; t < T; ++t) {
        const int64_t row = (b * T + t) * H + h;
        if (t % d.chunk == 0) {
          std::copy(W1, W1 + n, W1s);
          std::copy(W2, W2 + n, W2s);
        }
        if (!d.read_after) read(D, Dh, W1, W2, q + row * D, o + row * D, r, z);
        inner_factors(D, Dh, W1s, W2s, k + row * D, v + row * D, p, a, e, c, g);
        write_token(D, Dh, k + row * D, a, e, g, theta[row], eta[row], F(1) - alpha[row], W1, W2, S1, S2);
        if (d.read_after) read(D, Dh, W1, W2, q + row * D, o + row * D, r, z);
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

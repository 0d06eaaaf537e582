// Titans MLP memory: the token-level building blocks (inner-gradient factors, one token's write,
// one read) used by the backward (titans_mlp_backward.cc). The forward is in titans_mlp_chunk.cc.
#include "cpu/titans_mlp.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/delta_rule_vec.h"

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

}  // namespace nl

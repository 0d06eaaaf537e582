// CMS backward (cpu/cms.h): per level, newest first for the chain variants, three GEMMs for the
// weight gradients and the level's input gradient (dW2 = gᵀ a, dW1 = ghᵀ x, g += gh W1) and one for
// gh = (g W2) ⊙ silu'(h), with a recomputed from the saved pre-activations h.
#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu/cms.h"
#include "cpu/cms_work.h"

namespace nl {

using cms_detail::dsilu;
using cms_detail::mm;
using cms_detail::rows;

namespace {

// a = silu(h) = h s; u ← scale · u ⊙ silu'(h)   (h, s = sigmoid(h), a, u [n])
template <typename F>
void activations(int64_t n, const F* h, const F* s, F* a, F* u, F scale) {
  rows(n, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      a[i] = h[i] * s[i];
      u[i] *= scale * dsilu(h[i], s[i]);
    }
  });
}

}  // namespace

template <typename F>
void cms_backward(const CmsDims& dm, const F* x, const F* xs, const F* hs, const F* ss, const F* w1e, const F* w2e,
                  const F* agg, const F* probe, const F* dy, F* dx, F* dw1, F* dw2, F* dagg, F* dprobe) {
  const int64_t N = dm.batch * dm.seq, D = dm.d, Dh = dm.hidden, L = dm.levels, nw = Dh * D;
  if (N == 0) {
    std::fill(dw1, dw1 + L * nw, F(0));
    std::fill(dw2, dw2 + L * nw, F(0));
    if (dagg) std::fill(dagg, dagg + L, F(0));
    return;
  }
  F* a = cms_detail::scratch<F>(0, N * Dh);  // silu(h) [N, Dh]
  F* u = cms_detail::scratch<F>(1, N * Dh);  // g W2, then gh [N, Dh]
  if (!dm.independent) {
    std::memcpy(dx, dy, sizeof(F) * N * D);  // g = ∂L/∂y_ℓ, carried down the chain in dx
    for (int64_t l = L - 1; l >= 0; --l) {
      const F* h = hs + l * N * Dh;
      const F* sg = ss + l * N * Dh;
      if (dprobe) std::memcpy(dprobe + l * N * D, dx, sizeof(F) * N * D);
      mm<F>(false, false, N, Dh, D, F(1), dx, w2e + l * nw, F(0), u);  // g W2 [N, Dh]
      activations<F>(N * Dh, h, sg, a, u, F(1));                 // gh
      mm<F>(true, false, D, Dh, N, F(1), dx, a, F(0), dw2 + l * nw);    // gᵀ a
      mm<F>(true, false, Dh, D, N, F(1), u, xs + l * N * D, F(0), dw1 + l * nw);  // ghᵀ x
      mm<F>(false, false, N, D, Dh, F(1), u, w1e + l * nw, F(1), dx);  // g += gh W1
    }
    return;
  }
  F total = 0;
  for (int64_t l = 0; l < L; ++l) total += agg[l];
  rows(N * D, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) dx[i] = total * dy[i];
  });
  for (int64_t l = 0; l < L; ++l) {
    const F* h = hs + l * N * Dh;
    const F* sg = ss + l * N * Dh;
    const F* pr = probe ? probe + l * N * D : nullptr;
    const F w = agg[l];
    if (dprobe) {
      F* dp = dprobe + l * N * D;
      rows(N * D, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) dp[i] = w * dy[i];
      });
    }
    mm<F>(false, false, N, Dh, D, F(1), dy, w2e + l * nw, F(0), u);  // ∂L/∂out W2 [N, Dh]
    double s = 0;  // dagg_ℓ = ⟨x + probe_ℓ, ∂L/∂out⟩ + ⟨a, ∂L/∂out W2⟩
    for (int64_t i = 0; i < N * D; ++i) s += static_cast<double>((pr ? x[i] + pr[i] : x[i]) * dy[i]);
    for (int64_t i = 0; i < N * Dh; ++i) s += static_cast<double>(h[i] * sg[i] * u[i]);
    dagg[l] = static_cast<F>(s);
    activations<F>(N * Dh, h, sg, a, u, w);                          // gh_ℓ = agg_ℓ (…) ⊙ silu'(h)
    mm<F>(true, false, D, Dh, N, w, dy, a, F(0), dw2 + l * nw);         // agg_ℓ ∂L/∂outᵀ a
    mm<F>(true, false, Dh, D, N, F(1), u, x, F(0), dw1 + l * nw);       // ghᵀ x
    mm<F>(false, false, N, D, Dh, F(1), u, w1e + l * nw, F(1), dx);    // dx += gh W1
  }
}

template void cms_backward<float>(const CmsDims&, const float*, const float*, const float*, const float*, const float*,
                                  const float*, const float*, const float*, const float*, float*, float*, float*,
                                  float*, float*);
template void cms_backward<double>(const CmsDims&, const double*, const double*, const double*, const double*,
                                   const double*,
                                   const double*, const double*, const double*, const double*, double*, double*,
                                   double*, double*, double*);

}  // namespace nl

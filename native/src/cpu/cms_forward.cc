// CMS forward (cpu/cms.h): per level two GEMMs, h = x W1ᵀ and y = x + silu(h) W2ᵀ, with the
// elementwise parts (θ0 + Δ, silu, residual + probe, the independent variant's weighted sum) as
// threaded passes between them.
#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu/cms.h"
#include "cpu/cms_work.h"
#include "cpu/self_mod_vec.h"  // sigmoid_n: SIMD exp for float, std::exp for double

namespace nl {

using cms_detail::mm;
using cms_detail::rows;

template <typename F>
void cms_forward(const CmsDims& dm, const F* x, const F* const* w1, const F* const* d1, const F* const* w2,
                 const F* const* d2, const F* agg, const F* probe, F* y, F* xs, F* hs, F* ss, F* w1e, F* w2e) {
  const int64_t N = dm.batch * dm.seq, D = dm.d, Dh = dm.hidden, L = dm.levels, nw = Dh * D;
  for (int64_t l = 0; l < L; ++l) {  // effective weights θ0 + Δ (straight-through, A11)
    F* e1 = w1e + l * nw;
    F* e2 = w2e + l * nw;
    rows(nw, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        e1[i] = w1[l][i] + d1[l][i];
        e2[i] = w2[l][i] + d2[l][i];
      }
    });
  }
  if (N == 0) return;
  F* a = cms_detail::scratch<F>(0, N * Dh);                             // silu(h) [N, Dh]
  F* term = dm.independent ? cms_detail::scratch<F>(1, N * D) : nullptr;  // level output [N, D]
  if (dm.independent) std::fill(y, y + N * D, F(0));
  else std::memcpy(xs, x, sizeof(F) * N * D);
  for (int64_t l = 0; l < L; ++l) {
    const F* in = dm.independent ? x : xs + l * N * D;  // [N, D]
    F* h = hs + l * N * Dh;                              // [N, Dh]
    F* s = ss + l * N * Dh;
    mm<F>(false, true, N, Dh, D, F(1), in, w1e + l * nw, F(0), h);
    rows(N * Dh, [&](int64_t i0, int64_t i1) {
      self_mod_detail::sigmoid_n(i1 - i0, h + i0, s + i0);
      for (int64_t i = i0; i < i1; ++i) a[i] = h[i] * s[i];
    });
    F* out = dm.independent ? term : (l + 1 < L ? xs + (l + 1) * N * D : y);  // [N, D]
    const F* pr = probe ? probe + l * N * D : nullptr;
    rows(N * D, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) out[i] = pr ? in[i] + pr[i] : in[i];
    });
    mm<F>(false, true, N, D, Dh, F(1), a, w2e + l * nw, F(1), out);
    if (dm.independent) {
      const F w = agg[l];
      rows(N * D, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) y[i] += w * out[i];
      });
    }
  }
}

template void cms_forward<float>(const CmsDims&, const float*, const float* const*, const float* const*,
                                 const float* const*, const float* const*, const float*, const float*, float*,
                                 float*, float*, float*, float*, float*);
template void cms_forward<double>(const CmsDims&, const double*, const double* const*, const double* const*,
                                  const double* const*, const double* const*, const double*, const double*,
                                  double*, double*, double*, double*, double*, double*);

}  // namespace nl

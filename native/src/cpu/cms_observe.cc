// CMS error-signal update (cpu/cms.h). Levels are independent apart from the nested resets, so
// each level replays its own events in token order: its fires (C_ℓ − pending, then every C_ℓ) and,
// for 'nested', the fires of every slower level (reset Δ = 0), ties in level order as in the
// reference's event loop. Tokens between two of the level's own fires are accumulated in one go:
// a = silu(h) and gh = (δ W2) ⊙ silu'(h) over the whole call, then G2 += δᵀ a and G1 += ghᵀ x per run.
#include <algorithm>
#include <vector>

#include "cpu/cms.h"
#include "cpu/cms_work.h"

namespace nl {

using cms_detail::mm;
using cms_detail::rows;

namespace {

struct Event {
  int64_t pos, level;  // token position (1..T) and the level whose fire causes it
  bool reset;          // true: a slower level fired (nested), Δ ← 0; false: this level fires
};

// The events of level l in processing order (position, then level index).
std::vector<Event> events_of(const CmsSchedule& s, int64_t l, int64_t T) {
  std::vector<Event> ev;
  const int64_t L = static_cast<int64_t>(s.chunk.size());
  for (int64_t j = 0; j < L; ++j) {
    const bool self = j == l;
    if (!self && !(s.nested && s.chunk[j] > s.chunk[l])) continue;
    for (int64_t p = s.chunk[j] - s.pending[j]; p <= T; p += s.chunk[j]) ev.push_back({p, j, !self});
  }
  std::sort(ev.begin(), ev.end(),
            [](const Event& a, const Event& b) { return a.pos != b.pos ? a.pos < b.pos : a.level < b.level; });
  return ev;
}

// G2 += δᵀ a and G1 += ghᵀ x over tokens [p0, p1) of every sequence (rows b·T + t).
template <typename F>
void accumulate(const CmsDims& dm, int64_t p0, int64_t p1, const F* x, const F* e, const F* a, const F* gh, F* g1,
                F* g2) {
  const int64_t T = dm.seq, D = dm.d, Dh = dm.hidden;
  if (p1 <= p0) return;
  if (p0 == 0 && p1 == T) {  // whole sequences: the rows are contiguous
    const int64_t N = dm.batch * T;
    mm<F>(true, false, D, Dh, N, F(1), e, a, F(1), g2);
    mm<F>(true, false, Dh, D, N, F(1), gh, x, F(1), g1);
    return;
  }
  for (int64_t b = 0; b < dm.batch; ++b) {
    const int64_t r = b * T + p0, n = p1 - p0;
    mm<F>(true, false, D, Dh, n, F(1), e + r * D, a + r * Dh, F(1), g2);
    mm<F>(true, false, Dh, D, n, F(1), gh + r * Dh, x + r * D, F(1), g1);
  }
}

// Δ ← Δ − η G, G ← 0 over n elements.
template <typename F>
void fire(int64_t n, F lr, F* d, F* g) {
  rows(n, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      d[i] -= lr * g[i];
      g[i] = F(0);
    }
  });
}

}  // namespace

template <typename F>
void cms_observe(const CmsDims& dm, const CmsSchedule& s, const F* x, const F* xs, const F* hs, const F* ss, const F* w2e,
                 const F* err, F* const* d1, F* const* d2, F* const* g1, F* const* g2, const F* inc1,
                 const F* inc2) {
  const int64_t T = dm.seq, N = dm.batch * T, D = dm.d, Dh = dm.hidden, L = dm.levels, nw = Dh * D;
  if (T == 0) return;
  std::vector<F> a(static_cast<size_t>(N * Dh)), gh(static_cast<size_t>(N * Dh));
  for (int64_t l = 0; l < L; ++l) {
    const F* h = hs + l * N * Dh;
    const F* sg = ss + l * N * Dh;
    const F* e = err + l * N * D;
    const F* xl = dm.independent ? x : xs + l * N * D;
    const std::vector<Event> events = events_of(s, l, T);
    // With the backward's weight gradients given (the same sums over the whole call) and no fire of
    // this level inside the call, the call is one run: G += inc, no GEMM.
    const bool whole = inc1 && inc2 && std::none_of(events.begin(), events.end(), [&](const Event& ev) {
                         return !ev.reset && ev.pos < T;
                       });
    auto run = [&](int64_t p0, int64_t p1) {
      if (!whole) return accumulate<F>(dm, p0, p1, xl, e, a.data(), gh.data(), g1[l], g2[l]);
      if (p1 <= p0) return;
      const F* i1 = inc1 + l * nw;
      const F* i2 = inc2 + l * nw;
      rows(nw, [&](int64_t j0, int64_t j1) {
        for (int64_t j = j0; j < j1; ++j) {
          g1[l][j] += i1[j];
          g2[l][j] += i2[j];
        }
      });
    };
    if (!whole) {
      mm<F>(false, false, N, Dh, D, F(1), e, w2e + l * nw, F(0), gh.data());  // δ W2 [N, Dh]
      rows(N * Dh, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
          a[i] = h[i] * sg[i];
          gh[i] *= cms_detail::dsilu(h[i], sg[i]);
        }
      });
    }
    const F lr = static_cast<F>(s.lr[l]);
    int64_t from = 0;
    for (const Event& ev : events) {
      if (ev.reset) {
        std::fill(d1[l], d1[l] + nw, F(0));
        std::fill(d2[l], d2[l] + nw, F(0));
        continue;
      }
      run(from, ev.pos);
      from = ev.pos;
      fire<F>(nw, lr, d1[l], g1[l]);
      fire<F>(nw, lr, d2[l], g2[l]);
    }
    run(from, T);
  }
}

template void cms_observe<float>(const CmsDims&, const CmsSchedule&, const float*, const float*, const float*, const float*,
                                 const float*, const float*, float* const*, float* const*, float* const*,
                                 float* const*, const float*, const float*);
template void cms_observe<double>(const CmsDims&, const CmsSchedule&, const double*, const double*, const double*,
                                  const double*,
                                  const double*, const double*, double* const*, double* const*, double* const*,
                                  double* const*, const double*, const double*);

}  // namespace nl

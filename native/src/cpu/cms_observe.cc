// CMS error-signal update (cpu/cms.h). Levels are independent apart from the nested resets, so
// each level replays its own events in token order: its fires (C_ℓ − pending, then every C_ℓ) and,
// for 'nested', the fires of every slower level (reset Δ = 0), ties in level order as in the
// reference's event loop. Tokens between two of the level's own fires are accumulated in one go:
// a = silu(h) and gh = (δ W2) ⊙ silu'(h) over the whole call, in run order (run_order), then
// G2 += δᵀ a and G1 += ghᵀ x per run as one GEMM each.
#include <algorithm>
#include <cstring>
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

// Source rows (b·T + t) in run order: for each run [cuts[i], cuts[i+1]) of tokens between the
// level's own fires, its tokens of every sequence (b, then t). A run is then B (p1 − p0)
// contiguous rows: one GEMM per run instead of B small ones.
std::vector<int64_t> run_order(int64_t batch, int64_t T, const std::vector<int64_t>& cuts) {
  std::vector<int64_t> src;
  src.reserve(static_cast<size_t>(batch * T));
  for (size_t i = 0; i + 1 < cuts.size(); ++i)
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t t = cuts[i]; t < cuts[i + 1]; ++t) src.push_back(b * T + t);
  return src;
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
  F* a = cms_detail::scratch<F>(0, N * Dh);   // silu(h) [N, Dh]
  F* gh = cms_detail::scratch<F>(1, N * Dh);  // (δ W2) ⊙ silu'(h) [N, Dh]
  for (int64_t l = 0; l < L; ++l) {
    const F* h = hs + l * N * Dh;
    const F* sg = ss + l * N * Dh;
    const F* e = err + l * N * D;
    const F* xl = dm.independent ? x : xs + l * N * D;
    const std::vector<Event> events = events_of(s, l, T);
    std::vector<int64_t> cuts{0};  // the runs' bounds: 0, this level's fires inside the call, T
    for (const Event& ev : events)
      if (!ev.reset && ev.pos < T) cuts.push_back(ev.pos);
    cuts.push_back(T);
    // With the backward's weight gradients given (the same sums over the whole call) and no fire of
    // this level inside the call, the call is one run: G += inc, no GEMM.
    const bool whole = inc1 && inc2 && cuts.size() == 2;
    // Runs as contiguous rows (run_order): δ and x gathered once when the order is not the identity.
    const F* ep = e;   // [N, D]
    const F* xp = xl;  // [N, D]
    std::vector<int64_t> src;
    if (!whole && dm.batch > 1 && cuts.size() > 2) {
      src = run_order(dm.batch, T, cuts);
      F* eg = cms_detail::scratch<F>(2, N * D);
      F* xg = cms_detail::scratch<F>(3, N * D);
      parallel_for_dynamic(N, 64, [&](int64_t q0, int64_t q1) {
        for (int64_t q = q0; q < q1; ++q) {
          std::memcpy(eg + q * D, e + src[q] * D, sizeof(F) * D);
          std::memcpy(xg + q * D, xl + src[q] * D, sizeof(F) * D);
        }
      });
      ep = eg;
      xp = xg;
    }
    auto run = [&](int64_t p0, int64_t p1) {
      if (p1 <= p0) return;
      if (!whole) {  // rows [B p0, B p1) of the run order: G2 += δᵀ a, G1 += ghᵀ x
        const int64_t r = dm.batch * p0, n = dm.batch * (p1 - p0);
        mm<F>(true, false, D, Dh, n, F(1), ep + r * D, a + r * Dh, F(1), g2[l]);
        mm<F>(true, false, Dh, D, n, F(1), gh + r * Dh, xp + r * D, F(1), g1[l]);
        return;
      }
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
      mm<F>(false, false, N, Dh, D, F(1), ep, w2e + l * nw, F(0), gh);  // δ W2 [N, Dh], run order
      parallel_for_dynamic(N, 16, [&](int64_t q0, int64_t q1) {
        for (int64_t q = q0; q < q1; ++q) {
          const int64_t r = (src.empty() ? q : src[q]) * Dh;  // the source row's h, sigmoid(h)
          F* aq = a + q * Dh;
          F* gq = gh + q * Dh;
          for (int64_t j = 0; j < Dh; ++j) {
            aq[j] = h[r + j] * sg[r + j];
            gq[j] *= cms_detail::dsilu(h[r + j], sg[r + j]);
          }
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

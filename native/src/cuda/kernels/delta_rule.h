// Gated delta rule (fla convention, exact tiling), token-recurrent CUDA kernels:
//   S_t = a_t S_{t-1} + b_t k_t u_t^T,  u_t = v_t - a_t S_{t-1}^T k_t (erase) or v_t,  o_t = S_t^T q_t.
// Layouts (row-major, contiguous): q, k [B, T, H, Dk]; v, o [B, T, H, Dv]; alpha, beta [B, T, H];
// states [B, H, Dk, Dv]. One block per (b, h) (grid.x = B*H); thread j owns state columns
// j, j + threads, ... so the forward needs no cross-thread reduction. Dot products accumulate in
// double. The chunked CPU kernels (native/src/cpu/delta_rule*.cc) give the same result up to rounding.
#pragma once
#include <cstdint>

#include "cuda/launch.h"

namespace nl::cuda {

struct DeltaDims {
  int64_t B = 0, T = 0, H = 0, dk = 0, dv = 0;
  NL_HD int64_t row(int64_t b, int64_t t, int64_t h) const { return (b * T + t) * H + h; }
};

// Runs tokens [t0, t1) of (b, h) = block from the state at `S` ([Dk, Dv], updated in place) for the
// column j. When o is set the outputs are written; when snaps is set, the state before token
// t0 + i is written to snaps + i * snap_stride (i = 0..t1-t0, the last being the state after t1-1).
template <class T>
NL_HD void delta_columns(const DeltaDims& d, bool erase, int64_t b, int64_t h, int64_t t0, int64_t t1, const T* q,
                         const T* k, const T* v, const T* al, const T* be, T* S, T* o, T* snaps, int64_t snap_stride,
                         int64_t j) {
  const int64_t dk = d.dk, dv = d.dv;
  for (int64_t t = t0; t <= t1; ++t) {
    if (snaps != nullptr)
      for (int64_t i = 0; i < dk; ++i) snaps[(t - t0) * snap_stride + i * dv + j] = S[i * dv + j];
    if (t == t1) break;
    const int64_t r = d.row(b, t, h);
    const T* kt = k + r * dk;
    const double a = double(al[r]), bb = double(be[r]);
    double u = double(v[r * dv + j]);
    if (erase) {
      double w = 0;
      for (int64_t i = 0; i < dk; ++i) w += double(S[i * dv + j]) * double(kt[i]);
      u -= a * w;
    }
    double out = 0;
    const T* qt = q + r * dk;
    for (int64_t i = 0; i < dk; ++i) {
      const T s = T(a * double(S[i * dv + j]) + bb * double(kt[i]) * u);
      S[i * dv + j] = s;
      out += double(s) * double(qt[i]);
    }
    if (o != nullptr) o[r * dv + j] = T(out);
  }
}

// Forward over all tokens: state[bh] = s0[bh] (or 0), then every token; o written when set.
// boundary (when set): the state at the start of chunk c at boundary + (bh * nchunks + c) * Dk*Dv.
template <class T>
struct DeltaForwardK {
  using Regs = NoRegs;
  DeltaDims d;
  bool erase;
  int64_t chunk, nchunks;
  const T *q, *k, *v, *al, *be, *s0;
  T *o, *state, *boundary;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    const int64_t bh = at.block.x, b = bh / d.H, h = bh % d.H, n = d.dk * d.dv;
    T* S = state + bh * n;
    for (int64_t j = at.thread.x; j < d.dv; j += at.dim.x) {
      for (int64_t i = 0; i < d.dk; ++i) S[i * d.dv + j] = s0 != nullptr ? s0[bh * n + i * d.dv + j] : T(0);
      if (boundary == nullptr) {
        delta_columns<T>(d, erase, b, h, 0, d.T, q, k, v, al, be, S, o, nullptr, 0, j);
        continue;
      }
      for (int64_t c = 0; c < nchunks; ++c) {
        const int64_t t0 = c * chunk, t1 = t0 + chunk < d.T ? t0 + chunk : d.T;
        T* start = boundary + (bh * nchunks + c) * n;
        for (int64_t i = 0; i < d.dk; ++i) start[i * d.dv + j] = S[i * d.dv + j];
        delta_columns<T>(d, erase, b, h, t0, t1, q, k, v, al, be, S, o, nullptr, 0, j);
      }
    }
  }
};

}  // namespace nl::cuda

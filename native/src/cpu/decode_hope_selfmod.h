// The SelfModifyingTitans one-token step of the fused Hope decode (maths in cpu/decode_hope.h): the
// state of one head stays in place in the mems array; every product is a matrix-vector product of
// the head's [Dd, Dm] / [Dm, Dd] matrices (dots with independent lane sums, memvec), the updates
// rank-1 row passes. The snapshots' transposes A1^T [Dm, Dd], A2^T [Dd, Dm] are kept beside them
// (taken with each snapshot), so the snapshot products are row axpys too; per memory five passes
// over its matrices (A2^T; A1^T; A1; W1, S1; W2, S2).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "cpu/decode_hope.h"
#include "cpu/delta_rule_vec.h"
#include "cpu/self_mod_clip.h"

namespace nl::hope_decode_detail {

enum Mem : int64_t { kK = 0, kV = 1, kEta = 2, kAlpha = 3, kMem = 4 };
enum State : int64_t { kW1 = 0, kW2 = 1, kS1 = 2, kS2 = 3, kA1 = 4, kA2 = 5, kA1T = 6, kA2T = 7 };

template <typename T>
inline T sigm(T v) {
  return T(1) / (T(1) + std::exp(-v));
}

// y[c] += Σ_r z1[r] M[r, c] (and y2[c] += Σ_r z2[r] M[r, c] when z2 is set) for c < C, M [R, C]
// row-major: column blocks of 16 accumulate in locals (registers), not through y in memory.
template <typename T>
void combine_rows(int64_t R, int64_t C, const T* M, const T* z1, T* y1, const T* z2 = nullptr, T* y2 = nullptr) {
  constexpr int B = 16;
  int64_t c0 = 0;
  for (; c0 + B <= C; c0 += B) {
    T a1[B], a2[B];
    for (int l = 0; l < B; ++l) {
      a1[l] = y1[c0 + l];
      a2[l] = z2 ? y2[c0 + l] : T(0);
    }
    if (z2) {
      for (int64_t r = 0; r < R; ++r) {
        const T* m = M + r * C + c0;
        const T s1 = z1[r], s2 = z2[r];
        for (int l = 0; l < B; ++l) {
          a1[l] += s1 * m[l];
          a2[l] += s2 * m[l];
        }
      }
    } else {
      for (int64_t r = 0; r < R; ++r) {
        const T* m = M + r * C + c0;
        const T s1 = z1[r];
        for (int l = 0; l < B; ++l) a1[l] += s1 * m[l];
      }
    }
    for (int l = 0; l < B; ++l) {
      y1[c0 + l] = a1[l];
      if (z2) y2[c0 + l] = a2[l];
    }
  }
  for (; c0 < C; ++c0) {
    for (int64_t r = 0; r < R; ++r) {
      y1[c0] += z1[r] * M[r * C + c0];
      if (z2) y2[c0] += z2[r] * M[r * C + c0];
    }
  }
}

// One head's view of the memories and the scratch of a step.
template <typename T>
struct HeadStep {
  const HopeDecodeDims& d;
  T* mems;
  int64_t h, Dd, Dm, nn;
  std::vector<T> gen, hid, act, e, g, u;

  HeadStep(const HopeDecodeDims& dims, T* m)
      : d(dims), mems(m), h(0), Dd(dims.d / dims.heads), Dm(dims.mem_hidden), nn(Dd * Dm) {
    gen.resize(static_cast<size_t>(kHopeMemories * Dd));
    for (auto* v : {&hid, &act, &g, &u}) v->resize(static_cast<size_t>(Dm));
    e.resize(static_cast<size_t>(Dd));
  }

  T* S(int64_t m, int64_t s) const { return mems + ((m * kHopePacked + s) * d.heads + h) * nn; }

  // A1^T [Dm, Dd] and A2^T [Dd, Dm] of memory m from its snapshots.
  void transpose_snapshot(int64_t m) {
    memvec::transpose<T>(Dd, Dm, S(m, kA1), Dm, S(m, kA1T), Dd);
    memvec::transpose<T>(Dm, Dd, S(m, kA2), Dd, S(m, kA2T), Dm);
  }
  // y = z + A1 silu(A2 z) at memory m's snapshot, as row axpys over the transposes; scratch hid.
  void apply_snapshot(int64_t m, const T* z, T* y) {
    const T *A1T = S(m, kA1T), *A2T = S(m, kA2T);
    T* hz = hid.data();
    std::fill(hz, hz + Dm, T(0));
    combine_rows(Dd, Dm, A2T, z, hz);
    for (int64_t j = 0; j < Dm; ++j) hz[j] *= sigm(hz[j]);
    std::copy(z, z + Dd, y);
    combine_rows(Dm, Dd, A1T, hz, y);
  }

  // y [Dm] = W2 z (W2 [Dm, Dd]).
  void w2_times(const T* w2, const T* z, T* y) const {
    for (int64_t j = 0; j < Dm; ++j) y[j] = memvec::dot(w2 + j * Dd, z, Dd);
  }
  // y [Dd] = base + W1 a (W1 [Dd, Dm]); base may be y.
  void w1_times(const T* w1, const T* a, const T* base, T* y) const {
    for (int64_t i = 0; i < Dd; ++i) y[i] = base[i] + memvec::dot(w1 + i * Dm, a, Dm);
  }
  // y = z + W1 silu(W2 z); scratch hid.
  void apply(const T* w1, const T* w2, const T* z, T* y) {
    w2_times(w2, z, hid.data());
    for (int64_t j = 0; j < Dm; ++j) hid[j] = hid[j] * sigm(hid[j]);
    w1_times(w1, hid.data(), z, y);
  }

  // The token at `pos` for head h: xs, qs [Dd] → o [Dd].
  // `refresh`: the transposes A1^T, A2^T are stale (recomputed before use).
  void run(int64_t head, int64_t pos, const T* xs, const T* qs, T* o, bool refresh) {
    h = head;
    if (refresh)
      for (int64_t m = 0; m < kHopeMemories; ++m) transpose_snapshot(m);
    if (d.frozen) {
      apply(S(kMem, kW1), S(kMem, kW2), qs, o);
      return;
    }
    for (int64_t m = 0; m < kHopeMemories; ++m) {
      const int64_t c = m == kMem ? d.chunk_mem : d.chunk_other;
      if (pos % c == 0) {
        std::copy(S(m, kW1), S(m, kW1) + nn, S(m, kA1));
        std::copy(S(m, kW2), S(m, kW2) + nn, S(m, kA2));
        transpose_snapshot(m);
      }
    }
    for (int64_t m = kK; m <= kAlpha; ++m) apply_snapshot(m, xs, gen.data() + m * Dd);
    T* k = gen.data() + kK * Dd;
    const T* v = gen.data() + kV * Dd;
    T sa = 0, se = 0;
    for (int64_t i = 0; i < Dd; ++i) {
      sa += gen[kAlpha * Dd + i];
      se += gen[kEta * Dd + i];
    }
    const T kd = std::sqrt(memvec::dot(k, k, Dd)) + T(1e-6);
    for (int64_t i = 0; i < Dd; ++i) k[i] /= kd;
    const T fd = static_cast<T>(Dd);
    const T alpha = sigm(sa / fd + static_cast<T>(d.alpha_bias));
    const T eta = alpha * sigm(se / fd + static_cast<T>(d.eta_bias));
    const T beta = static_cast<T>(d.momentum);
    for (int64_t m = 0; m < kHopeMemories; ++m) write(m, k, v, alpha, eta, beta);
    apply(S(kMem, kW1), S(kMem, kW2), qs, o);
  }

  // s = c / max(n, c), n^2 = |e|^2 |a|^2 + |g|^2 |k|^2 (1 when the clip is off).
  T clip_scale(const T* a, const T* gg, const T* k) const {
    if (!(d.clip > 0)) return T(1);
    const T c = static_cast<T>(d.clip);
    const T nn = memvec::dot(e.data(), e.data(), Dd) * memvec::dot(a, a, Dm) + memvec::dot(gg, gg, Dm) * memvec::dot(k, k, Dd);
    return self_mod_detail::clip_factor(nn, c);
  }

  // The write of memory m from the token's k, v and gates.
  void write(int64_t m, const T* k, const T* v, T alpha, T eta, T beta) {
    const T *A1 = S(m, kA1), *A1T = S(m, kA1T), *A2T = S(m, kA2T);
    T *W1 = S(m, kW1), *W2 = S(m, kW2), *S1 = S(m, kS1), *S2 = S(m, kS2);
    T *a = act.data(), *gg = g.data(), *df = hid.data(), *cm = u.data();
    std::fill(a, a + Dm, T(0));  // one pass over A2^T: p = A2 k (in a), hv = A2 v (in df)
    std::fill(df, df + Dm, T(0));
    combine_rows(Dd, Dm, A2T, k, a, v, df);
    for (int64_t j = 0; j < Dm; ++j) {
      const T p = a[j], hv = df[j], s = sigm(p);
      gg[j] = s * (T(1) + p * (T(1) - s));  // silu'(p)
      a[j] = p * s;                         // a = silu(p)
      df[j] = a[j] - hv * sigm(hv);         // silu(p) − silu(hv)
    }
    // e = k + A1 a − (v + A1 silu(hv)) = k − v + A1 (silu(p) − silu(hv))
    for (int64_t i = 0; i < Dd; ++i) e[i] = k[i] - v[i];
    combine_rows(Dm, Dd, A1T, df, e.data());
    std::fill(cm, cm + Dm, T(0));  // A1^T e
    combine_rows(Dd, Dm, A1, e.data(), cm);
    for (int64_t j = 0; j < Dm; ++j) gg[j] *= cm[j];
    // inner-gradient clip (cpu/self_mod_clip.h): the pair (e aᵀ, g kᵀ) scaled to norm <= c
    const T es = eta * clip_scale(a, gg, k);
    for (int64_t i = 0; i < Dd; ++i) {  // S1 ← β S1 − η e aᵀ;  W1 ← α W1 + S1
      T *w = W1 + i * Dm, *s = S1 + i * Dm;
      const T ce = es * e[i];
      for (int64_t j = 0; j < Dm; ++j) {
        s[j] = beta * s[j] - ce * a[j];
        w[j] = alpha * w[j] + s[j];
      }
    }
    for (int64_t j = 0; j < Dm; ++j) {  // S2 ← β S2 − η g kᵀ;  W2 ← α W2 − η (W2 k) kᵀ + S2, row by row
      T *w = W2 + j * Dd, *s = S2 + j * Dd;
      const T cg = es * gg[j], cu = eta * memvec::dot(w, k, Dd);  // W2 k before the row's write
      for (int64_t i = 0; i < Dd; ++i) {
        s[i] = beta * s[i] - cg * k[i];
        w[i] = (alpha * w[i] - cu * k[i]) + s[i];
      }
    }
  }
};

}  // namespace nl::hope_decode_detail

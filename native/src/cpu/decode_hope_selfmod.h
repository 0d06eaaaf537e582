// The SelfModifyingTitans one-token step of the fused Hope decode (maths in cpu/decode_hope.h): the
// state of one head stays in place in the mems array; every product is a matrix-vector product of
// the head's [Dd, Dm] / [Dm, Dd] matrices, the updates rank-1 row passes.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "cpu/decode_hope.h"

namespace nl::hope_decode_detail {

enum Mem : int64_t { kK = 0, kV = 1, kEta = 2, kAlpha = 3, kMem = 4 };
enum State : int64_t { kW1 = 0, kW2 = 1, kS1 = 2, kS2 = 3, kA1 = 4, kA2 = 5 };

template <typename T>
inline T sigm(T v) {
  return T(1) / (T(1) + std::exp(-v));
}

// One head's view of the memories and the scratch of a step.
template <typename T>
struct HeadStep {
  const HopeDecodeDims& d;
  T* mems;
  int64_t h, Dd, Dm, nn;
  std::vector<T> gen, hid, act, tgt, e, g, u;

  HeadStep(const HopeDecodeDims& dims, T* m)
      : d(dims), mems(m), h(0), Dd(dims.d / dims.heads), Dm(dims.mem_hidden), nn(Dd * Dm) {
    gen.resize(static_cast<size_t>(kHopeMemories * Dd));
    for (auto* v : {&hid, &act, &g, &u}) v->resize(static_cast<size_t>(Dm));
    for (auto* v : {&tgt, &e}) v->resize(static_cast<size_t>(Dd));
  }

  T* S(int64_t m, int64_t s) const { return mems + ((m * kHopeStates + s) * d.heads + h) * nn; }

  // y [Dm] = W2 z (W2 [Dm, Dd]).
  void w2_times(const T* w2, const T* z, T* y) const {
    for (int64_t j = 0; j < Dm; ++j) {
      const T* r = w2 + j * Dd;
      T acc = 0;
      for (int64_t i = 0; i < Dd; ++i) acc += r[i] * z[i];
      y[j] = acc;
    }
  }
  // y [Dd] = base + W1 a (W1 [Dd, Dm]); base may be y.
  void w1_times(const T* w1, const T* a, const T* base, T* y) const {
    for (int64_t i = 0; i < Dd; ++i) {
      const T* r = w1 + i * Dm;
      T acc = 0;
      for (int64_t j = 0; j < Dm; ++j) acc += r[j] * a[j];
      y[i] = base[i] + acc;
    }
  }
  // y = z + W1 silu(W2 z); scratch hid.
  void apply(const T* w1, const T* w2, const T* z, T* y) {
    w2_times(w2, z, hid.data());
    for (int64_t j = 0; j < Dm; ++j) hid[j] = hid[j] * sigm(hid[j]);
    w1_times(w1, hid.data(), z, y);
  }

  // The token at `pos` for head h: xs, qs [Dd] → o [Dd].
  void run(int64_t head, int64_t pos, const T* xs, const T* qs, T* o) {
    h = head;
    if (d.frozen) {
      apply(S(kMem, kW1), S(kMem, kW2), qs, o);
      return;
    }
    for (int64_t m = 0; m < kHopeMemories; ++m) {
      const int64_t c = m == kMem ? d.chunk_mem : d.chunk_other;
      if (pos % c != 0) continue;
      std::copy(S(m, kW1), S(m, kW1) + nn, S(m, kA1));
      std::copy(S(m, kW2), S(m, kW2) + nn, S(m, kA2));
    }
    for (int64_t m = kK; m <= kAlpha; ++m) apply(S(m, kA1), S(m, kA2), xs, gen.data() + m * Dd);
    T* k = gen.data() + kK * Dd;
    const T* v = gen.data() + kV * Dd;
    T ss = 0, sa = 0, se = 0;
    for (int64_t i = 0; i < Dd; ++i) {
      ss += k[i] * k[i];
      sa += gen[kAlpha * Dd + i];
      se += gen[kEta * Dd + i];
    }
    const T kd = std::sqrt(ss) + T(1e-6);
    for (int64_t i = 0; i < Dd; ++i) k[i] /= kd;
    const T fd = static_cast<T>(Dd);
    const T alpha = sigm(sa / fd + static_cast<T>(d.alpha_bias));
    const T eta = alpha * sigm(se / fd + static_cast<T>(d.eta_bias));
    const T beta = static_cast<T>(d.momentum);
    for (int64_t m = 0; m < kHopeMemories; ++m) write(m, k, v, alpha, eta, beta);
    apply(S(kMem, kW1), S(kMem, kW2), qs, o);
  }

  // The write of memory m from the token's k, v and gates.
  void write(int64_t m, const T* k, const T* v, T alpha, T eta, T beta) {
    const T *A1 = S(m, kA1), *A2 = S(m, kA2);
    T *W1 = S(m, kW1), *W2 = S(m, kW2), *S1 = S(m, kS1), *S2 = S(m, kS2);
    apply(A1, A2, v, tgt.data());  // the self-generated target M_A(v)
    w2_times(A2, k, act.data());   // p
    for (int64_t j = 0; j < Dm; ++j) {
      const T s = sigm(act[j]);
      g[j] = s * (T(1) + act[j] * (T(1) - s));  // silu'(p)
      act[j] *= s;                              // a = silu(p)
    }
    w1_times(A1, act.data(), k, e.data());
    for (int64_t i = 0; i < Dd; ++i) e[i] -= tgt[i];
    std::fill(hid.begin(), hid.end(), T(0));  // A1^T e
    for (int64_t i = 0; i < Dd; ++i) {
      const T* r = A1 + i * Dm;
      const T ei = e[i];
      for (int64_t j = 0; j < Dm; ++j) hid[j] += r[j] * ei;
    }
    for (int64_t j = 0; j < Dm; ++j) g[j] *= hid[j];
    for (int64_t i = 0; i < Dd; ++i) {  // S1 ← β S1 − η e aᵀ;  W1 ← α W1 + S1
      T *w = W1 + i * Dm, *s = S1 + i * Dm;
      const T ei = e[i];
      for (int64_t j = 0; j < Dm; ++j) {
        s[j] = beta * s[j] - ei * act[j] * eta;
        w[j] = alpha * w[j] + s[j];
      }
    }
    w2_times(W2, k, u.data());          // W2 k before the write
    for (int64_t j = 0; j < Dm; ++j) {  // S2 ← β S2 − η g kᵀ;  W2 ← α W2 − η (W2 k) kᵀ + S2
      T *w = W2 + j * Dd, *s = S2 + j * Dd;
      const T gj = g[j], uj = u[j];
      for (int64_t i = 0; i < Dd; ++i) {
        s[i] = beta * s[i] - gj * k[i] * eta;
        w[i] = (alpha * w[i] - uj * k[i] * eta) + s[i];
      }
    }
  }
};

}  // namespace nl::hope_decode_detail

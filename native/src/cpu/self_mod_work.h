// SelfModifyingTitans kernels: the per-(batch, head) worker shared by forward and backward
// (see self_mod.h). It holds the six states of every memory in cache-resident buffers, takes the
// snapshots, computes the snapshot-only quantities of a piece of tokens with small GEMMs (rows of
// a block of `block` tokens), and runs the token recurrence. Inside the worker the second-layer
// matrices W2, S2, A2 (and their adjoints) are kept transposed, [D, Dh]: then W2 k, W2 q and the
// rank-1 updates are row axpys (no per-row dot products), and A2^T is what the GEMMs need.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/delta_rule_vec.h"
#include "cpu/self_mod.h"

namespace nl::self_mod_detail {

enum Mem { kK = 0, kV = 1, kEta = 2, kAlpha = 3, kMem = 4, kQ = 5 };
enum State { kW1 = 0, kW2 = 1, kS1 = 2, kS2 = 3, kA1 = 4, kA2 = 5 };

template <typename F>
inline F sg(F x) {
  return F(1) / (F(1) + std::exp(-x));
}
template <typename F>
inline F silu(F x) {
  return x * sg(x);
}
template <typename F>
inline F d1(F x) {  // silu'
  const F s = sg(x);
  return s * (F(1) + x * (F(1) - s));
}
template <typename F>
inline F d2(F x) {  // silu''
  const F s = sg(x);
  return s * (F(1) - s) * (F(2) + x * (F(1) - F(2) * s));
}
// silu' and silu'' given s = sigmoid(x) (no exp)
template <typename F>
inline F d1s(F x, F s) {
  return s * (F(1) + x * (F(1) - s));
}
template <typename F>
inline F d2s(F x, F s) {
  return s * (F(1) - s) * (F(2) + x * (F(1) - F(2) * s));
}

template <typename F>
struct Worker {
  explicit Worker(const SelfModDims& dims)
      : d(dims), D(dims.d), Dh(dims.hidden), M(dims.mems), n(dims.d * dims.hidden), Lb(dims.block) {
    const size_t m = static_cast<size_t>(M), nn = static_cast<size_t>(n), lb = static_cast<size_t>(Lb);
    const size_t LD = lb * static_cast<size_t>(D), LH = lb * static_cast<size_t>(Dh);
    st.resize(kSelfModStates * m * nn);
    A1t.resize(m * nn);
    for (auto* v : {&X, &Qv, &Kn}) v->resize(LD);
    for (auto* v : {&nrm, &al, &bg, &et}) v->resize(lb);
    for (auto* v : {&Gen, &E}) v->resize(m * LD);
    for (auto* v : {&Hg, &Hv, &P, &SHg, &SHv, &SP, &Ac, &Cm, &Gg}) v->resize(m * LH);
    tmp.resize(LH);
    rv.resize(static_cast<size_t>(2 * std::max(D, Dh)));
  }
  const SelfModDims& d;
  const int64_t D, Dh, M, n, Lb;
  std::vector<F> st;        // [6][M][n]
  std::vector<F> A1t;       // [M] snapshot transposes A1^T [Dh, D]
  // rows of the current block: X, Qv (the query used), Kn (normalised k) [Lb, D]; gates [Lb];
  // per memory: Gen, E [Lb, D]; Hg (generator pre-activation), Hv (target pre-activation),
  // P, their sigmoids SHg, SHv, SP, Ac = silu(P), Cm = A1^T e, Gg = g [Lb, Dh]
  std::vector<F> X, Qv, Kn, nrm, al, bg, et, Gen, E, Hg, Hv, P, SHg, SHv, SP, Ac, Cm, Gg, tmp, rv;

  F* S(int s, int64_t m) { return st.data() + (s * M + m) * n; }
  int64_t chunk_of(int64_t m) const { return m == kMem ? d.chunk_mem : d.chunk_other; }
  bool is_gen(int64_t m) const { return m != kMem; }
  F* row(std::vector<F>& a, int64_t m, int64_t r, int64_t w) { return a.data() + (m * Lb + r) * w; }

  // states of (b, h) from / to arrays in [B, M, H, ...] layout (null input = zeros); W2, S2, A2
  // ([Dh, D] outside) are transposed on the way in and out.
  void load(int64_t b, int64_t h, const F* const* in) {
    for (int s = 0; s < kSelfModStates; ++s) {
      for (int64_t m = 0; m < M; ++m) {
        const F* src = in[s] ? in[s] + ((b * M + m) * d.heads + h) * n : nullptr;
        F* dst = S(s, m);
        if (!src) std::fill(dst, dst + n, F(0));
        else if (s % 2 == 0) std::copy(src, src + n, dst);
        else memvec::transpose<F>(Dh, D, src, D, dst, Dh);
      }
    }
  }
  void store(int64_t b, int64_t h, const std::vector<F>& from, F* const* out) const {
    for (int s = 0; s < kSelfModStates; ++s) {
      for (int64_t m = 0; m < M; ++m) {
        const F* src = from.data() + (s * M + m) * n;
        F* dst = out[s] + ((b * M + m) * d.heads + h) * n;
        if (s % 2 == 0) std::copy(src, src + n, dst);
        else memvec::transpose<F>(D, Dh, src, Dh, dst, D);
      }
    }
  }

  // Snapshots of the memories whose chunk starts at pos; returns the tokens until the next start.
  int64_t snapshot(int64_t pos) {
    int64_t next = INT64_MAX;
    for (int64_t m = 0; m < M; ++m) {
      const int64_t c = chunk_of(m);
      if (pos % c == 0) {
        std::copy(S(kW1, m), S(kW1, m) + n, S(kA1, m));
        std::copy(S(kW2, m), S(kW2, m) + n, S(kA2, m));
      }
      next = std::min(next, c - pos % c);
    }
    return next;
  }

  void transposes() {
    for (int64_t m = 0; m < M; ++m) {
      memvec::transpose<F>(D, Dh, S(kA1, m), Dh, A1t.data() + m * n, D);
    }
  }

  // Snapshot-only quantities of rows r0..r0+L (tokens t0..t0+L of the call) at the current snapshots.
  void precompute(int64_t b, int64_t h, int64_t t0, int64_t r0, int64_t L, const F* x, const F* q) {
    using memvec::matmul;
    const int64_t T = d.seq, H = d.heads;
    transposes();
    for (int64_t i = 0; i < L; ++i) {
      const int64_t off = ((b * T + t0 + i) * H + h) * D;
      std::copy(x + off, x + off + D, X.data() + (r0 + i) * D);
      if (!d.adaptive_q) std::copy(q + off, q + off + D, Qv.data() + (r0 + i) * D);
    }
    F* tm = tmp.data();
    for (int64_t m = 0; m < M; ++m) {  // generators z + A1 silu(A2 z) at z = x
      if (!is_gen(m)) continue;
      F *hg = row(Hg, m, r0, Dh), *shg = row(SHg, m, r0, Dh), *gen = row(Gen, m, r0, D);
      matmul<F>(L, Dh, D, X.data() + r0 * D, D, S(kA2, m), Dh, hg, Dh, false);
      for (int64_t i = 0; i < L * Dh; ++i) {
        shg[i] = sg(hg[i]);
        tm[i] = hg[i] * shg[i];
      }
      std::copy(X.data() + r0 * D, X.data() + (r0 + L) * D, gen);
      matmul<F>(L, D, Dh, tm, Dh, A1t.data() + m * n, D, gen, D, true);
    }
    const F inv_d = F(1) / static_cast<F>(D);
    for (int64_t r = r0; r < r0 + L; ++r) {
      const F* kr = row(Gen, kK, r, D);
      const F nr = std::sqrt(memvec::dot(kr, kr, D));
      nrm[r] = nr;
      for (int64_t c = 0; c < D; ++c) Kn[r * D + c] = kr[c] / (nr + F(1e-6));
      F sa = 0, se = 0;
      for (int64_t c = 0; c < D; ++c) {
        sa += row(Gen, kAlpha, r, D)[c];
        se += row(Gen, kEta, r, D)[c];
      }
      al[r] = sg(sa * inv_d + static_cast<F>(d.alpha_bias));
      bg[r] = sg(se * inv_d + static_cast<F>(d.eta_bias));
      et[r] = al[r] * bg[r];
      if (d.adaptive_q) std::copy(row(Gen, kQ, r, D), row(Gen, kQ, r, D) + D, Qv.data() + r * D);
    }
    const F *V = row(Gen, kV, r0, D), *K = Kn.data() + r0 * D;
    for (int64_t m = 0; m < M; ++m) {  // inner-gradient factors at the snapshot
      F *hv = row(Hv, m, r0, Dh), *p = row(P, m, r0, Dh), *ac = row(Ac, m, r0, Dh);
      F *shv = row(SHv, m, r0, Dh), *sp = row(SP, m, r0, Dh);
      F *e = row(E, m, r0, D), *cm = row(Cm, m, r0, Dh), *g = row(Gg, m, r0, Dh);
      matmul<F>(L, Dh, D, V, D, S(kA2, m), Dh, hv, Dh, false);
      matmul<F>(L, Dh, D, K, D, S(kA2, m), Dh, p, Dh, false);
      for (int64_t i = 0; i < L * Dh; ++i) {
        sp[i] = sg(p[i]);
        shv[i] = sg(hv[i]);
        ac[i] = p[i] * sp[i];
        tm[i] = ac[i] - hv[i] * shv[i];
      }
      for (int64_t i = 0; i < L * D; ++i) e[i] = K[i] - V[i];  // e = k - v + A1 (silu(p) - silu(hv))
      matmul<F>(L, D, Dh, tm, Dh, A1t.data() + m * n, D, e, D, true);
      matmul<F>(L, Dh, D, e, D, S(kA1, m), Dh, cm, Dh, false);
      for (int64_t i = 0; i < L * Dh; ++i) g[i] = cm[i] * d1s(p[i], sp[i]);
    }
  }

  // Token of row r: the write of every memory; `save` (if set) receives the pre-token W1, W2 of
  // every memory ([M][2][n]); `o` (if set) the read of mem after the write.
  void step(int64_t r, F* save, F* o) {
    const F alpha = al[r], eta = et[r], beta = static_cast<F>(d.momentum);
    const F* k = Kn.data() + r * D;
    for (int64_t m = 0; m < M; ++m) {
      F *W1 = S(kW1, m), *W2 = S(kW2, m), *S1 = S(kS1, m), *S2 = S(kS2, m);
      if (save) {
        std::copy(W1, W1 + n, save + (2 * m) * n);
        std::copy(W2, W2 + n, save + (2 * m + 1) * n);
      }
      const F *e = row(E, m, r, D), *a = row(Ac, m, r, Dh), *g = row(Gg, m, r, Dh);
      for (int64_t i = 0; i < D; ++i) {
        F *w = W1 + i * Dh, *s = S1 + i * Dh;
        const F c = -eta * e[i];
        for (int64_t j = 0; j < Dh; ++j) {
          s[j] = beta * s[j] + c * a[j];
          w[j] = alpha * w[j] + s[j];
        }
      }
      F* u = rv.data();  // u = W2 k, then the rows j of W2^T, S2^T
      std::fill(u, u + Dh, F(0));
      for (int64_t j = 0; j < D; ++j) memvec::axpy(Dh, k[j], W2 + j * Dh, u);
      for (int64_t j = 0; j < D; ++j) {
        F *w = W2 + j * Dh, *s = S2 + j * Dh;
        const F ck = -eta * k[j];
        for (int64_t i = 0; i < Dh; ++i) {
          s[i] = beta * s[i] + ck * g[i];
          w[i] = alpha * w[i] + ck * u[i] + s[i];
        }
      }
    }
    if (o) read(Qv.data() + r * D, o);
  }

  // o = q + W1 silu(W2 q) of mem (snapshot with read_snapshot).
  void read(const F* qv, F* o) {
    const F* W1 = S(d.read_snapshot ? kA1 : kW1, kMem);
    const F* W2 = S(d.read_snapshot ? kA2 : kW2, kMem);
    F* z = rv.data();
    std::fill(z, z + Dh, F(0));
    for (int64_t j = 0; j < D; ++j) memvec::axpy(Dh, qv[j], W2 + j * Dh, z);
    for (int64_t i = 0; i < Dh; ++i) z[i] = silu(z[i]);
    for (int64_t c = 0; c < D; ++c) o[c] = qv[c] + memvec::dot(W1 + c * Dh, z, Dh);
  }
};

}  // namespace nl::self_mod_detail

// SelfModifyingTitans kernels: the per-(batch, head) worker shared by forward and backward
// (see self_mod.h). It holds the six states of every memory in cache-resident buffers, takes the
// snapshots, computes the snapshot-only quantities of a piece of tokens with small GEMMs (rows of
// a block of `block` tokens), and runs the token recurrence. Inside the worker the second-layer
// matrices W2, S2, A2 (and their adjoints) are kept transposed, [D, Dh]: then W2 k, W2 q and the
// rank-1 updates are row axpys (no per-row dot products), and A2^T is what the GEMMs need. Rows
// run as explicit SIMD vectors (self_mod_vec.h), products through self_mod_gemm.h; the scratch is
// kept per thread between calls (scratch_for).
#pragma once
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "cpu/delta_rule_vec.h"
#include "cpu/self_mod.h"
#include "cpu/self_mod_clip.h"
#include "cpu/self_mod_gemm.h"

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
    wp.resize(2 * m);
    weights_home();
    A1t.resize(m * nn);
    a1t_ok.assign(m, 0);
    for (auto* v : {&X, &XV, &Qv, &Kn}) v->resize(LD);
    for (auto* v : {&nrm, &al, &bg, &et}) v->resize(lb);
    for (auto* v : {&Gen, &E, &E0}) v->resize(m * LD);
    for (auto* v : {&Hg, &Hv, &P, &SHg, &SHv, &SP, &Ac, &Cm, &Gg, &G0}) v->resize(m * LH);
    for (auto* v : {&Sc, &N2}) v->resize(m * lb);
    tmp.resize(LH);
    rv.resize(static_cast<size_t>(2 * std::max(D, Dh)));
  }
  SelfModDims d;  // the call's (scratch may outlive a call: see scratch_for)
  const int64_t D, Dh, M, n, Lb;
  bool fits(const SelfModDims& o) const { return o.d == D && o.hidden == Dh && o.mems == M && o.block == Lb; }
  std::vector<F> st;        // [6][M][n]
  std::vector<F*> wp;       // [M][2] where the current W1, W2 of each memory live (in st, or a backward slot)
  std::vector<F> A1t;       // [M] snapshot transposes A1^T [Dh, D]
  std::vector<char> a1t_ok;  // [M] A1t current
  // rows of the current block: X, XV (the value input, when given), Qv (the query used), Kn
  // (normalised k) [Lb, D]; gates [Lb];
  // per memory: Gen, E [Lb, D]; Hg (generator pre-activation), Hv (target pre-activation),
  // P, their sigmoids SHg, SHv, SP, Ac = silu(P), Cm = A1^T e, Gg = g [Lb, Dh]. With the clip
  // (d.clip > 0) E and Gg hold the scaled e, g (what the writes use), E0, G0 the unscaled ones
  // (Cm is of the unscaled e), Sc the factors s and N2 the squared norms n^2 [Lb] (self_mod_clip.h).
  std::vector<F> X, XV, Qv, Kn, nrm, al, bg, et, Gen, E, Hg, Hv, P, SHg, SHv, SP, Ac, Cm, Gg, tmp, rv;
  std::vector<F> E0, G0, Sc, N2;

  void set_dims(const SelfModDims& o) { d = o; }
  F* S(int s, int64_t m) { return st.data() + (s * M + m) * n; }
  F* W(int s, int64_t m) { return wp[2 * m + s]; }  // s: kW1 or kW2
  void weights_home() {  // W1, W2 in st
    for (int64_t m = 0; m < M; ++m) {
      wp[2 * m] = S(kW1, m);
      wp[2 * m + 1] = S(kW2, m);
    }
  }
  // W1, W2 of every memory read from and kept in buf ([M][2][n]); the values are copied there.
  void weights_to(F* buf) {
    for (int64_t m = 0; m < M; ++m) {
      for (int s = 0; s < 2; ++s) {
        std::copy(W(s, m), W(s, m) + n, buf + (2 * m + s) * n);
        wp[2 * m + s] = buf + (2 * m + s) * n;
      }
    }
  }
  int64_t chunk_of(int64_t m) const { return m == kMem ? d.chunk_mem : d.chunk_other; }
  bool is_gen(int64_t m) const { return m != kMem; }
  bool xv_on = false;  // the call has a value input: generator v reads XV rows (set by precompute)
  // Rows generator m reads: XV for v when the call has a value input, else X.
  std::vector<F>& gen_in(int64_t m) { return m == kV && xv_on ? XV : X; }
  F* row(std::vector<F>& a, int64_t m, int64_t r, int64_t w) { return a.data() + (m * Lb + r) * w; }

  // states of (b, h) from / to arrays in [B, M, H, ...] layout (null input = zeros); W2, S2, A2
  // ([Dh, D] outside) are transposed on the way in and out.
  void load(int64_t b, int64_t h, const F* const* in) {
    invalidate();
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
        std::copy(W(kW1, m), W(kW1, m) + n, S(kA1, m));
        std::copy(W(kW2, m), W(kW2, m) + n, S(kA2, m));
        a1t_ok[m] = 0;
      }
      next = std::min(next, c - pos % c);
    }
    return next;
  }

  // A1t of the memories whose snapshot changed since (a1t_ok false: snapshot, load, invalidate).
  void transposes() {
    for (int64_t m = 0; m < M; ++m) {
      if (a1t_ok[m]) continue;
      memvec::transpose<F>(D, Dh, S(kA1, m), Dh, A1t.data() + m * n, D);
      a1t_ok[m] = 1;
    }
  }
  // Call after writing the states in st by other means than load / snapshot.
  void invalidate() { std::fill(a1t_ok.begin(), a1t_ok.end(), char(0)); }

  // Snapshot-only quantities of rows r0..r0+L (tokens t0..t0+L of the call) at the current snapshots.
  // xv (null: none): the value input [B, T, H, D] that generator v reads instead of x.
  void precompute(int64_t b, int64_t h, int64_t t0, int64_t r0, int64_t L, const F* x, const F* q, const F* xv) {
    const int64_t T = d.seq, H = d.heads;
    transposes();
    xv_on = xv != nullptr;
    for (int64_t i = 0; i < L; ++i) {
      const int64_t off = ((b * T + t0 + i) * H + h) * D;
      std::copy(x + off, x + off + D, X.data() + (r0 + i) * D);
      if (xv) std::copy(xv + off, xv + off + D, XV.data() + (r0 + i) * D);
      if (!d.adaptive_q) std::copy(q + off, q + off + D, Qv.data() + (r0 + i) * D);
    }
    F* tm = tmp.data();
    for (int64_t m = 0; m < M; ++m) {  // generators z + A1 silu(A2 z) at z = x (xv for v with a value input)
      if (!is_gen(m)) continue;
      F *hg = row(Hg, m, r0, Dh), *shg = row(SHg, m, r0, Dh), *gen = row(Gen, m, r0, D);
      const F* Z = gen_in(m).data() + r0 * D;
      gemm<F>(L, Dh, D, Z, D, S(kA2, m), Dh, hg, Dh, false);
      sigmoid_n(L * Dh, hg, shg);
      for (int64_t i = 0; i < L * Dh; ++i) tm[i] = hg[i] * shg[i];
      std::copy(Z, Z + L * D, gen);
      gemm<F>(L, D, Dh, tm, Dh, A1t.data() + m * n, D, gen, D, true);
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
      gemm<F>(L, Dh, D, V, D, S(kA2, m), Dh, hv, Dh, false);
      gemm<F>(L, Dh, D, K, D, S(kA2, m), Dh, p, Dh, false);
      sigmoid_n(L * Dh, p, sp);
      sigmoid_n(L * Dh, hv, shv);
      for (int64_t i = 0; i < L * Dh; ++i) {
        ac[i] = p[i] * sp[i];
        tm[i] = ac[i] - hv[i] * shv[i];
      }
      for (int64_t i = 0; i < L * D; ++i) e[i] = K[i] - V[i];  // e = k - v + A1 (silu(p) - silu(hv))
      gemm<F>(L, D, Dh, tm, Dh, A1t.data() + m * n, D, e, D, true);
      gemm<F>(L, Dh, D, e, D, S(kA1, m), Dh, cm, Dh, false);
      for (int64_t i = 0; i < L * Dh; ++i) g[i] = cm[i] * d1s(p[i], sp[i]);
      if (d.clip > 0) {  // e, g <- s e, s g before any use
        clip_forward<F>(L, D, Dh, static_cast<F>(d.clip), K, ac, e, g, row(E0, m, r0, D), row(G0, m, r0, Dh),
                        Sc.data() + m * Lb + r0, N2.data() + m * Lb + r0);
      }
    }
  }

  // Token of row r: the write of every memory; with `next` ([M][2][n]) the new W1, W2 go there
  // (and live there from now on; the old ones stay where they were), else in place; `o` (if set)
  // receives the read of mem after the write.
  void step(int64_t r, F* next, F* o) {
    const F alpha = al[r], eta = et[r], beta = static_cast<F>(d.momentum);
    const F* k = Kn.data() + r * D;
    for (int64_t m = 0; m < M; ++m) {
      const F *W1 = W(kW1, m), *W2 = W(kW2, m);
      F *N1 = next ? next + 2 * m * n : W(kW1, m), *N2 = next ? next + (2 * m + 1) * n : W(kW2, m);
      F *S1 = S(kS1, m), *S2 = S(kS2, m);
      const F *e = row(E, m, r, D), *a = row(Ac, m, r, Dh), *g = row(Gg, m, r, Dh);
      for (int64_t i = 0; i < D; ++i) {  // S1 <- beta S1 - eta e a^T,  W1 <- alpha W1 + S1
        const F* w = W1 + i * Dh;
        F *wn = N1 + i * Dh, *s = S1 + i * Dh;
        const F c = -eta * e[i];
        each<F>(Dh, [&](auto tag, int64_t j) {
          using P = decltype(tag);
          const P sn = beta * vload<P>(s + j) + c * vload<P>(a + j);
          vstore(s + j, sn);
          vstore(wn + j, alpha * vload<P>(w + j) + sn);
        });
      }
      F* u = rv.data();  // u = W2 k, then the rows j of W2^T, S2^T
      rows_combine(D, Dh, k, W2, u);
      for (int64_t j = 0; j < D; ++j) {
        const F* w = W2 + j * Dh;
        F *wn = N2 + j * Dh, *s = S2 + j * Dh;
        const F ck = -eta * k[j];
        each<F>(Dh, [&](auto tag, int64_t i) {
          using P = decltype(tag);
          const P sn = beta * vload<P>(s + i) + ck * vload<P>(g + i);
          vstore(s + i, sn);
          vstore(wn + i, alpha * vload<P>(w + i) + ck * vload<P>(u + i) + sn);
        });
      }
      if (next) {
        wp[2 * m] = N1;
        wp[2 * m + 1] = N2;
      }
    }
    if (o) read(Qv.data() + r * D, o);
  }

  // o = q + W1 silu(W2 q) of mem (snapshot with read_snapshot).
  void read(const F* qv, F* o) {
    const F* W1 = d.read_snapshot ? S(kA1, kMem) : W(kW1, kMem);
    const F* W2 = d.read_snapshot ? S(kA2, kMem) : W(kW2, kMem);
    F *z = rv.data(), *sz = z + Dh;
    rows_combine(D, Dh, qv, W2, z);
    sigmoid_n(Dh, z, sz);
    for (int64_t i = 0; i < Dh; ++i) z[i] *= sz[i];
    for (int64_t c = 0; c < D; ++c) o[c] = qv[c] + memvec::dot(W1 + c * Dh, z, Dh);
  }
};

// Per-thread scratch T (Worker, the backward's state) kept between calls, so a call neither
// allocates nor page-faults its buffers: rebuilt with make() when fits(dims) fails; its dims are
// set to the call's.
template <typename T, typename Make>
T& scratch_for(const SelfModDims& dims, Make&& make) {
  static thread_local std::unique_ptr<T> s;
  if (!s || !s->fits(dims)) s = make();
  s->set_dims(dims);
  return *s;
}

}  // namespace nl::self_mod_detail

// SelfModifyingTitans (memory.selfModifyingTitans) on CUDA: dims, the per-(b, h) vector scratch and
// the snapshot-only quantities of one token, shared by the forward (self_mod.h) and the backward
// (self_mod_backward.h) kernels. Same maths as the CPU kernels (native/src/cpu/self_mod.h):
// memories m = k, v, eta, alpha, mem (+ q with adaptive_q), each a residual MLP z + W1 silu(W2 z),
// W1 [D, Dh], W2 [Dh, D], momenta S1, S2, chunk-start snapshots A1, A2. One block per (b, h); its
// states live in a work area [6][M][D Dh] (w1, w2, s1, s2, a1, a2 of every memory, the layouts of
// the op's [B, M, H, ...] arrays); per-token vectors in double (SmLayout). Threads cooperate over
// (memory, column) or (memory, hidden unit) items; every dot product accumulates in double.
#pragma once
#include <cstdint>

#include "cuda/launch.h"

namespace nl::cuda {

enum SmMem { kSmK = 0, kSmV = 1, kSmEta = 2, kSmAlpha = 3, kSmMem = 4, kSmQ = 5 };
enum SmState { kSmW1 = 0, kSmW2 = 1, kSmS1 = 2, kSmS2 = 3, kSmA1 = 4, kSmA2 = 5 };

struct SelfModCudaDims {
  int64_t B = 0, T = 0, H = 0, D = 0, Dh = 0, M = 5;
  int64_t tokens = 0, chunk_mem = 16, chunk_other = 8;
  double momentum = 0.9, alpha_bias = 4, eta_bias = -2;
  bool adaptive_q = false, read_snapshot = false;
  bool dual = true;  // chunk ("dual") form (self_mod_dual*.h), else token by token
  double clip = 0;   // inner-gradient clip c (0: off): token phase 6 (sm_clip_forward), self_mod_clip_back.h
  NL_HD int64_t n() const { return D * Dh; }
  NL_HD int64_t row(int64_t b, int64_t t, int64_t h) const { return (b * T + t) * H + h; }
  NL_HD int64_t chunk_of(int64_t m) const { return m == kSmMem ? chunk_mem : chunk_other; }
  NL_HD bool is_gen(int64_t m) const { return m != kSmMem; }
  // element offset of memory m of (b, h) in an op array [B, M, H, D Dh]
  NL_HD int64_t ext(int64_t b, int64_t m, int64_t h) const { return ((b * M + m) * H + h) * n(); }
  NL_HD int64_t work_size() const { return 6 * M * n(); }
};

// Offsets (doubles) of the per-token vectors in a (b, h)'s scratch: [M, D] or [M, Dh] per memory.
struct SmLayout {
  int64_t gen, hg, kn, sc, p, hv, e, cm, u, zr, dr, dq, dk, dv, wk, y, da, de, dkw, dp, dhv, t1, dkr;
  // the clip (d.clip > 0): e0 [MD], cm0 [MH] the unscaled e, cm; cs, cn, cf [M] the factor s, n^2 and
  // the k-adjoint coefficient f |g|^2 of the backward; dgc [MH] the unscaled g's adjoint (token backward)
  int64_t e0, cm0, cs, cn, cf, dgc, total;
  // sc: 0 |k|, 1 alpha, 2 sigmoid of the eta gate, 3 eta, 4 dalpha, 5 deta, 6 dalpha', 7 deta' (pre-gate)
  NL_HD explicit SmLayout(const SelfModCudaDims& d) {
    const int64_t MD = d.M * d.D, MH = d.M * d.Dh;
    int64_t o = 0;
    gen = o, o += MD; hg = o, o += MH; kn = o, o += d.D; sc = o, o += 8; p = o, o += MH; hv = o, o += MH;
    e = o, o += MD; cm = o, o += MH; u = o, o += MH; zr = o, o += d.Dh; dr = o, o += d.Dh; dq = o, o += d.D;
    dk = o, o += d.D; dv = o, o += d.D; wk = o, o += MH; y = o, o += MH; da = o, o += MH; de = o, o += MD;
    dkw = o, o += MD; dp = o, o += MH; dhv = o, o += MH; t1 = o, o += MH; dkr = o, o += d.D;
    e0 = o, o += MD; cm0 = o, o += MH; cs = o, o += d.M; cn = o, o += d.M; cf = o, o += d.M; dgc = o, o += MH;
    total = o;
  }
};

NL_HD double sm_sg(double x) { return 1.0 / (1.0 + exp(-x)); }
NL_HD double sm_silu(double x) { return x * sm_sg(x); }
NL_HD double sm_d1(double x) {  // silu'
  const double s = sm_sg(x);
  return s * (1.0 + x * (1.0 - s));
}
NL_HD double sm_d2(double x) {  // silu''
  const double s = sm_sg(x);
  return s * (1.0 - s) * (2.0 + x * (1.0 - 2.0 * s));
}

// The weights one token reads, per memory: the snapshots A1, A2 and the pre-token W2 (for W2 k).
template <class T>
struct SmTokenWeights {
  const T* a1[6];
  const T* a2[6];
  const T* w2[6];
};

constexpr int kSmTokenPhases = 7;

// Token phase 6, the inner-gradient clip (d.clip = c > 0; cpu/self_mod_clip.h): per memory (one
// thread each), s = c / max(n, c), n^2 = |e|^2 |a|^2 + |g|^2 |k|^2 (a = silu(p), g = cm silu'(p), k
// normalised); e, cm scaled by s in place (so g too, wherever it is formed), the unscaled e, cm kept
// in e0, cm0, s in cs and n^2 in cn. c = 0: nothing.
NL_HD void sm_clip_forward(const SelfModCudaDims& d, const SmLayout& ly, double* v, unsigned tid, unsigned nt) {
  if (!(d.clip > 0)) return;
  const int64_t D = d.D, Dh = d.Dh;
  for (int64_t m = tid; m < d.M; m += nt) {
    double* e = v + ly.e + m * D;
    double* cm = v + ly.cm + m * Dh;
    const double* p = v + ly.p + m * Dh;
    double ee = 0, kk = 0, aa = 0, gg = 0;
    for (int64_t c = 0; c < D; ++c) ee += e[c] * e[c], kk += v[ly.kn + c] * v[ly.kn + c];
    for (int64_t j = 0; j < Dh; ++j) {
      const double a = sm_silu(p[j]), g = cm[j] * sm_d1(p[j]);
      aa += a * a, gg += g * g;
    }
    const double nn = ee * aa + gg * kk, s = nn > d.clip * d.clip ? d.clip / sqrt(nn) : 1.0;
    v[ly.cs + m] = s;
    v[ly.cn + m] = nn;
    for (int64_t c = 0; c < D; ++c) v[ly.e0 + m * D + c] = e[c], e[c] *= s;
    for (int64_t j = 0; j < Dh; ++j) v[ly.cm0 + m * Dh + j] = cm[j], cm[j] *= s;
  }
}

// Phase s (0..6) of the snapshot-only quantities of token row r (x at x + r D): generators
// gen = x + A1 silu(hg), hg = A2 x; the normalised k, the gates; p = A2 k, hv = A2 v, u = W2 k;
// e = k - v + A1 (silu(p) - silu(hv)); cm = A1^T e (g = cm silu'(p) where used); the clip (phase 6).
template <class T>
NL_HD void sm_token_phase(int s, const SelfModCudaDims& d, const SmLayout& ly, const SmTokenWeights<T>& w,
                          const T* x, double* v, unsigned tid, unsigned nt) {
  const int64_t D = d.D, Dh = d.Dh, M = d.M;
  if (s == 0) {
    for (int64_t it = tid; it < M * Dh; it += nt) {
      const int64_t m = it / Dh, j = it % Dh;
      if (!d.is_gen(m)) continue;
      const T* a2 = w.a2[m] + j * D;
      double acc = 0;
      for (int64_t c = 0; c < D; ++c) acc += double(a2[c]) * double(x[c]);
      v[ly.hg + it] = acc;
    }
  } else if (s == 1) {
    for (int64_t it = tid; it < M * D; it += nt) {
      const int64_t m = it / D, c = it % D;
      if (!d.is_gen(m)) continue;
      const T* a1 = w.a1[m] + c * Dh;
      double acc = double(x[c]);
      for (int64_t j = 0; j < Dh; ++j) acc += double(a1[j]) * sm_silu(v[ly.hg + m * Dh + j]);
      v[ly.gen + it] = acc;
    }
  } else if (s == 2) {
    if (tid != 0) return;
    const double* k = v + ly.gen + kSmK * D;
    double nn = 0, sa = 0, se = 0;
    for (int64_t c = 0; c < D; ++c) {
      nn += k[c] * k[c];
      sa += v[ly.gen + kSmAlpha * D + c];
      se += v[ly.gen + kSmEta * D + c];
    }
    const double nr = sqrt(nn), den = nr + 1e-6;
    for (int64_t c = 0; c < D; ++c) v[ly.kn + c] = k[c] / den;
    double* sc = v + ly.sc;
    sc[0] = nr;
    sc[1] = sm_sg(sa / double(D) + d.alpha_bias);
    sc[2] = sm_sg(se / double(D) + d.eta_bias);
    sc[3] = sc[1] * sc[2];
  } else if (s == 3) {
    const double *kn = v + ly.kn, *vv = v + ly.gen + kSmV * D;
    for (int64_t it = tid; it < M * Dh; it += nt) {
      const int64_t m = it / Dh, j = it % Dh;
      const T *a2 = w.a2[m] + j * D, *w2 = w.w2[m] + j * D;
      double p = 0, hv = 0, u = 0;
      for (int64_t c = 0; c < D; ++c) {
        p += double(a2[c]) * kn[c];
        hv += double(a2[c]) * vv[c];
        u += double(w2[c]) * kn[c];
      }
      v[ly.p + it] = p;
      v[ly.hv + it] = hv;
      v[ly.u + it] = u;
    }
  } else if (s == 4) {
    const double *kn = v + ly.kn, *vv = v + ly.gen + kSmV * D;
    for (int64_t it = tid; it < M * D; it += nt) {
      const int64_t m = it / D, c = it % D;
      const T* a1 = w.a1[m] + c * Dh;
      const double *p = v + ly.p + m * Dh, *hv = v + ly.hv + m * Dh;
      double acc = kn[c] - vv[c];
      for (int64_t j = 0; j < Dh; ++j) acc += double(a1[j]) * (sm_silu(p[j]) - sm_silu(hv[j]));
      v[ly.e + it] = acc;
    }
  } else if (s == 5) {
    for (int64_t it = tid; it < M * Dh; it += nt) {
      const int64_t m = it / Dh, j = it % Dh;
      const T* a1 = w.a1[m] + j;
      const double* e = v + ly.e + m * D;
      double acc = 0;
      for (int64_t c = 0; c < D; ++c) acc += double(a1[c * Dh]) * e[c];
      v[ly.cm + it] = acc;
    }
  } else {
    sm_clip_forward(d, ly, v, tid, nt);
  }
}

// The query row the read uses: the q generator's output (adaptive_q) or the given q.
template <class T>
struct SmQuery {
  const double* gen;
  const T* q;
  NL_HD double operator[](int64_t c) const { return gen != nullptr ? gen[c] : double(q[c]); }
};

}  // namespace nl::cuda

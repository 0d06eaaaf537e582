// Titans MLP memory (2-layer residual, SiLU, mini-batch chunks), CUDA forward kernel. Same maths as
// the CPU kernels (native/src/cpu/titans_mlp.h): per (b, h), M(x) = x + W1 silu(W2 x); at every
// token the inner gradients of 1/2 |M(k) - v|^2 are taken at the chunk-start weights W1', W2':
//   p = W2' k, a = silu(p), e = k + W1' a - v, c = W1'^T e, g = c . silu'(p)
//   S1 <- eta S1 - theta e a^T,  S2 <- eta S2 - theta g k^T,  W_l <- (1 - alpha) W_l + S_l
//   o = q + W1 silu(W2 q), with the weights after (read_after) or before the token's write.
// Layouts (row-major, contiguous): q, k, v, o [B, T, H, D]; gates [B, T, H]; W1, S1 [B, H, D, Dh];
// W2, S2 [B, H, Dh, D]. One block per (b, h) (grid.x = B*H). Because the factors of a chunk depend
// only on its start weights, a chunk begins with three phases that compute p, a, c, g, e for all
// of its tokens (threads over (token, unit) pairs); then the weights are updated element-wise
// (thread x owns element x of all four matrices) and read token by token. Dot products accumulate
// in double; the factors are kept in double.
#pragma once
#include <cstdint>

#include "cuda/launch.h"

namespace nl::cuda {

struct TitansDims {
  int64_t B = 0, T = 0, H = 0, D = 0, Dh = 0;
  NL_HD int64_t row(int64_t b, int64_t t, int64_t h) const { return (b * T + t) * H + h; }
  NL_HD int64_t n() const { return D * Dh; }
  // doubles of factors per token: p, a, c, g [Dh] then e [D]
  NL_HD int64_t fac_stride() const { return 4 * Dh + D; }
};

NL_HD double titans_sg(double x) { return 1.0 / (1.0 + nl_exp(-x)); }
NL_HD double titans_silu(double x) { return x * titans_sg(x); }
NL_HD double titans_d1(double x) {
  const double s = titans_sg(x);
  return s * (1.0 + x * (1.0 - s));
}
NL_HD double titans_d2(double x) {
  const double s = titans_sg(x);
  return s * (1.0 - s) * (2.0 + x * (1.0 - 2.0 * s));
}

// Stage 0..2 of the factors of tokens [t0, t0 + L) of (b, h) at the start weights W1 [D, Dh],
// W2 [Dh, D]; fac [C, fac_stride] (token t at t * fac_stride: p, a, c, g, e). One stage a phase.
template <class T>
NL_HD void titans_factors(int stage, const TitansDims& d, int64_t b, int64_t h, int64_t t0, int64_t L, const T* k,
                          const T* v, const T* W1, const T* W2, double* fac, unsigned tid, unsigned nt) {
  const int64_t D = d.D, Dh = d.Dh, fs = d.fac_stride();
  const int64_t width = stage == 1 ? D : Dh;
  for (int64_t w = tid; w < L * width; w += nt) {
    const int64_t t = w / width, u = w % width, r = d.row(b, t0 + t, h);
    const T* kt = k + r * D;
    double* f = fac + t * fs;
    if (stage == 0) {  // p_u = W2'[u, :] k, a_u = silu(p_u)
      double p = 0;
      for (int64_t i = 0; i < D; ++i) p += double(W2[u * D + i]) * double(kt[i]);
      f[u] = p;
      f[Dh + u] = titans_silu(p);
    } else if (stage == 1) {  // e_u = k_u - v_u + W1'[u, :] a
      double e = double(kt[u]) - double(v[r * D + u]);
      for (int64_t j = 0; j < Dh; ++j) e += double(W1[u * Dh + j]) * f[Dh + j];
      f[4 * Dh + u] = e;
    } else {  // c_u = W1'[:, u] . e, g_u = c_u silu'(p_u)
      double c = 0;
      for (int64_t i = 0; i < D; ++i) c += double(W1[i * Dh + u]) * f[4 * Dh + i];
      f[2 * Dh + u] = c;
      f[3 * Dh + u] = c * titans_d1(f[u]);
    }
  }
}

// One token's write to element x of W1, S1 ((i, j) = (x / Dh, x % Dh)) and of W2, S2
// ((j, i) = (x / D, x % D)); f: the token's factors.
template <class T>
NL_HD void titans_update(const TitansDims& d, double th, double et, double keep, const T* kt, const double* f, T* W1,
                         T* W2, T* S1, T* S2, int64_t x) {
  const int64_t Dh = d.Dh, D = d.D;
  const T s1 = T(et * double(S1[x]) - th * f[4 * Dh + x / Dh] * f[Dh + x % Dh]);
  S1[x] = s1;
  W1[x] = T(keep * double(W1[x]) + double(s1));
  const T s2 = T(et * double(S2[x]) - th * f[3 * Dh + x / D] * double(kt[x % D]));
  S2[x] = s2;
  W2[x] = T(keep * double(W2[x]) + double(s2));
}

// Forward over all tokens. Phase 0: state = (w1, w2, s1 | 0, s2 | 0). Then per chunk c: the three
// factor phases (boundary, when set, gets the chunk-start state at boundary + (bh * nchunks + c) * 4n
// as W1, W2, S1, S2), and per token, when o is set, three phases: write, z = silu(W2 q) (threads
// over hidden units), o = q + W1 z (threads over rows), the write last when reading before it.
// Without o, one phase runs every token's write of the chunk.
// State pointers W1o.. hold the running (then final) state; fac [B*H, C, fac_stride] and
// z [B*H, Dh] (doubles) are scratch.
template <class T>
struct TitansForwardK {
  using Regs = NoRegs;
  TitansDims d;
  bool read_after;
  int64_t chunk, nchunks;
  const T *q, *k, *v, *th, *et, *al, *w1, *w2, *s1, *s2;
  T *o, *W1o, *W2o, *S1o, *S2o, *boundary;
  double *fac, *zbuf;

  NL_HD int64_t chunk_phases(int64_t L) const { return 3 + (o != nullptr ? 3 * L : 1); }
  NL_HD int phases() const {
    return int(1 + (nchunks > 0 ? (nchunks - 1) * chunk_phases(chunk) + chunk_phases(d.T - (nchunks - 1) * chunk) : 0));
  }

  NL_HD void operator()(int p, const Idx& at, char*, Regs&) const {
    const int64_t bh = at.block.x, b = bh / d.H, h = bh % d.H, n = d.n(), D = d.D, Dh = d.Dh;
    const unsigned tid = at.thread.x, nt = at.dim.x;
    T *W1 = W1o + bh * n, *W2 = W2o + bh * n, *S1 = S1o + bh * n, *S2 = S2o + bh * n;
    if (p == 0) {
      for (int64_t x = tid; x < n; x += nt) {
        W1[x] = w1[bh * n + x];
        W2[x] = w2[bh * n + x];
        S1[x] = s1 != nullptr ? s1[bh * n + x] : T(0);
        S2[x] = s2 != nullptr ? s2[bh * n + x] : T(0);
      }
      return;
    }
    const int64_t per = chunk_phases(chunk), c = (p - 1) / per, off = (p - 1) % per, t0 = c * chunk;
    const int64_t L = d.T - t0 < chunk ? d.T - t0 : chunk;
    double* f = fac + bh * chunk * d.fac_stride();
    if (off < 3) {
      if (off == 0 && boundary != nullptr) {
        T* st = boundary + (bh * nchunks + c) * 4 * n;
        for (int64_t x = tid; x < n; x += nt) {
          st[x] = W1[x];
          st[n + x] = W2[x];
          st[2 * n + x] = S1[x];
          st[3 * n + x] = S2[x];
        }
      }
      titans_factors<T>(int(off), d, b, h, t0, L, k, v, W1, W2, f, tid, nt);
      return;
    }
    if (o == nullptr) {  // every write of the chunk, element-wise
      for (int64_t x = tid; x < n; x += nt)
        for (int64_t t = 0; t < L; ++t) {
          const int64_t r = d.row(b, t0 + t, h);
          titans_update<T>(d, double(th[r]), double(et[r]), 1.0 - double(al[r]), k + r * D, f + t * d.fac_stride(),
                           W1, W2, S1, S2, x);
        }
      return;
    }
    const int64_t t = (off - 3) / 3, r = d.row(b, t0 + t, h);
    const int sub = int((off - 3) % 3);
    const int step = read_after ? sub : (sub + 1) % 3;  // 0 write, 1 z, 2 o
    const T* qt = q + r * D;
    double* z = zbuf + bh * Dh;
    if (step == 0) {
      for (int64_t x = tid; x < n; x += nt)
        titans_update<T>(d, double(th[r]), double(et[r]), 1.0 - double(al[r]), k + r * D, f + t * d.fac_stride(), W1,
                         W2, S1, S2, x);
    } else if (step == 1) {
      for (int64_t j = tid; j < Dh; j += nt) {
        double s = 0;
        for (int64_t i = 0; i < D; ++i) s += double(W2[j * D + i]) * double(qt[i]);
        z[j] = titans_silu(s);
      }
    } else {
      for (int64_t i = tid; i < D; i += nt) {
        double s = double(qt[i]);
        for (int64_t j = 0; j < Dh; ++j) s += double(W1[i * Dh + j]) * z[j];
        o[r * D + i] = T(s);
      }
    }
  }
};

}  // namespace nl::cuda

// Titans MLP memory backward, one chunk [t0, t0 + L) per launch (kernels/titans_mlp.h for the maths
// and layouts; reverse recurrence as packages/memory/src/kernels/titans-mlp/ref-backward.ts). One
// block per (b, h). Phases 0-2 recompute the chunk's factors (p, a, c, g, e) from its boundary
// state, which phase 0 copies into slot 0 of `states` ([B*H, C+1, 4n]: slot i = W1, W2, S1, S2
// before token t0+i); phase 3 runs the chunk's writes element-wise into slots 1..L. Phase 0 of the
// first launch (the last chunk) also sets dW = dL/dW_T, dS = dL/dS_T (or 0). Then tokens run last
// to first, seven phases each (RB1, RB2 first when reading after the write, last otherwise):
//   RB1 (hidden j): r = W2r q, z = silu(r), dr = (W1r^T do) . silu'(r)       (Wr: the read weights)
//   RB2 (elements / rows): dW1 += do z^T, dW2 += dr q^T; dq = do + W2r^T dr
//   X (rows i):   dS_l = dSn_l + dW_l (not stored); de = -theta dS1 a, dk = -theta dS2^T g;
//                 partials of dalpha, deta, dtheta into shared memory
//   Y (hidden j): da = -theta dS1^T e, dg = -theta dS2 k, dc = dg silu'(p), dp = dg c silu''(p);
//                 partial sums folded to 32
//   Z (rows i):   de += W1' dc; dk += de; dv = -de; thread 0 writes dalpha, deta, dtheta
//   W (hidden j): da += W1'^T de; dp += da silu'(p)
//   V (rows / elements): dk += W2'^T dp; snapshot adjoints dW1' += e dc^T + de a^T, dW2' += dp k^T;
//                 dSn_l = eta dS_l, dW_l *= 1 - alpha; at the chunk's first token dW_l += dW_l'.
// dW, dSn live in the gradient outputs dw1.. (final: the initial weights' / momenta's gradients);
// snapshot adjoints in `snap` ([B*H, 2n], double); per-token vectors in `vec` ([B*H, 5 Dh + 2 D]).
#pragma once
#include <cstdint>

#include "cuda/kernels/titans_mlp.h"

namespace nl::cuda {

template <class T>
struct TitansChunkBackK {
  using Regs = NoRegs;
  TitansDims d;
  bool read_after, init;
  int64_t t0, L, chunk;
  const T *q, *k, *v, *th, *et, *al, *dO, *gW1, *gW2, *gS1, *gS2;
  const T* start;  // this chunk's boundary state (W1, W2, S1, S2) of block 0; blocks start_stride apart
  int64_t start_stride;
  T *states, *dq, *dk, *dv, *dth, *det, *dal, *dW1, *dW2, *dS1, *dS2;
  double *fac, *vec, *snap;

  NL_HD int phases() const { return int(4 + 7 * L); }

  NL_HD void operator()(int p, const Idx& at, char* smem, Regs&) const {
    const int64_t bh = at.block.x, b = bh / d.H, h = bh % d.H, n = d.n(), D = d.D, Dh = d.Dh, fs = d.fac_stride();
    const unsigned tid = at.thread.x, nt = at.dim.x;
    T* St = states + bh * (chunk + 1) * 4 * n;
    const T* st0 = start + bh * start_stride;
    double* f0 = fac + bh * chunk * fs;
    T *gw1 = dW1 + bh * n, *gw2 = dW2 + bh * n, *gs1 = dS1 + bh * n, *gs2 = dS2 + bh * n;
    double *sp1 = snap + bh * 2 * n, *sp2 = sp1 + n;
    if (p < 3) {
      if (p == 0)
        for (int64_t x = tid; x < n; x += nt) {
          if (init) {
            gw1[x] = gW1 != nullptr ? gW1[bh * n + x] : T(0);
            gw2[x] = gW2 != nullptr ? gW2[bh * n + x] : T(0);
            gs1[x] = gS1 != nullptr ? gS1[bh * n + x] : T(0);
            gs2[x] = gS2 != nullptr ? gS2[bh * n + x] : T(0);
          }
          for (int64_t m = 0; m < 4; ++m) St[m * n + x] = st0[m * n + x];
          sp1[x] = 0;
          sp2[x] = 0;
        }
      titans_factors<T>(p, d, b, h, t0, L, k, v, st0, st0 + n, f0, tid, nt);
      return;
    }
    if (p == 3) {
      for (int64_t x = tid; x < n; x += nt)
        for (int64_t t = 0; t < L; ++t) {
          T* cur = St + (t + 1) * 4 * n;
          for (int64_t m = 0; m < 4; ++m) cur[m * n + x] = St[t * 4 * n + m * n + x];
          const int64_t r = d.row(b, t0 + t, h);
          titans_update<T>(d, double(th[r]), double(et[r]), 1.0 - double(al[r]), k + r * D, f0 + t * fs, cur,
                           cur + n, cur + 2 * n, cur + 3 * n, x);
        }
      return;
    }
    const int64_t tok = L - 1 - (p - 4) / 7, r = d.row(b, t0 + tok, h);
    const int sub = (p - 4) % 7;
    const int step = read_after ? sub : (sub + 2) % 7;  // 0 RB1, 1 RB2, 2 X, 3 Y, 4 Z, 5 W, 6 V
    const double tht = double(th[r]), ett = double(et[r]), keep = 1.0 - double(al[r]);
    const T *qt = q + r * D, *kt = k + r * D;
    const double* f = f0 + tok * fs;  // p, a, c, g [Dh], e [D]
    double *z = vec + bh * (5 * Dh + 2 * D), *dr = z + Dh, *da = dr + Dh, *dc = da + Dh, *dp = dc + Dh;
    double *de = dp + Dh, *dkv = de + D;
    double* red = reinterpret_cast<double*>(smem);  // [3, nt]: dalpha, deta, dtheta partials
    const T* W1p = St + tok * 4 * n;                 // state before the token
    const T *W2p = W1p + n, *S1p = W1p + 2 * n, *S2p = W1p + 3 * n;
    const T *W1s = St, *W2s = St + n;  // chunk-start weights
    auto dOat = [&](int64_t i) { return dO != nullptr ? double(dO[r * D + i]) : 0.0; };
    if (step <= 1) {
      const T* W1r = read_after ? W1p + 4 * n : W1p;
      const T* W2r = W1r + n;
      if (step == 0) {
        for (int64_t j = tid; j < Dh; j += nt) {
          double rj = 0, dz = 0;
          for (int64_t i = 0; i < D; ++i) {
            rj += double(W2r[j * D + i]) * double(qt[i]);
            dz += double(W1r[i * Dh + j]) * dOat(i);
          }
          z[j] = titans_silu(rj);
          dr[j] = dz * titans_d1(rj);
        }
        return;
      }
      const bool snap_now = !read_after && tok == 0;
      for (int64_t x = tid; x < n; x += nt) {
        gw1[x] = T(double(gw1[x]) + dOat(x / Dh) * z[x % Dh] + (snap_now ? sp1[x] : 0.0));
        gw2[x] = T(double(gw2[x]) + dr[x / D] * double(qt[x % D]) + (snap_now ? sp2[x] : 0.0));
      }
      for (int64_t i = tid; i < D; i += nt) {
        double s = dOat(i);
        for (int64_t j = 0; j < Dh; ++j) s += double(W2r[j * D + i]) * dr[j];
        dq[r * D + i] = T(s);
      }
      return;
    }
    if (step == 2) {
      double pa = 0, pe = 0, pt = 0;
      for (int64_t i = tid; i < D; i += nt) {
        double e1 = 0, k1 = 0;
        const double ei = f[4 * Dh + i], ki = double(kt[i]);
        for (int64_t j = 0; j < Dh; ++j) {
          const int64_t x1 = i * Dh + j, x2 = j * D + i;
          const double g1 = double(gs1[x1]) + double(gw1[x1]), g2 = double(gs2[x2]) + double(gw2[x2]);
          const double aj = f[Dh + j], gj = f[3 * Dh + j];
          e1 += g1 * aj;
          k1 += g2 * gj;
          pa -= double(W1p[x1]) * double(gw1[x1]) + double(W2p[x2]) * double(gw2[x2]);
          pe += double(S1p[x1]) * g1 + double(S2p[x2]) * g2;
          pt -= ei * aj * g1 + gj * ki * g2;
        }
        de[i] = -tht * e1;
        dkv[i] = -tht * k1;
      }
      red[tid] = pa;
      red[nt + tid] = pe;
      red[2 * nt + tid] = pt;
    } else if (step == 3) {
      for (int64_t j = tid; j < Dh; j += nt) {
        double a1 = 0, g1 = 0;
        for (int64_t i = 0; i < D; ++i) {
          const int64_t x1 = i * Dh + j, x2 = j * D + i;
          a1 += (double(gs1[x1]) + double(gw1[x1])) * f[4 * Dh + i];
          g1 += (double(gs2[x2]) + double(gw2[x2])) * double(kt[i]);
        }
        const double dg = -tht * g1;
        da[j] = -tht * a1;
        dc[j] = dg * titans_d1(f[j]);
        dp[j] = dg * f[2 * Dh + j] * titans_d2(f[j]);
      }
      if (tid < 32)  // fold the partials to 32 per quantity
        for (int m = 0; m < 3; ++m)
          for (unsigned s = tid + 32; s < nt; s += 32) red[m * nt + tid] += red[m * nt + s];
    } else if (step == 4) {
      for (int64_t i = tid; i < D; i += nt) {
        double s = de[i];
        for (int64_t j = 0; j < Dh; ++j) s += double(W1s[i * Dh + j]) * dc[j];
        de[i] = s;
        dkv[i] += s;
        dv[r * D + i] = T(-s);
      }
      if (tid == 0) {
        double sum[3] = {0, 0, 0};
        for (int m = 0; m < 3; ++m)
          for (unsigned s = 0; s < 32 && s < nt; ++s) sum[m] += red[m * nt + s];
        dal[r] = T(sum[0]);
        det[r] = T(sum[1]);
        dth[r] = T(sum[2]);
      }
    } else if (step == 5) {
      for (int64_t j = tid; j < Dh; j += nt) {
        double s = da[j];
        for (int64_t i = 0; i < D; ++i) s += double(W1s[i * Dh + j]) * de[i];
        dp[j] += s * titans_d1(f[j]);
      }
    } else {
      for (int64_t i = tid; i < D; i += nt) {
        double s = dkv[i];
        for (int64_t j = 0; j < Dh; ++j) s += double(W2s[j * D + i]) * dp[j];
        dk[r * D + i] = T(s);
      }
      const bool snap_now = read_after && tok == 0;
      for (int64_t x = tid; x < n; x += nt) {
        const int64_t i1 = x / Dh, j1 = x % Dh, j2 = x / D, i2 = x % D;
        sp1[x] += f[4 * Dh + i1] * dc[j1] + de[i1] * f[Dh + j1];
        sp2[x] += dp[j2] * double(kt[i2]);
        const double g1 = double(gs1[x]) + double(gw1[x]), g2 = double(gs2[x]) + double(gw2[x]);
        gs1[x] = T(ett * g1);
        gs2[x] = T(ett * g2);
        gw1[x] = T(keep * double(gw1[x]) + (snap_now ? sp1[x] : 0.0));
        gw2[x] = T(keep * double(gw2[x]) + (snap_now ? sp2[x] : 0.0));
      }
    }
  }
};

}  // namespace nl::cuda

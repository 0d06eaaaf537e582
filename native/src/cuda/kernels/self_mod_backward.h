// SelfModifyingTitans backward on CUDA, one chunk [t0, t0 + L) per launch (maths and layouts:
// self_mod_token.h, cpu/self_mod_backward.cc). Before it, SelfModForwardK recomputed the chunk from
// its boundary state (`start`, a work area) into `slots` (W1, W2 of every memory before each token
// and after the last). One block per (b, h); the running adjoints of the six states of every
// memory live in `adj` ([B*H, 6, M, D Dh], the work-area layout). Phases:
//   0: adj = the final-state gradients gS ([B, M, H, ...], null = 0) on the first launch (`init`);
//   per token, last to first (kSmTokenPhases + 11 + tree steps phases):
//     the 7 snapshot-only phases (snapshots from the slots or the boundary state, W2 k from the slot;
//     the 7th the clip, which leaves e, cm scaled for the writes' reversal);
//     R1, R2: the read of mem reversed (dq, dW1 / dW2 of mem, or dA1 / dA2 with read_snapshot);
//     WB1: the writes reversed, vector parts: W2'^T-side sums wk = dW2' k, y = (dS2' + dW2') k,
//          da = -eta (dS1' + dW1')^T e, z = (dS1' + dW1') a, de = -eta z, and the alpha / eta
//          partials (tree-reduced in shared memory, double);
//     WB2: dk from every memory's write (dkw);
//     CB: the inner-gradient clip reversed (dims.clip > 0; self_mod_clip_back.h): de, dg (dgc), da,
//         dkw of the unscaled e, g; e, cm back to unscaled;
//     WB3: adjoints to pre-token: dW1 = alpha dW1', dS1 = beta (dS1' + dW1'), dW2 = alpha dW2' -
//          eta wk k^T, dS2 = beta (dS2' + dW2'); and FB1: de += A1 (dg silu'(p)) (dg = -eta y);
//     FB2, FB3: the inner-gradient factors and targets reversed (dA1, dA2, dk, dv);
//     GB0: k's normalisation and the gates (one thread); GB1, GB2: the generators reversed (dA1,
//          dA2, dx; dq); the snapshot taken at this token: dW += dA, dA = 0;
//   last: on the last launch (`fini`), adj to the initial-state gradients dinit ([B, M, H, ...]).
#pragma once
#include <cstdint>

#include "cuda/kernels/self_mod.h"
#include "cuda/kernels/self_mod_clip_back.h"

namespace nl::cuda {

struct SelfModSum {
  NL_HD double operator()(double x, double y) const { return x + y; }
};

template <class T>
struct SelfModChunkBackK {
  using Regs = NoRegs;
  SelfModCudaDims d;
  bool init, fini;
  int64_t t0, L, slot_stride;
  unsigned threads;  // power of two = blockDim.x
  const T *x, *q, *dO;
  const T* gS[6];
  const T *start, *slots;  // start: the chunk's boundary state of (b, h) at start + bh * start_stride
  int64_t start_stride;
  T* adj;
  T *dx, *dq;
  T* dinit[6];
  double* vec;

  NL_HD int per_token() const { return kSmTokenPhases + 11 + tree_steps(threads); }
  NL_HD int phases() const { return 2 + int(L) * per_token(); }

  NL_HD T* ad(int64_t bh, int s, int64_t m) const { return adj + bh * d.work_size() + (s * d.M + m) * d.n(); }
  NL_HD const T* slot(int64_t bh, int64_t i, int64_t m, int s) const {
    return slots + bh * slot_stride + ((i * d.M + m) * 2 + s) * d.n();
  }
  // snapshot s (0: A1, 1: A2) of memory m at call token t: taken in this chunk (a slot) or before it
  NL_HD const T* snap(int64_t bh, int64_t t, int64_t m, int s) const {
    const int64_t pos = d.tokens + t, at = pos - pos % d.chunk_of(m), cs = d.tokens + t0;
    if (at >= cs) return slot(bh, at - cs, m, s);
    return start + bh * start_stride + ((kSmA1 + s) * d.M + m) * d.n();
  }

  NL_HD void operator()(int p, const Idx& at, char* smem, Regs&) const {
    const int64_t bh = at.block.x, b = bh / d.H, h = bh % d.H, n = d.n(), M = d.M, D = d.D, Dh = d.Dh;
    const unsigned tid = at.thread.x, nt = at.dim.x;
    T* G = adj + bh * d.work_size();
    if (p == 0 || p == phases() - 1) {
      if (p == 0 ? !init : !fini) return;
      for (int64_t it = tid; it < 6 * M * n; it += nt) {
        const int64_t s = it / (M * n), m = (it / n) % M, e = it % n;
        if (p == 0) G[it] = gS[s] != nullptr ? gS[s][d.ext(b, m, h) + e] : T(0);
        else dinit[s][d.ext(b, m, h) + e] = G[it];
      }
      return;
    }
    const int P = per_token(), ks = tree_steps(threads);
    const int64_t i = L - 1 - (p - 1) / P, t = t0 + i, pos = d.tokens + t, r = d.row(b, t, h);
    const int sub = (p - 1) % P;
    const SmLayout ly(d);
    double* v = vec + bh * ly.total;
    const T* xr = x + r * D;
    SmTokenWeights<T> w;
    for (int64_t m = 0; m < M; ++m) {
      w.a1[m] = snap(bh, t, m, 0);
      w.a2[m] = snap(bh, t, m, 1);
      w.w2[m] = slot(bh, i, m, 1);
    }
    if (sub < kSmTokenPhases) return sm_token_phase<T>(sub, d, ly, w, xr, v, tid, nt);
    const double al = v[ly.sc + 1], eta = v[ly.sc + 3], beta = d.momentum;
    const SmQuery<T> qv{d.adaptive_q ? v + ly.gen + kSmQ * D : nullptr, q + r * D};
    const T* dor = dO != nullptr ? dO + r * D : nullptr;
    const int64_t rs = d.read_snapshot ? 4 : 0;
    const T* R1 = d.read_snapshot ? w.a1[kSmMem] : slot(bh, i + 1, kSmMem, 0);
    const T* R2 = d.read_snapshot ? w.a2[kSmMem] : slot(bh, i + 1, kSmMem, 1);
    double* red = reinterpret_cast<double*>(smem);  // [2, threads]: dalpha, deta partials
    const int ph = sub - kSmTokenPhases;
    if (ph == 0) {  // R1: zr = silu(W2 q), dr = (W1^T do) silu'(W2 q)
      for (int64_t j = tid; j < Dh; j += nt) {
        double pre = 0, dz = 0;
        for (int64_t c = 0; c < D; ++c) {
          pre += double(R2[j * D + c]) * qv[c];
          if (dor != nullptr) dz += double(dor[c]) * double(R1[c * Dh + j]);
        }
        v[ly.zr + j] = sm_silu(pre);
        v[ly.dr + j] = dz * sm_d1(pre);
      }
    } else if (ph == 1) {  // R2: dW1 += do zr^T, dW2 += dr q^T, dq = do + W2^T dr
      T *dW1 = ad(bh, kSmW1 + rs, kSmMem), *dW2 = ad(bh, kSmW2 + rs, kSmMem);
      for (int64_t e = tid; e < n && dor != nullptr; e += nt) {
        dW1[e] = T(double(dW1[e]) + double(dor[e / Dh]) * v[ly.zr + e % Dh]);
        dW2[e] = T(double(dW2[e]) + v[ly.dr + e / D] * qv[e % D]);
      }
      for (int64_t c = tid; c < D; c += nt) {
        double acc = dor != nullptr ? double(dor[c]) : 0.0;
        for (int64_t j = 0; j < Dh; ++j) acc += double(R2[j * D + c]) * v[ly.dr + j];
        v[ly.dq + c] = acc;
      }
    } else if (ph == 2) {  // WB1
      double pa = 0, pe = 0;
      for (int64_t it = tid; it < M * Dh; it += nt) {
        const int64_t m = it / Dh, j = it % Dh;
        const T *dW2 = ad(bh, kSmW2, m) + j * D, *dS2 = ad(bh, kSmS2, m) + j * D, *W2 = w.w2[m] + j * D;
        const T *dW1 = ad(bh, kSmW1, m) + j, *dS1 = ad(bh, kSmS1, m) + j;
        const double* kn = v + ly.kn;
        double wk = 0, sk = 0, sa = 0, da = 0;
        for (int64_t c = 0; c < D; ++c) {
          wk += double(dW2[c]) * kn[c];
          sk += double(dS2[c]) * kn[c];
          sa += double(W2[c]) * double(dW2[c]);
          da += (double(dS1[c * Dh]) + double(dW1[c * Dh])) * v[ly.e + m * D + c];
        }
        const double y = wk + sk, g = v[ly.cm + it] * sm_d1(v[ly.p + it]);
        v[ly.wk + it] = wk;
        v[ly.y + it] = y;
        v[ly.da + it] = -eta * da;
        pa += sa;
        pe -= v[ly.u + it] * wk + g * y;
      }
      for (int64_t it = tid; it < M * D; it += nt) {
        const int64_t m = it / D, a = it % D;
        const T *dW1 = ad(bh, kSmW1, m) + a * Dh, *dS1 = ad(bh, kSmS1, m) + a * Dh, *W1 = slot(bh, i, m, 0) + a * Dh;
        double z = 0, sa = 0;
        for (int64_t j = 0; j < Dh; ++j) {
          z += (double(dS1[j]) + double(dW1[j])) * sm_silu(v[ly.p + m * Dh + j]);
          sa += double(W1[j]) * double(dW1[j]);
        }
        v[ly.de + it] = -eta * z;
        pa += sa;
        pe -= v[ly.e + it] * z;
      }
      red[tid] = pa;
      red[nt + tid] = pe;
    } else if (ph <= 2 + ks) {
      tree_step(red, tid, nt >> (ph - 2), SelfModSum{});
      tree_step(red + nt, tid, nt >> (ph - 2), SelfModSum{});
    } else if (ph == 3 + ks) {  // WB2: dk of every memory's write
      if (tid == 0) {
        v[ly.sc + 4] = red[0];
        v[ly.sc + 5] = red[nt];
      }
      for (int64_t it = tid; it < M * D; it += nt) {
        const int64_t m = it / D, c = it % D;
        const T *dW2 = ad(bh, kSmW2, m) + c, *dS2 = ad(bh, kSmS2, m) + c, *W2 = w.w2[m] + c;
        double acc = 0;
        for (int64_t j = 0; j < Dh; ++j) {
          const double g = v[ly.cm + m * Dh + j] * sm_d1(v[ly.p + m * Dh + j]);
          const double dw = double(dW2[j * D]);
          acc += v[ly.u + m * Dh + j] * dw + v[ly.wk + m * Dh + j] * double(W2[j * D]) +
                 g * (double(dS2[j * D]) + dw);
        }
        v[ly.dkw + it] = -eta * acc;
      }
    } else if (ph == 4 + ks) {  // CB: the clip reversed (self_mod_clip_back.h; c = 0: nothing)
      sm_clip_back_token(d, ly, v, eta, tid, nt);
    } else if (ph == 5 + ks) {  // WB3 + FB1
      for (int64_t it = tid; it < M * n; it += nt) {
        const int64_t m = it / n, e = it % n;
        T *dW1 = ad(bh, kSmW1, m), *dS1 = ad(bh, kSmS1, m), *dW2 = ad(bh, kSmW2, m), *dS2 = ad(bh, kSmS2, m);
        const double s1 = double(dS1[e]) + double(dW1[e]), s2 = double(dS2[e]) + double(dW2[e]);
        dW1[e] = T(al * double(dW1[e]));
        dS1[e] = T(beta * s1);
        dW2[e] = T(al * double(dW2[e]) - eta * v[ly.wk + m * Dh + e / D] * v[ly.kn + e % D]);
        dS2[e] = T(beta * s2);
      }
      for (int64_t it = tid; it < M * D; it += nt) {
        const int64_t m = it / D, a = it % D;
        const T* a1 = w.a1[m] + a * Dh;
        double acc = 0;
        for (int64_t j = 0; j < Dh; ++j) {
          const int64_t mj = m * Dh + j;
          acc += double(a1[j]) * sm_clip_dg(d, ly, v, mj, eta) * sm_d1(v[ly.p + mj]);
        }
        v[ly.de + it] += acc;
      }
    } else if (ph == 6 + ks) {  // FB2: Y = A1^T de, dp, dhv
      for (int64_t it = tid; it < M * Dh; it += nt) {
        const int64_t m = it / Dh, j = it % Dh;
        const T* a1 = w.a1[m] + j;
        double Y = 0;
        for (int64_t a = 0; a < D; ++a) Y += double(a1[a * Dh]) * v[ly.de + m * D + a];
        const double pj = v[ly.p + it], dg = sm_clip_dg(d, ly, v, it, eta);
        v[ly.dp + it] = dg * v[ly.cm + it] * sm_d2(pj) + (v[ly.da + it] + Y) * sm_d1(pj);
        v[ly.dhv + it] = -Y * sm_d1(v[ly.hv + it]);
      }
    } else if (ph == 7 + ks) {  // FB3: dA1, dA2; dk, dv
      const double *kn = v + ly.kn, *vv = v + ly.gen + kSmV * D;
      for (int64_t it = tid; it < M * n; it += nt) {
        const int64_t m = it / n, e = it % n;
        T *dA1 = ad(bh, kSmA1, m), *dA2 = ad(bh, kSmA2, m);
        {
          const int64_t a = e / Dh, mj = m * Dh + e % Dh;
          const double x1 = sm_clip_dg(d, ly, v, mj, eta) * sm_d1(v[ly.p + mj]);
          const double xm = sm_silu(v[ly.p + mj]) - sm_silu(v[ly.hv + mj]);
          dA1[e] = T(double(dA1[e]) + v[ly.e + m * D + a] * x1 + v[ly.de + m * D + a] * xm);
        }
        const int64_t mj = m * Dh + e / D, c = e % D;
        dA2[e] = T(double(dA2[e]) + v[ly.dp + mj] * kn[c] + v[ly.dhv + mj] * vv[c]);
      }
      for (int64_t c = tid; c < D; c += nt) {
        double dk = 0, dv = 0;
        for (int64_t m = 0; m < M; ++m) {
          const T* a2 = w.a2[m] + c;
          dk += v[ly.dkw + m * D + c] + v[ly.de + m * D + c];
          dv -= v[ly.de + m * D + c];
          for (int64_t j = 0; j < Dh; ++j) {
            dk += v[ly.dp + m * Dh + j] * double(a2[j * D]);
            dv += v[ly.dhv + m * Dh + j] * double(a2[j * D]);
          }
        }
        v[ly.dk + c] = dk;
        v[ly.dv + c] = dv;
      }
    } else if (ph == 8 + ks) {  // GB0: k's normalisation, the gates
      if (tid != 0) return;
      const double* kr = v + ly.gen + kSmK * D;
      double* sc = v + ly.sc;
      const double nr = sc[0], den = nr + 1e-6;
      double dot = 0;
      for (int64_t c = 0; c < D; ++c) dot += kr[c] * v[ly.dk + c];
      const double s = nr > 0 ? dot / (nr * den * den) : 0.0;
      for (int64_t c = 0; c < D; ++c) v[ly.dkr + c] = v[ly.dk + c] / den - s * kr[c];
      const double a = sc[1], bg = sc[2], det = sc[5], dal = sc[4] + bg * det;
      sc[7] = a * det * bg * (1.0 - bg) / double(D);
      sc[6] = dal * a * (1.0 - a) / double(D);
    } else if (ph == 9 + ks) {  // GB1: t1 = (A1^T dgen) silu'(hg)
      for (int64_t it = tid; it < M * Dh; it += nt) {
        const int64_t m = it / Dh, j = it % Dh;
        if (!d.is_gen(m)) continue;
        const T* a1 = w.a1[m] + j;
        double acc = 0;
        for (int64_t c = 0; c < D; ++c) acc += double(a1[c * Dh]) * dgen(v, ly, m, c);
        v[ly.t1 + it] = acc * sm_d1(v[ly.hg + it]);
      }
    } else {  // GB2: dA1 += dgen silu(hg)^T, dA2 += t1 x^T; the snapshot; dx, dq
      for (int64_t it = tid; it < M * n; it += nt) {
        const int64_t m = it / n, e = it % n;
        T *dA1 = ad(bh, kSmA1, m), *dA2 = ad(bh, kSmA2, m);
        if (d.is_gen(m)) {
          dA1[e] = T(double(dA1[e]) + dgen(v, ly, m, e / Dh) * sm_silu(v[ly.hg + m * Dh + e % Dh]));
          dA2[e] = T(double(dA2[e]) + v[ly.t1 + m * Dh + e / D] * double(xr[e % D]));
        }
        if (pos % d.chunk_of(m) == 0) {
          T *dW1 = ad(bh, kSmW1, m), *dW2 = ad(bh, kSmW2, m);
          dW1[e] = T(double(dW1[e]) + double(dA1[e]));
          dW2[e] = T(double(dW2[e]) + double(dA2[e]));
          dA1[e] = T(0);
          dA2[e] = T(0);
        }
      }
      for (int64_t c = tid; c < D; c += nt) {
        double acc = 0;
        for (int64_t m = 0; m < M; ++m) {
          if (!d.is_gen(m)) continue;
          const T* a2 = w.a2[m] + c;
          acc += dgen(v, ly, m, c);
          for (int64_t j = 0; j < Dh; ++j) acc += v[ly.t1 + m * Dh + j] * double(a2[j * D]);
        }
        dx[r * D + c] = T(acc);
        dq[r * D + c] = d.adaptive_q ? T(0) : T(v[ly.dq + c]);
      }
    }
  }

  // gradient of generator m's output, column c
  NL_HD static double dgen(const double* v, const SmLayout& ly, int64_t m, int64_t c) {
    if (m == kSmK) return v[ly.dkr + c];
    if (m == kSmV) return v[ly.dv + c];
    if (m == kSmQ) return v[ly.dq + c];
    return v[ly.sc + (m == kSmAlpha ? 6 : 7)];
  }
};

}  // namespace nl::cuda

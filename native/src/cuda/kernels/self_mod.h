// SelfModifyingTitans forward on CUDA (maths and layouts: self_mod_token.h, cpu/self_mod.h).
// One block per (b, h) runs tokens [t0, t1) of the call, token by token:
//   phase 0: the work area [6][M][D Dh] from `start` (a work area, e.g. a boundary state) or from
//            the op's initial states `init` ([B, M, H, ...]; null = 0);
//   per token, 10 phases: (boundary copy every `block` tokens, when set) + snapshots A <- W of the
//            memories whose chunk starts here; the 7 snapshot-only phases (self_mod_token.h; the clip last); the
//            write of every memory (elementwise: S1, W1, S2, W2; the pre-token W1, W2 go to `slots`
//            when set); the read of mem o = q + W1 silu(W2 q) in two phases (hidden, column) when o
//            is set;
//   last phase: the post-chunk W1, W2 to slot t1 - t0 (slots set) and the work area to `out`
//            ([B, M, H, ...], when set).
// slots: [B*H, C + 1, M, 2, D Dh] (slot i = W1, W2 of every memory before token t0 + i).
#pragma once
#include <cstdint>

#include "cuda/kernels/self_mod_token.h"

namespace nl::cuda {

constexpr int kSmForwardPhases = 4 + kSmTokenPhases;

template <class T>
struct SelfModForwardK {
  using Regs = NoRegs;
  SelfModCudaDims d;
  int64_t t0, t1, block, nblocks;  // boundary: the work area every `block` tokens from t0, nblocks of them
  int64_t slot_stride;             // (C + 1) * M * 2 * D Dh
  const T *x, *q;
  const T* init[6];
  const T* start;  // null: init; else the work area of (b, h) at start + bh * start_stride
  int64_t start_stride;
  T* work;         // [B*H, 6, M, D Dh]
  T* o;
  T* out[6];
  T *boundary, *slots;
  double* vec;  // [B*H, SmLayout::total]

  NL_HD int phases() const { return 2 + int(t1 - t0) * kSmForwardPhases; }

  NL_HD void operator()(int p, const Idx& at, char*, Regs&) const {
    const int64_t bh = at.block.x, b = bh / d.H, h = bh % d.H, n = d.n(), M = d.M, D = d.D, Dh = d.Dh;
    const unsigned tid = at.thread.x, nt = at.dim.x;
    T* st = work + bh * d.work_size();
    if (p == 0) {
      for (int64_t it = tid; it < 6 * M * n; it += nt) {
        const int64_t s = it / (M * n), m = (it / n) % M, i = it % n;
        if (start != nullptr) st[it] = start[bh * start_stride + it];
        else st[it] = init[s] != nullptr ? init[s][d.ext(b, m, h) + i] : T(0);
      }
      return;
    }
    if (p == phases() - 1) {
      for (int64_t it = tid; it < 6 * M * n; it += nt) {
        const int64_t s = it / (M * n), m = (it / n) % M, i = it % n;
        if (out[s] != nullptr) out[s][d.ext(b, m, h) + i] = st[it];
        if (slots != nullptr && s < 2) slots[bh * slot_stride + (((t1 - t0) * M + m) * 2 + s) * n + i] = st[it];
      }
      return;
    }
    const int64_t i = (p - 1) / kSmForwardPhases, t = t0 + i, pos = d.tokens + t, r = d.row(b, t, h);
    const int sub = (p - 1) % kSmForwardPhases;
    const SmLayout ly(d);
    double* v = vec + bh * ly.total;
    const T* xr = x + r * D;
    if (sub == 0) {
      const bool keep = boundary != nullptr && i % block == 0;
      T* bnd = keep ? boundary + (bh * nblocks + i / block) * d.work_size() : nullptr;
      for (int64_t it = tid; it < M * n; it += nt) {
        const int64_t m = it / n, e = it % n;
        if (keep)
          for (int s = 0; s < 6; ++s) bnd[s * M * n + it] = st[s * M * n + it];
        if (pos % d.chunk_of(m) == 0) {
          st[(kSmA1 * M + m) * n + e] = st[(kSmW1 * M + m) * n + e];
          st[(kSmA2 * M + m) * n + e] = st[(kSmW2 * M + m) * n + e];
        }
      }
      return;
    }
    if (sub <= kSmTokenPhases) {
      SmTokenWeights<T> w;
      for (int64_t m = 0; m < M; ++m) {
        w.a1[m] = st + (kSmA1 * M + m) * n;
        w.a2[m] = st + (kSmA2 * M + m) * n;
        w.w2[m] = st + (kSmW2 * M + m) * n;
      }
      sm_token_phase<T>(sub - 1, d, ly, w, xr, v, tid, nt);
      return;
    }
    const SmQuery<T> qv{d.adaptive_q ? v + ly.gen + kSmQ * D : nullptr, q + r * D};
    if (sub == kSmTokenPhases + 1) {  // the writes
      const double al = v[ly.sc + 1], eta = v[ly.sc + 3], beta = d.momentum;
      for (int64_t it = tid; it < M * n; it += nt) {
        const int64_t m = it / n, e = it % n;
        T *W1 = st + (kSmW1 * M + m) * n, *W2 = st + (kSmW2 * M + m) * n;
        T *S1 = st + (kSmS1 * M + m) * n, *S2 = st + (kSmS2 * M + m) * n;
        if (slots != nullptr) {
          T* sl = slots + bh * slot_stride + ((i * M + m) * 2) * n;
          sl[e] = W1[e];
          sl[n + e] = W2[e];
        }
        {  // W1, S1 element (row a, column j) of [D, Dh]
          const int64_t a = e / Dh, j = e % Dh;
          const double s1 = beta * double(S1[e]) - eta * v[ly.e + m * D + a] * sm_silu(v[ly.p + m * Dh + j]);
          S1[e] = T(s1);
          W1[e] = T(al * double(W1[e]) + double(S1[e]));
        }
        {  // W2, S2 element (row j, column c) of [Dh, D]
          const int64_t j = e / D, c = e % D;
          const double pj = v[ly.p + m * Dh + j], kc = v[ly.kn + c];
          const double g = v[ly.cm + m * Dh + j] * sm_d1(pj);
          const double s2 = beta * double(S2[e]) - eta * g * kc;
          S2[e] = T(s2);
          W2[e] = T(al * double(W2[e]) - eta * v[ly.u + m * Dh + j] * kc + double(S2[e]));
        }
      }
      return;
    }
    if (o == nullptr) return;
    const int64_t rs = d.read_snapshot ? 4 : 0;  // W -> A
    const T* R1 = st + ((kSmW1 + rs) * M + kSmMem) * n;
    const T* R2 = st + ((kSmW2 + rs) * M + kSmMem) * n;
    if (sub == kSmTokenPhases + 2) {  // z = silu(W2 q)
      for (int64_t j = tid; j < Dh; j += nt) {
        double acc = 0;
        for (int64_t c = 0; c < D; ++c) acc += double(R2[j * D + c]) * qv[c];
        v[ly.zr + j] = sm_silu(acc);
      }
    } else {  // o = q + W1 z
      for (int64_t c = tid; c < D; c += nt) {
        double acc = qv[c];
        for (int64_t j = 0; j < Dh; ++j) acc += double(R1[c * Dh + j]) * v[ly.zr + j];
        o[r * D + c] = T(acc);
      }
    }
  }
};

}  // namespace nl::cuda

// SelfModifyingTitans backward in chunk ("dual") form on CUDA, one block of tokens [t0, t0 + bl) per
// launch (maths: cpu/self_mod_dual_backward.h, pieces: self_mod_dual_common.h). Before it,
// SelfModDualK recomputed the block from its boundary state and kept every piece's start work area
// in `pstart` ([B*H, npieces, 6 M D Dh]: W1, W2, S1, S2 and the piece's snapshots A1, A2). One
// block per (b, h) walks the pieces last to first; the running adjoints of the six states of every
// memory live in `adj` ([B*H, 6, M, D Dh], the work-area layout, op dtype). Phases:
//   0: adj = the final-state gradients gS ([B, M, H, ...], null = 0) on the first launch (`init`);
//   per piece of L tokens, kSmDualBwdPhases phases (the piece's arrays [M, L, ...] per memory, so
//   memories run side by side; their shares of the coefficient and k adjoints are summed at C1/C2):
//     Z    zero the piece's adjoint arrays;  T1-T7 the snapshot-only quantities (sm_token_phase; T7
//          the clip, e and cm scaled);
//     K    coefficients, Gram, q.k;  P  K W2_0^T, K S2_0^T (+ mem's Q W2_0^T, Q S2_0^T);  U  u, v;
//     E1-E3 the piece-end states reversed (X = K dW2L^T, K dS2L^T, E dW1L, E dS1L; their dots and
//          rows; dW, dS to piece start), with R1-R3 of mem's reads (z, y; dO.e, y.a, W1_0^T dO);
//     R4-R8 mem's reads reversed (dy, dz; dW1/dS1/dW2/dS2 += rank-L products; q, k, u, g adjoints;
//          read_snapshot: A1 silu(A2 q) reversed into dA1, dA2 of mem);
//     S1-S3 the substitution reversed: one thread per (memory, hidden unit) column back-substitutes
//          dv, then the dots into the coefficient adjoints, the Gram adjoint, dW2_0, dS2_0, dk;
//     C1 (threads over columns j) dR, dH summed over memories and reversed through alpha;
//     C2 (thread 0) A_t, C_t reversed; dk_t += (dG + dG^T) K;
//     CB the inner-gradient clip reversed (dims.clip > 0; self_mod_clip_back.h);
//     F1-F5 inner-gradient factors and targets of every memory (self_mod_dual_factors.h);
//     G1-G3 k's normalisation, the gates, the generators (dA1, dA2, dx, dq);  G4 the snapshot taken
//          at the piece start: dW += dA, dA = 0;
//   last: on the last launch (`fini`), adj to the initial-state gradients dinit ([B, M, H, ...]).
// Launch: grid B*H, threads as the forward (self_mod_dual_launch); scratch: the forward's token
// vectors and a SmDualLayout area per (b, h).
#pragma once
#include <cstdint>

#include "cuda/kernels/self_mod_dual_factors.h"

namespace nl::cuda {

constexpr int kSmDualBwdPhases = 1 + kSmTokenPhases + kSmDualPieceBack;

template <class T>
struct SelfModDualBackK {
  using Regs = NoRegs;
  SelfModCudaDims d;
  bool init, fini;
  int64_t t0, t1, block, npieces, Lmax;
  const T *x, *q, *dO;
  const T* gS[6];
  const T* pstart;  // [B*H, npieces, work area]
  T* adj;
  T *dx, *dq;
  T* dinit[6];
  double *vec, *dual;

  NL_HD int phases() const { return 2 + int(npieces) * kSmDualBwdPhases; }

  NL_HD void operator()(int p, const Idx& at, char*, Regs&) const {
    const int64_t bh = at.block.x, b = bh / d.H, h = bh % d.H, n = d.n(), M = d.M, D = d.D, Dh = d.Dh;
    const unsigned tid = at.thread.x, nt = at.dim.x;
    const SmLayout ly(d);
    const SmDualLayout dl(d, Lmax, npieces);
    T* G = adj + bh * d.work_size();
    double* v = vec + bh * Lmax * ly.total;
    double* u = dual + bh * dl.total;
    if (p == 0 || p == phases() - 1) {
      if (p == 0 && tid == 0) sm_pieces_fill(d, block, t0, t1, u, dl);
      if (p == 0 ? !init : !fini) return;
      for (int64_t it = tid; it < 6 * M * n; it += nt) {
        const int64_t s = it / (M * n), m = (it / n) % M, e = it % n;
        if (p == 0) G[it] = gS[s] != nullptr ? gS[s][d.ext(b, m, h) + e] : T(0);
        else dinit[s][d.ext(b, m, h) + e] = G[it];
      }
      return;
    }
    const int64_t pi = npieces - 1 - (p - 1) / kSmDualBwdPhases;
    const int sub = (p - 1) % kSmDualBwdPhases;
    const SmPiece pc = sm_piece_at(u, dl, pi);
    const int64_t L = pc.L, row0 = d.row(b, pc.t, h);
    const T* st = pstart + (bh * npieces + pi) * d.work_size();
    if (sub == 0) {  // Z: the piece's adjoint arrays (dual layout from V on)
      for (int64_t i = dl.V + tid; i < dl.total; i += nt) u[i] = 0;
      return;
    }
    if (sub <= kSmTokenPhases) {
      SmTokenWeights<T> w;
      for (int64_t m = 0; m < M; ++m) {
        w.a1[m] = st + (kSmA1 * M + m) * n;
        w.a2[m] = st + (kSmA2 * M + m) * n;
        w.w2[m] = w.a2[m];  // (u of the token form: unused here)
      }
      for (int64_t l = 0; l < L; ++l) sm_token_phase<T>(sub - 1, d, ly, w, x + (row0 + l * d.H) * D, v + l * ly.total,
                                                 sm_token_tid(tid, nt, l), nt);
      return;
    }
    const SmDualBackCtx<T> c{d, SmDualView{v, u, ly, dl, D, Dh, Lmax}, L, row0, d.tokens + pc.t, st, G, x, q, dO,
                             dx, dq, tid, nt};
    sm_dual_piece_back<T>(sub - 1 - kSmTokenPhases, c);
  }
};

}  // namespace nl::cuda

// SelfModifyingTitans forward in chunk ("dual") form on CUDA (dims.dual; maths and pieces:
// self_mod_dual_common.h, cpu/self_mod_dual.h). One block per (b, h) runs tokens [t0, t1) of the
// call, piece by piece (the pieces of one (b, h) are sequential: each starts from the previous
// piece's end states); inside a piece every token and memory is worked on at once:
//   phase 0: the work area [6][M][D Dh] from `start` (a work area) or the op's initial states
//            `init` ([B, M, H, ...]; null = 0); thread 0 lists the pieces;
//   per piece of L tokens, kSmDualFwdPhases phases:
//     F0  boundary copy at a block start (`boundary`, every `block` tokens, when set), snapshots
//         A <- W of the memories whose chunk starts here, the piece-start work area to `pstart`
//         (slot = the piece's index in the launch, when set);
//     F1-F7  the snapshot-only quantities of the L tokens (sm_token_phase, token by token; the
//            last one the inner-gradient clip, dims.clip > 0, which scales e and cm in place);
//     F7  coefficients A, C, eb [L], R, H, K K^T, q K^T [L, L]; silu(p), g [M, L, Dh];
//     F8  P0 = K W2_0^T, PS = K S2_0^T [M, L, Dh]; mem's Q W2_0^T, Q S2_0^T [L, Dh] (reads);
//     F9  u_t = -eta_t W2_{t-1} k_t: forward substitution, one thread per (memory, hidden unit)
//         column (columns are independent: u[:, c] only needs u[:, c]);
//     F10 mem's read pre-activation z [L, Dh] (causal [L, L] masks R o QK, H o QK), y = silu(z);
//     F11 y_t . a_j [L, L];  F12 o_t [L, D] (A1 silu(A2 q) of the snapshot with read_snapshot);
//     F13 piece-end W1, W2, S1, S2 of every memory (threads over (memory, element), sums over L);
//   last phase: the work area to `out` ([B, M, H, ...], when set).
// Launch: grid B*H, threads a power of two covering M max(D, Dh) (self_mod_launch); scratch per
// (b, h): the work area (op dtype), [Lmax, SmLayout::total] token vectors and a SmDualLayout area
// (doubles). On an H100 the piece-local arrays are L2-resident (a few hundred KB per (b, h)); the
// [L, L] and [L, Dh] products are small enough that threads over output elements, each summing in
// double over <= max(D, L) terms, keep every phase parallel; shared-memory tiles of K / E rows are
// the next step where a profile shows these phases bound by L2 traffic.
#pragma once
#include <cstdint>

#include "cuda/kernels/self_mod_dual_common.h"

namespace nl::cuda {

constexpr int kSmDualFwdPhases = 8 + kSmTokenPhases;

template <class T>
struct SelfModDualK {
  using Regs = NoRegs;
  SelfModCudaDims d;
  int64_t t0, t1, block, npieces, Lmax;  // block: piece cuts and boundary copies (every block tokens)
  int64_t nblocks;                       // boundary: [B*H, nblocks, work area] (block b0 of the call at 0)
  const T *x, *q;
  const T* init[6];
  const T* start;  // null: init; else the work area of (b, h) at start + bh * start_stride
  int64_t start_stride;
  T* work;    // [B*H, 6, M, D Dh]
  T* o;
  T* out[6];
  T *boundary, *pstart;  // pstart: [B*H, npieces, work area]
  double *vec, *dual;    // [B*H, Lmax, SmLayout::total], [B*H, SmDualLayout::total]

  NL_HD int phases() const { return 2 + int(npieces) * kSmDualFwdPhases; }

  NL_HD void operator()(int p, const Idx& at, char*, Regs&) const {
    const int64_t bh = at.block.x, b = bh / d.H, h = bh % d.H, n = d.n(), M = d.M, D = d.D, Dh = d.Dh;
    const unsigned tid = at.thread.x, nt = at.dim.x;
    const SmLayout ly(d);
    const SmDualLayout dl(d, Lmax, npieces);
    T* st = work + bh * d.work_size();
    double* v = vec + bh * Lmax * ly.total;
    double* u = dual + bh * dl.total;
    if (p == 0) {
      for (int64_t it = tid; it < 6 * M * n; it += nt) {
        const int64_t s = it / (M * n), m = (it / n) % M, i = it % n;
        if (start != nullptr) st[it] = start[bh * start_stride + it];
        else st[it] = init[s] != nullptr ? init[s][d.ext(b, m, h) + i] : T(0);
      }
      if (tid == 0) sm_pieces_fill(d, block, t0, t1, u, dl);
      return;
    }
    if (p == phases() - 1) {
      for (int64_t it = tid; it < 6 * M * n && out[0] != nullptr; it += nt) {
        const int64_t s = it / (M * n), m = (it / n) % M, i = it % n;
        if (out[s] != nullptr) out[s][d.ext(b, m, h) + i] = st[it];
      }
      return;
    }
    const int64_t pi = (p - 1) / kSmDualFwdPhases;
    const int sub = (p - 1) % kSmDualFwdPhases;
    const SmPiece pc = sm_piece_at(u, dl, pi);
    const int64_t L = pc.L, Lm = Lmax, row0 = d.row(b, pc.t, h);
    const bool reads = o != nullptr;
    if (sub == 0) {
      const bool keep = boundary != nullptr && pc.t % block == 0;
      T* bnd = keep ? boundary + (bh * nblocks + pc.t / block) * d.work_size() : nullptr;
      T* ps = pstart != nullptr ? pstart + (bh * npieces + pi) * d.work_size() : nullptr;
      for (int64_t it = tid; it < M * n; it += nt) {
        const int64_t m = it / n, e = it % n;
        for (int s = 0; s < 6 && keep; ++s) bnd[s * M * n + it] = st[s * M * n + it];
        if ((d.tokens + pc.t) % d.chunk_of(m) == 0) {
          st[(kSmA1 * M + m) * n + e] = st[(kSmW1 * M + m) * n + e];
          st[(kSmA2 * M + m) * n + e] = st[(kSmW2 * M + m) * n + e];
        }
        for (int s = 0; s < 6 && ps != nullptr; ++s) ps[s * M * n + it] = st[s * M * n + it];
      }
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
    auto S = [&](int s, int64_t m) { return st + (s * M + m) * n; };
    const bool snap = d.read_snapshot;
    if (sub == kSmTokenPhases + 1) {
      sm_dual_coefficients<T>(d, ly, dl, v, u, L, q, row0, d.H, reads && !snap, tid, nt);
    } else if (sub == kSmTokenPhases + 2) {
      sm_dual_p0<T>(d, ly, dl, v, u, L, st, q, row0, reads, tid, nt);
    } else if (sub == kSmTokenPhases + 3) {
      sm_dual_solve_u(d, ly, dl, v, u, L, false, tid, nt);
    } else if (sub == kSmTokenPhases + 4) {  // F10: z, y of mem's reads
      for (int64_t it = tid; it < L * Dh && reads; it += nt) {
        const int64_t t = it / Dh, c = it % Dh;
        double z = u[dl.QW + t * Dh + c];
        if (!snap) {
          z = u[dl.acum + t] * z + u[dl.cc + t] * u[dl.QS + t * Dh + c];
          for (int64_t j = 0; j <= t; ++j) {
            const double qk = u[dl.QK + t * Lm + j];
            const int64_t mj = (kSmMem * Lm + j) * Dh + c;
            z += qk * (u[dl.R + t * Lm + j] * u[dl.U + mj] - u[dl.Hc + t * Lm + j] * u[dl.GG + mj]);
          }
        }
        u[dl.Z + t * Dh + c] = z;
        u[dl.Y + t * Dh + c] = sm_silu(z);
      }
    } else if (sub == kSmTokenPhases + 5) {  // F11: y_t . a_j (mem)
      for (int64_t it = tid; it < L * L && reads && !snap; it += nt) {
        const int64_t t = it / L, j = it % L;
        double acc = 0;
        for (int64_t c = 0; c < Dh; ++c) acc += u[dl.Y + t * Dh + c] * u[dl.AC + (kSmMem * Lm + j) * Dh + c];
        u[dl.YA + t * Lm + j] = acc;
      }
    } else if (sub == kSmTokenPhases + 6) {  // F12: o_t = q_t + A_t W1_0 y_t + C_t S1_0 y_t - sum_j H (y.a) e_j
      const T *W1 = S(snap ? kSmA1 : kSmW1, kSmMem), *S1 = S(kSmS1, kSmMem);
      for (int64_t it = tid; it < L * D && reads; it += nt) {
        const int64_t t = it / D, a = it % D;
        const SmQuery<T> qv{d.adaptive_q ? v + t * ly.total + ly.gen + kSmQ * D : nullptr, q + (row0 + t * d.H) * D};
        double w1y = 0, s1y = 0;
        for (int64_t c = 0; c < Dh; ++c) {
          w1y += double(W1[a * Dh + c]) * u[dl.Y + t * Dh + c];
          if (!snap) s1y += double(S1[a * Dh + c]) * u[dl.Y + t * Dh + c];
        }
        double acc = qv[a] + (snap ? w1y : u[dl.acum + t] * w1y + u[dl.cc + t] * s1y);
        for (int64_t j = 0; j <= t && !snap; ++j)
          acc -= u[dl.Hc + t * Lm + j] * u[dl.YA + t * Lm + j] * v[j * ly.total + ly.e + kSmMem * D + a];
        o[(row0 + t * d.H) * D + a] = T(acc);
      }
    } else {  // F13: piece-end states
      const double aL = u[dl.acum + L - 1], cL = u[dl.cc + L - 1], bL = u[dl.misc];
      const double *rL = u + dl.R + (L - 1) * Lm, *hL = u + dl.Hc + (L - 1) * Lm;
      for (int64_t it = tid; it < M * n; it += nt) {
        const int64_t m = it / n, e = it % n;
        T *W1 = S(kSmW1, m), *W2 = S(kSmW2, m), *S1 = S(kSmS1, m), *S2 = S(kSmS2, m);
        {  // W1, S1 element (a, c) of [D, Dh]
          const int64_t a = e / Dh, c = e % Dh;
          double w = 0, s = 0;
          for (int64_t j = 0; j < L; ++j) {
            const double ea = v[j * ly.total + ly.e + m * D + a] * u[dl.AC + (m * Lm + j) * Dh + c];
            w += hL[j] * ea;
            s += u[dl.eb + j] * ea;
          }
          const double w1 = double(W1[e]), s1 = double(S1[e]);
          W1[e] = T(aL * w1 + cL * s1 - w);
          S1[e] = T(bL * s1 - s);
        }
        {  // W2, S2 element (c, a) of [Dh, D]
          const int64_t c = e / D, a = e % D;
          double w = 0, s = 0;
          for (int64_t j = 0; j < L; ++j) {
            const double ka = v[j * ly.total + ly.kn + a];
            const int64_t mj = (m * Lm + j) * Dh + c;
            w += (rL[j] * u[dl.U + mj] - hL[j] * u[dl.GG + mj]) * ka;
            s += u[dl.eb + j] * u[dl.GG + mj] * ka;
          }
          const double w2 = double(W2[e]), s2 = double(S2[e]);
          W2[e] = T(aL * w2 + cL * s2 + w);
          S2[e] = T(bL * s2 - s);
        }
      }
    }
  }
};

}  // namespace nl::cuda

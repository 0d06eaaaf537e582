// SelfModifyingTitans in chunk ("dual") form on CUDA: the pieces, the per-(b, h) scratch layout and
// the per-piece coefficients shared by the forward (self_mod_dual.h) and the backward
// (self_mod_dual_backward.h, self_mod_dual_factors.h). Same algorithm and piece boundaries as the
// CPU dual form (cpu/self_mod_dual.h, cpu/self_mod_dual_backward.h): a piece is a run of tokens
// sharing every snapshot, cut also where a `block` of tokens starts (call positions multiples of
// block), so at most min(chunk_mem, chunk_other, block) tokens. 0-based t, j < L inside a piece:
//   A_t = prod_{i<=t} alpha_i, C_t = alpha_t C_{t-1} + beta^{t+1}, R[t, j] = prod_{j<i<=t} alpha_i,
//   H[t, j] = alpha_t H[t-1, j] + eta_j beta^{t-j} (H[j, j] = eta_j), eb_j = eta_j beta^{L-1-j}.
// Per-token snapshot-only quantities (k, gates, p, hv, e, cm) come from sm_token_phase
// (self_mod_token.h) into one SmLayout vector area per token of the piece ([Lmax, SmLayout::total]
// doubles); piece-local matrices live in a SmDualLayout area of doubles. States stay in the op's
// dtype in the work area [6][M][D Dh] (W2, S2, A2 [Dh, D]); every product accumulates in double.
#pragma once
#include <cstdint>

#include "cuda/kernels/self_mod_token.h"

namespace nl::cuda {

// Length of the piece starting at call token t of a launch covering [t, t1): cut at block starts
// (multiples of `block` in call tokens), at every snapshot (position tokens + t a multiple of
// chunk_mem or chunk_other) and at t1.
NL_HD int64_t sm_piece_len(const SelfModCudaDims& d, int64_t block, int64_t t, int64_t t1) {
  int64_t L = t1 - t;
  const int64_t pos = d.tokens + t, cuts[3] = {block - t % block, d.chunk_mem - pos % d.chunk_mem,
                                               d.chunk_other - pos % d.chunk_other};
  for (int64_t c : cuts) L = c < L ? c : L;
  return L;
}

// Pieces of [t0, t1) (host: the launch's phase count; device: the same walk).
inline int64_t sm_piece_count(const SelfModCudaDims& d, int64_t block, int64_t t0, int64_t t1) {
  int64_t n = 0;
  for (int64_t t = t0; t < t1; t += sm_piece_len(d, block, t, t1)) ++n;
  return n;
}

// Longest piece: min(chunk_mem, chunk_other, block, T), at least 1.
inline int64_t sm_piece_max(const SelfModCudaDims& d, int64_t block) {
  int64_t L = d.T > 0 ? d.T : 1;
  for (int64_t c : {d.chunk_mem, d.chunk_other, block}) L = c < L ? c : L;
  return L;
}

// Offsets (doubles) of a (b, h)'s piece-local arrays, L = the longest piece ([L, L], [L], [M, L, Dh]
// row-major; a piece of fewer tokens uses the first rows with its own row stride). The backward's
// arrays (from V on, zeroed per piece) follow the forward's.
struct SmDualLayout {
  int64_t L, LL, LH, LD, MLH, MLD, MLL, ML;
  // forward: coefficients, Gram K K^T, q.k, y.a; silu(p), g; K W2_0, K S2_0, u; mem's read rows
  int64_t acum, cc, eb, misc, R, Hc, G, QK, YA, AC, GG, P0, PS, U, QW, QS, Y, Z, pieces;
  // backward: v, du, dv, ends products, per-memory coefficient adjoints, per-token adjoints, reads
  int64_t V, dU, DV, X1, X2, X3, X4, dR, dH, dGm, dac, dcc, deb, det, dK, dE, dG, dA, dQ, dVv;
  int64_t N1, N2, NA, NB, ZU, ZG, NQ, XR1, XR2, DY, DZ, Rs, Hs, Gs, GALm, gal, get, dKt, dal, dte, total;
  NL_HD SmDualLayout(const SelfModCudaDims& d, int64_t Lmax, int64_t npieces) {
    L = Lmax, LL = L * L, LH = L * d.Dh, LD = L * d.D, MLH = d.M * LH, MLD = d.M * LD, MLL = d.M * LL, ML = d.M * L;
    int64_t o = 0;
    acum = o, o += L; cc = o, o += L; eb = o, o += L; misc = o, o += 8;
    R = o, o += LL; Hc = o, o += LL; G = o, o += LL; QK = o, o += LL; YA = o, o += LL;
    AC = o, o += MLH; GG = o, o += MLH; P0 = o, o += MLH; PS = o, o += MLH; U = o, o += MLH;
    QW = o, o += LH; QS = o, o += LH; Y = o, o += LH; Z = o, o += LH; pieces = o, o += npieces + 1;
    V = o, o += MLH; dU = o, o += MLH; DV = o, o += MLH; X1 = o, o += MLH; X2 = o, o += MLH; X3 = o, o += MLH;
    X4 = o, o += MLH; dR = o, o += MLL; dH = o, o += MLL; dGm = o, o += MLL; dac = o, o += ML; dcc = o, o += ML;
    deb = o, o += ML; det = o, o += ML; dK = o, o += MLD; dE = o, o += MLD; dG = o, o += MLH; dA = o, o += MLH;
    dQ = o, o += LD; dVv = o, o += MLD; N1 = o, o += LL; N2 = o, o += LL; NA = o, o += LL; NB = o, o += LL;
    ZU = o, o += MLL; ZG = o, o += MLL; NQ = o, o += LL; XR1 = o, o += LH; XR2 = o, o += LH; DY = o, o += LH;
    DZ = o, o += LH; Rs = o, o += LL; Hs = o, o += LL; Gs = o, o += LL; GALm = o, o += LL; gal = o, o += L;
    get = o, o += L; dKt = o, o += LD; dal = o, o += L; dte = o, o += L;
    total = o;
  }
};

// The piece a phase works on: start t (call token), length L, the token vector areas (row l at
// v + l * ly.total) and the piece-local arrays (dual area u).
struct SmPiece {
  int64_t t, L;
};

// Piece i of a launch: starts written by thread 0 in phase 0 (sm_pieces_fill) into u + dl.pieces.
NL_HD SmPiece sm_piece_at(const double* u, const SmDualLayout& dl, int64_t i) {
  const int64_t a = int64_t(u[dl.pieces + i]), b = int64_t(u[dl.pieces + i + 1]);
  return SmPiece{a, b - a};
}
NL_HD void sm_pieces_fill(const SelfModCudaDims& d, int64_t block, int64_t t0, int64_t t1, double* u,
                                 const SmDualLayout& dl) {
  int64_t i = 0, t = t0;
  for (; t < t1; t += sm_piece_len(d, block, t, t1)) u[dl.pieces + i++] = double(t);
  u[dl.pieces + i] = double(t1);
}

// Coefficients of a piece (gates alpha_t, eta_t in the token areas): thread 0 the [L] rows and
// beta^L (misc[0]); threads over columns j the recurrences of R[:, j], H[:, j]; threads over (t, j)
// the Gram matrix and (with reads) q_t . k_j; threads over (m, t, c) silu(p) and g = cm silu'(p).
template <class T>
NL_HD void sm_dual_coefficients(const SelfModCudaDims& d, const SmLayout& ly, const SmDualLayout& dl,
                                const double* v, double* u, int64_t L, const T* q, int64_t qrow0, int64_t qstride,
                                bool reads, unsigned tid, unsigned nt) {
  const double beta = d.momentum;
  const int64_t D = d.D, Dh = d.Dh, Lm = dl.L;
  auto al = [&](int64_t t) { return v[t * ly.total + ly.sc + 1]; };
  auto et = [&](int64_t t) { return v[t * ly.total + ly.sc + 3]; };
  if (tid == 0) {
    double bp = 1;
    for (int64_t t = 0; t < L; ++t) {
      bp *= beta;
      u[dl.acum + t] = (t > 0 ? u[dl.acum + t - 1] : 1.0) * al(t);
      u[dl.cc + t] = (t > 0 ? al(t) * u[dl.cc + t - 1] : 0.0) + bp;
    }
    u[dl.misc] = bp;
    double pw = 1;
    for (int64_t j = L - 1; j >= 0; --j, pw *= beta) u[dl.eb + j] = et(j) * pw;
  }
  for (int64_t j = tid; j < L; j += nt) {
    double r = 1, h = et(j), bj = 1;
    for (int64_t t = 0; t < L; ++t) {
      if (t > j) {
        bj *= beta;
        r *= al(t);
        h = al(t) * h + et(j) * bj;
      }
      u[dl.R + t * Lm + j] = t >= j ? r : 0.0;
      u[dl.Hc + t * Lm + j] = t >= j ? h : 0.0;
    }
  }
  for (int64_t it = tid; it < L * L; it += nt) {
    const int64_t t = it / L, j = it % L;
    const double *kt = v + t * ly.total + ly.kn, *kj = v + j * ly.total + ly.kn;
    double g = 0, qk = 0;
    for (int64_t c = 0; c < D; ++c) g += kt[c] * kj[c];
    u[dl.G + t * Lm + j] = g;
    if (!reads) continue;
    const SmQuery<T> qv{d.adaptive_q ? v + t * ly.total + ly.gen + kSmQ * D : nullptr, q + (qrow0 + t * qstride) * D};
    for (int64_t c = 0; c < D; ++c) qk += qv[c] * kj[c];
    u[dl.QK + t * Lm + j] = qk;
  }
  for (int64_t it = tid; it < d.M * L * Dh; it += nt) {
    const int64_t m = it / (L * Dh), t = it / Dh % L, c = it % Dh;
    const double* vt = v + t * ly.total;
    const double p = vt[ly.p + m * Dh + c];
    u[dl.AC + (m * Lm + t) * Dh + c] = sm_silu(p);
    u[dl.GG + (m * Lm + t) * Dh + c] = vt[ly.cm + m * Dh + c] * sm_d1(p);
  }
}

// P0 = K W2_0^T, PS = K S2_0^T [M, L, Dh] (threads over (m, t, c)); with reads, mem's QW = Q W2_0^T,
// QS = Q S2_0^T [L, Dh] (QW = Q A2^T of the snapshot with read_snapshot). st: the piece-start work area.
template <class T>
NL_HD void sm_dual_p0(const SelfModCudaDims& d, const SmLayout& ly, const SmDualLayout& dl, const double* v,
                      double* u, int64_t L, const T* st, const T* q, int64_t row0, bool reads, unsigned tid,
                      unsigned nt) {
  const int64_t D = d.D, Dh = d.Dh, M = d.M, n = d.n(), Lm = dl.L;
  for (int64_t it = tid; it < M * L * Dh; it += nt) {
    const int64_t m = it / (L * Dh), t = it / Dh % L, c = it % Dh;
    const T *W2 = st + (kSmW2 * M + m) * n + c * D, *S2 = st + (kSmS2 * M + m) * n + c * D;
    const double* k = v + t * ly.total + ly.kn;
    double a = 0, s = 0;
    for (int64_t i = 0; i < D; ++i) {
      a += double(W2[i]) * k[i];
      s += double(S2[i]) * k[i];
    }
    u[dl.P0 + (m * Lm + t) * Dh + c] = a;
    u[dl.PS + (m * Lm + t) * Dh + c] = s;
  }
  for (int64_t it = tid; it < L * Dh && reads; it += nt) {
    const int64_t t = it / Dh, c = it % Dh;
    const T* W2 = st + ((d.read_snapshot ? kSmA2 : kSmW2) * M + kSmMem) * n + c * D;
    const T* S2 = st + (kSmS2 * M + kSmMem) * n + c * D;
    const SmQuery<T> qv{d.adaptive_q ? v + t * ly.total + ly.gen + kSmQ * D : nullptr, q + (row0 + t * d.H) * D};
    double a = 0, s = 0;
    for (int64_t i = 0; i < D; ++i) {
      a += double(W2[i]) * qv[i];
      s += double(S2[i]) * qv[i];
    }
    u[dl.QW + it] = a;
    u[dl.QS + it] = s;
  }
}

// u_t = -eta_t v_t, v_t = A_{t-1} P0_t + C_{t-1} PS_t + sum_{j<t} G[t, j] (R[t-1, j] u_j - H[t-1, j] g_j):
// forward substitution, one thread per (memory, hidden unit) column. V (when keep_v) keeps v_t.
NL_HD void sm_dual_solve_u(const SelfModCudaDims& d, const SmLayout& ly, const SmDualLayout& dl,
                                  const double* v, double* u, int64_t L, bool keep_v, unsigned tid, unsigned nt) {
  const int64_t Dh = d.Dh, Lm = dl.L;
  for (int64_t it = tid; it < d.M * Dh; it += nt) {
    const int64_t m = it / Dh, c = it % Dh;
    for (int64_t t = 0; t < L; ++t) {
      const int64_t mt = (m * Lm + t) * Dh + c;
      double z = t > 0 ? u[dl.acum + t - 1] * u[dl.P0 + mt] + u[dl.cc + t - 1] * u[dl.PS + mt] : u[dl.P0 + mt];
      for (int64_t j = 0; j < t; ++j) {
        const int64_t mj = (m * Lm + j) * Dh + c, pj = (t - 1) * Lm + j;
        z += u[dl.G + t * Lm + j] * (u[dl.R + pj] * u[dl.U + mj] - u[dl.Hc + pj] * u[dl.GG + mj]);
      }
      if (keep_v) u[dl.V + mt] = z;
      u[dl.U + mt] = -v[t * ly.total + ly.sc + 3] * z;
    }
  }
}

// Thread tid's index for token l of a piece's token phases: rotated by a warp per token, so the
// one-thread steps of sm_token_phase (k's norm, the gates) of different tokens run on different warps.
NL_HD unsigned sm_token_tid(unsigned tid, unsigned nt, int64_t l) {
  return unsigned((int64_t(tid) + nt - (l * 32) % nt) % nt);
}

// Reads of a piece's token rows (v) and piece-local arrays (u) by (memory, token, column).
struct SmDualView {
  const double* v;
  double* u;
  SmLayout ly;
  SmDualLayout dl;
  int64_t D, Dh, Lm;
  NL_HD const double* tok(int64_t t) const { return v + t * ly.total; }
  NL_HD double k(int64_t t, int64_t a) const { return tok(t)[ly.kn + a]; }
  NL_HD double e(int64_t m, int64_t t, int64_t a) const { return tok(t)[ly.e + m * D + a]; }
  NL_HD double gen(int64_t m, int64_t t, int64_t a) const { return tok(t)[ly.gen + m * D + a]; }
  NL_HD double al(int64_t t) const { return tok(t)[ly.sc + 1]; }
  NL_HD double et(int64_t t) const { return tok(t)[ly.sc + 3]; }
  NL_HD int64_t mh(int64_t m, int64_t t, int64_t c) const { return (m * Lm + t) * Dh + c; }  // [M, L, Dh]
  NL_HD int64_t md(int64_t m, int64_t t, int64_t a) const { return (m * Lm + t) * D + a; }   // [M, L, D]
  NL_HD int64_t ml(int64_t m, int64_t t, int64_t j) const { return (m * Lm + t) * Lm + j; }  // [M, L, L]
  NL_HD double& at(int64_t off, int64_t i) const { return u[off + i]; }
  NL_HD double a0(int64_t t) const { return t > 0 ? u[dl.acum + t - 1] : 1.0; }  // A_{t-1}
  NL_HD double c0(int64_t t) const { return t > 0 ? u[dl.cc + t - 1] : 0.0; }    // C_{t-1}
};

}  // namespace nl::cuda

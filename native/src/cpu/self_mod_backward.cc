// SelfModifyingTitans fused CPU backward (see self_mod.h), per (batch, head):
//   1. the forward recurrence (no reads; chunk form with dims.dual) stores the six states of every
//      memory at block starts (skipped when the forward kept them);
//   (W2, S2, A2 and their adjoints are transposed inside, [D, Dh], as in the worker.)
//   2. blocks last to first: the block is recomputed from its start state, keeping the pre-token
//      W1, W2 of every memory (`slots`, [block + 1][M][2][D Dh]: each token's write goes from its
//      slot to the next, no copies) and the snapshot-only rows; then
//      its pieces (tokens sharing every snapshot) are reversed: token by token for the read and the
//      W/S recurrence (running adjoints dW1, dW2, dS1, dS2, dA1, dA2 of every memory) or, with
//      dims.dual, the whole piece at once in chunk form (self_mod_dual_backward.h: the recompute then
//      runs the chunk forward and keeps only each piece's start states, no per-token slots), then the
//      snapshot-only maths of the whole piece (inner-gradient factors, targets, generators, k's
//      normalisation, gates) with small GEMMs; at a piece's snapshot dW += dA, dA = 0.
// Per-token weights exist only for one block at a time. Rows of D / Dh values run as explicit SIMD
// vectors (self_mod_vec.h); a token's dk sums over all memories before its lanes are added; the
// scratch stays per thread between calls (scratch_for).
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/chunking.h"
#include "cpu/self_mod.h"
#include "cpu/self_mod_dual.h"
#include "cpu/self_mod_dual_backward.h"
#include "cpu/self_mod_work.h"
#include "cpu/thread_pool.h"

namespace nl {
namespace {

using namespace self_mod_detail;
using memvec::dot;
using memvec::transpose;

// y += alpha x on a row of n values.
template <typename F>
inline void axpy_row(int64_t n, F alpha, const F* x, F* y) {
  each<F>(n, [&](auto tag, int64_t c) {
    using P = decltype(tag);
    vstore(y + c, vload<P>(y + c) + alpha * vload<P>(x + c));
  });
}

template <typename F>
struct Piece {
  int64_t r0, L, pos;
  std::vector<const F*> a1, a2;  // snapshot of each memory
  const F* tr;                   // [M] A1^T, then [M] A2, each [Dh, D] (kept from the recompute)
  const F* st0;                  // dual: [4][M] piece-start W1, W2, S1, S2 (null in token form)
};

template <typename F>
struct Back {
  Back(const SelfModDims& dims, int64_t nblk) : w(dims), d(w.d), nblk_cap(nblk) {
    const int64_t D = dims.d, Dh = dims.hidden, M = dims.mems, n = D * Dh, Lb = dims.block;
    ckpt.resize(static_cast<size_t>(nblk * kSelfModStates * M * n));
    if (!dims.dual) slots.resize(static_cast<size_t>((Lb + 1) * 2 * M * n));  // the token form's only
    dst.resize(static_cast<size_t>(kSelfModStates * M * n));
    for (auto* v : {&dK, &dV, &dQv, &dX, &dXV, &dGen}) v->resize(static_cast<size_t>(Lb * D));
    for (auto* v : {&dal, &det}) v->resize(static_cast<size_t>(Lb));
    dE.resize(static_cast<size_t>(M * Lb * D));
    for (auto* v : {&dG, &dAc}) v->resize(static_cast<size_t>(M * Lb * Dh));
    for (auto* v : {&t1, &t2, &tm}) v->resize(static_cast<size_t>(Lb * Dh));
    vec.resize(static_cast<size_t>(4 * std::max(D, Dh)));
    for (auto* v : {&kacc_v, &zacc}) v->resize(static_cast<size_t>(D));
    for (auto* v : {&kacc_s, &zsum, &zlanes}) v->resize(static_cast<size_t>(D));
  }
  Worker<F> w;
  const SelfModDims& d;  // w.d: the call's
  int64_t nblk_cap;      // block-start states ckpt holds
  bool fits(const SelfModDims& o) const {
    return w.fits(o) && nblk_need(o) <= nblk_cap && (o.dual || !slots.empty());
  }
  void set_dims(const SelfModDims& o) { w.set_dims(o); }
  static int64_t nblk_need(const SelfModDims& o) { return (o.seq + o.block - 1) / o.block; }
  std::vector<F> ckpt, slots, dst, dK, dV, dQv, dX, dXV, dGen, dal, det, dE, dG, dAc, t1, t2, tm, vec;
  std::vector<std::vector<F>> tcache;  // per piece of the block: its snapshots transposed (Piece::tr)
  std::vector<std::vector<F>> scache;  // dual: per piece its start states (Piece::st0)
  DualBack<F>* db = nullptr;           // dual: the piece backward (set per call)
  std::vector<Piece<F>> pieces;
  std::vector<Vec<F>> kacc_v;  // [D] lanes of a token's dk_j over every memory's write (summed once)
  std::vector<F> kacc_s;       // [D] the scalar tails of the same (Dh not a multiple of the lanes)
  std::vector<Vec<F>> zacc;    // [D] write_back's row products (dS1 + dW1)_i a, lanes
  std::vector<F> zsum, zlanes;  // [D] their scalar tails; lane sums

  F* slot(int64_t r, int64_t m, int s) { return slots.data() + ((r * w.M + m) * 2 + s) * w.n; }
  F* dS(int s, int64_t m) { return dst.data() + (s * w.M + m) * w.n; }

  // Recomputes block rows [0, bl) (call tokens t0..) from the state in w.st, filling slots and pieces.
  void recompute(int64_t b, int64_t h, int64_t t0, int64_t bl, const F* x, const F* q, const F* xv, const F* ck,
                 Dual<F>* du) {
    const int64_t M = w.M, n = w.n, D = w.D, Dh = w.Dh;
    std::vector<const F*> a1(M), a2(M);
    for (int64_t m = 0; m < M; ++m) {
      a1[m] = ck + (kA1 * M + m) * n;
      a2[m] = ck + (kA2 * M + m) * n;
    }
    pieces.clear();
    if (!du) w.weights_to(slot(0, 0, 0));
    for (int64_t r = 0; r < bl;) {
      const int64_t pos = d.tokens + t0 + r;
      const int64_t L = std::min(bl - r, w.snapshot(pos));
      const size_t pi = pieces.size();
      if (tcache.size() <= pi) tcache.emplace_back(static_cast<size_t>(2 * M * n));
      if (du && scache.size() <= pi) scache.emplace_back(static_cast<size_t>(4 * M * n));
      F* st0 = du ? scache[pi].data() : nullptr;
      if (du) std::copy(w.st.begin(), w.st.begin() + 4 * M * n, st0);  // W1, W2, S1, S2 (kW1..kS2)
      for (int64_t m = 0; m < M; ++m) {
        if (pos % w.chunk_of(m) == 0) {
          a1[m] = du ? st0 + (kW1 * M + m) * n : slot(r, m, 0);
          a2[m] = du ? st0 + (kW2 * M + m) * n : slot(r, m, 1);
        }
      }
      F* tr = tcache[pi].data();
      pieces.push_back(Piece<F>{r, L, pos, a1, a2, tr, st0});
      w.precompute(b, h, t0 + r, r, L, x, q, xv);  // (transposes the snapshots A1 into w.A1t)
      std::copy(w.A1t.begin(), w.A1t.begin() + M * n, tr);
      for (int64_t m = 0; m < M; ++m) transpose<F>(D, Dh, w.S(kA2, m), Dh, tr + (M + m) * n, D);
      if (du) du->piece(w, r, L, nullptr, 0);
      else for (int64_t i = r; i < r + L; ++i) w.step(i, slot(i + 1, 0, 0), nullptr);
      r += L;
    }
    w.weights_home();
  }

  // Adjoint of row r's read of mem (o = q + W1 silu(W2 q)).
  void read_back(const Piece<F>& p, int64_t r, const F* dor) {
    const int64_t D = w.D, Dh = w.Dh;
    const bool snap = d.read_snapshot;
    const F* W1 = snap ? p.a1[kMem] : slot(r + 1, kMem, 0);
    const F* W2 = snap ? p.a2[kMem] : slot(r + 1, kMem, 1);
    F* dW1 = dS(snap ? kA1 : kW1, kMem);
    F* dW2 = dS(snap ? kA2 : kW2, kMem);
    const F* qv = w.Qv.data() + r * D;
    F* dq = dQv.data() + r * D;
    F *pre = vec.data(), *z = pre + Dh, *dz = z + Dh, *sp = dz + Dh;
    rows_combine(D, Dh, qv, W2, pre);  // W2 q
    sigmoid_n(Dh, pre, sp);
    for (int64_t i = 0; i < Dh; ++i) z[i] = pre[i] * sp[i];
    rows_combine(D, Dh, dor, W1, dz);  // W1^T do
    for (int64_t c = 0; c < D; ++c) {
      dq[c] += dor[c];
      axpy_row(Dh, dor[c], z, dW1 + c * Dh);
    }
    F* dr = pre;
    for (int64_t i = 0; i < Dh; ++i) dr[i] = dz[i] * d1s(pre[i], sp[i]);
    for (int64_t j = 0; j < D; ++j) {
      axpy_row(Dh, qv[j], dr, dW2 + j * Dh);
      dq[j] += vdot(Dh, W2 + j * Dh, dr);
    }
  }

  // Adjoint of row r's write of memory m (the running adjoints go from post- to pre-token); its
  // dk share accumulates in kacc_v / kacc_s (piece_back adds them to dK).
  void write_back(int64_t r, int64_t m) {
    const int64_t D = w.D, Dh = w.Dh;
    const F alpha = w.al[r], eta = w.et[r], beta = static_cast<F>(d.momentum);
    const F *k = w.Kn.data() + r * D, *e = w.row(w.E, m, r, D), *a = w.row(w.Ac, m, r, Dh);
    const F* g = w.row(w.Gg, m, r, Dh);
    const F *W1 = slot(r, m, 0), *W2 = slot(r, m, 1);
    F *dW1 = dS(kW1, m), *dW2 = dS(kW2, m), *dS1 = dS(kS1, m), *dS2 = dS(kS2, m);
    F* dg = dG.data() + (m * w.Lb + r) * Dh;
    F *de = dE.data() + (m * w.Lb + r) * D, *da = dAc.data() + (m * w.Lb + r) * Dh;
    F dalpha = 0, deta = 0;
    // W2 <- alpha W2 - eta (W2 k) k^T + S2,  S2 <- beta S2 - eta g k^T  (rows j of the transposes)
    F *u = vec.data(), *wk = u + Dh, *y = wk + Dh;
    each<F>(Dh, [&](auto tag, int64_t c) {  // u = W2 k, wk = dW2' k, y = (dS2' + dW2') k
      using P = decltype(tag);
      P acc[2][4];  // two sets (even / odd rows): shorter dependency chains
      for (auto& st4 : acc) {
        for (auto& v : st4) v = P{} + F(0);
      }
      for (int64_t j = 0; j < D; ++j) {
        P* A = acc[j & 1];
        const P w2 = vload<P>(W2 + j * Dh + c), dw = vload<P>(dW2 + j * Dh + c);
        A[0] += k[j] * w2;
        A[1] += k[j] * dw;
        A[2] += k[j] * vload<P>(dS2 + j * Dh + c);
        A[3] += w2 * dw;
      }
      const P aw = acc[0][1] + acc[1][1];
      vstore(u + c, acc[0][0] + acc[1][0]);
      vstore(wk + c, aw);
      vstore(y + c, acc[0][2] + acc[1][2] + aw);
      dalpha += hsum(acc[0][3] + acc[1][3]);
    });
    for (int64_t i = 0; i < Dh; ++i) {
      deta -= u[i] * wk[i] + g[i] * y[i];
      dg[i] -= eta * y[i];
    }
    for (int64_t j = 0; j < D; ++j) {  // dk_j -= eta (u . dW2'_j + wk . W2_j + g . dS2n_j), lanes in kacc
      const F* w2 = W2 + j * Dh;
      F *dw = dW2 + j * Dh, *ds = dS2 + j * Dh;
      const F ek = eta * k[j];
      each<F>(Dh, [&](auto tag, int64_t i) {
        using P = decltype(tag);
        const P dwi = vload<P>(dw + i), dsn = vload<P>(ds + i) + dwi, wki = vload<P>(wk + i);
        const P t = vload<P>(u + i) * dwi + wki * vload<P>(w2 + i) + vload<P>(g + i) * dsn;
        if constexpr (sizeof(P) == sizeof(F)) kacc_s[j] += t;
        else kacc_v[j] += t;
        vstore(dw + i, alpha * dwi - ek * wki);
        vstore(ds + i, beta * dsn);
      });
    }
    // W1 <- alpha W1 + S1,  S1 <- beta S1 - eta e a^T: per column block (outer), rows i (inner), so
    // the sums over rows (da, dalpha) stay in registers; z_i = (dS1 + dW1)_i . a collects in zacc
    // (lanes, summed for all rows at once) and z (scalar tails).
    F* z = zsum.data();
    std::fill(z, z + D, F(0));
    std::fill(zacc.begin(), zacc.end(), Vec<F>{} + F(0));
    each<F>(Dh, [&](auto tag, int64_t j) {
      using P = decltype(tag);
      const P aj = vload<P>(a + j);
      P dacc[2] = {P{} + F(0), P{} + F(0)}, dal2[2] = {P{} + F(0), P{} + F(0)};
      for (int64_t i = 0; i < D; ++i) {
        F *dw = dW1 + i * Dh + j, *ds = dS1 + i * Dh + j;
        const P dwj = vload<P>(dw), dsn = vload<P>(ds) + dwj;
        dal2[i & 1] += vload<P>(W1 + i * Dh + j) * dwj;
        dacc[i & 1] -= (eta * e[i]) * dsn;
        if constexpr (sizeof(P) == sizeof(F)) z[i] += dsn * aj;
        else zacc[i] += dsn * aj;
        vstore(dw, alpha * dwj);
        vstore(ds, beta * dsn);
      }
      vstore(da + j, vload<P>(da + j) + dacc[0] + dacc[1]);
      dalpha += hsum(dal2[0] + dal2[1]);
    });
    hsum_rows(D, zacc.data(), zlanes.data());
    for (int64_t i = 0; i < D; ++i) {
      const F zi = z[i] + zlanes[i];
      de[i] -= eta * zi;
      deta -= e[i] * zi;
    }
    dal[r] += dalpha;
    det[r] += deta;
  }

  // dA += Z^T Y (Z [L, cz] rows, Y [L, cy] rows).
  void acc_t(int64_t L, int64_t cz, const F* Z, int64_t cy, const F* Y, F* dA) {
    gemm<F, true>(cz, cy, L, Z, cz, Y, cy, dA, cy, true);
  }

  // Snapshot-only maths of piece p, reversed for memory m: the clip (dims.clip), inner-gradient
  // factors and targets.
  void factors_back(const Piece<F>& p, int64_t m) {
    const int64_t D = w.D, Dh = w.Dh, L = p.L, r0 = p.r0, n = w.n;
    const F* A1 = p.a1[m];
    const F *A1t = p.tr + m * n, *A2n = p.tr + (w.M + m) * n;  // A1^T, A2 [Dh, D]
    const F *P = w.row(w.P, m, r0, Dh), *Cm = w.row(w.Cm, m, r0, Dh), *Ac = w.row(w.Ac, m, r0, Dh);
    const bool clip = d.clip > 0;
    const F* Hv = w.row(w.Hv, m, r0, Dh);
    const F* E = clip ? w.row(w.E0, m, r0, D) : w.row(w.E, m, r0, D);  // the unscaled e (Cm's)
    const F *SP = w.row(w.SP, m, r0, Dh), *SHv = w.row(w.SHv, m, r0, Dh);
    const F *K = w.Kn.data() + r0 * D, *V = w.row(w.Gen, kV, r0, D);
    F *dg = dG.data() + (m * w.Lb + r0) * Dh, *de = dE.data() + (m * w.Lb + r0) * D;
    F* da = dAc.data() + (m * w.Lb + r0) * Dh;
    if (clip) {  // adjoints of the scaled e, g -> of the unscaled ones (+ a's and k's through s)
      clip_backward<F>(L, D, Dh, static_cast<F>(d.clip), K, Ac, E, w.row(w.G0, m, r0, Dh), w.Sc.data() + m * w.Lb + r0,
                       w.N2.data() + m * w.Lb + r0, de, dg, da, dK.data() + r0 * D);
    }
    F *x1 = t1.data(), *x2 = t2.data(), *xm = tm.data();
    F *dA1 = dS(kA1, m), *dA2 = dS(kA2, m);
    for (int64_t i = 0; i < L * Dh; ++i) {  // g = Cm . silu'(p)
      x1[i] = dg[i] * d1s(P[i], SP[i]);
      x2[i] = dg[i] * Cm[i] * d2s(P[i], SP[i]);
    }
    gemm<F>(L, D, Dh, x1, Dh, A1t, D, de, D, true);  // Cm = E A1
    acc_t(L, D, E, Dh, x1, dA1);
    F *dk = dK.data() + r0 * D, *dv = dV.data() + r0 * D;
    for (int64_t i = 0; i < L * D; ++i) {  // e = k - v + A1 (silu(p) - silu(hv))
      dk[i] += de[i];
      dv[i] -= de[i];
    }
    gemm<F>(L, Dh, D, de, D, A1, Dh, x1, Dh, false);  // Y = dE A1
    for (int64_t i = 0; i < L * Dh; ++i) {
      x2[i] += (da[i] + x1[i]) * d1s(P[i], SP[i]);  // dp
      xm[i] = Ac[i] - Hv[i] * SHv[i];
      x1[i] = -x1[i] * d1s(Hv[i], SHv[i]);  // dhv
    }
    acc_t(L, D, de, Dh, xm, dA1);
    acc_t(L, D, K, Dh, x2, dA2);  // p = A2 k (dA2 transposed)
    acc_t(L, D, V, Dh, x1, dA2);  // hv = A2 v
    gemm<F>(L, D, Dh, x2, Dh, A2n, D, dk, D, true);
    gemm<F>(L, D, Dh, x1, Dh, A2n, D, dv, D, true);
  }

  // Generators of piece p reversed (k's normalisation and the gates first); dx rows accumulate in dX
  // (generator v's in dXV when the call has a value input).
  void generators_back(const Piece<F>& p) {
    const int64_t D = w.D, Dh = w.Dh, L = p.L, r0 = p.r0;
    const F inv_d = F(1) / static_cast<F>(D);
    for (int64_t r = r0; r < r0 + L; ++r) {
      const F* kr = w.row(w.Gen, kK, r, D);
      F* dk = dK.data() + r * D;
      const F nr = w.nrm[r], den = nr + F(1e-6);
      const F s = nr > 0 ? dot(kr, dk, D) / (nr * den * den) : F(0);
      for (int64_t c = 0; c < D; ++c) dk[c] = dk[c] / den - s * kr[c];
      const F a = w.al[r], bgt = w.bg[r];
      dal[r] += bgt * det[r];
      det[r] = a * det[r] * bgt * (F(1) - bgt) * inv_d;  // d(mean + eta_bias) / D
      dal[r] = dal[r] * a * (F(1) - a) * inv_d;
    }
    for (int64_t m = 0; m < w.M; ++m) {
      if (!w.is_gen(m)) continue;
      const F* dgen;
      if (m == kK) dgen = dK.data() + r0 * D;
      else if (m == kV) dgen = dV.data() + r0 * D;
      else if (m == kQ) dgen = dQv.data() + r0 * D;
      else {
        const F* src = (m == kAlpha ? dal : det).data();
        for (int64_t i = 0; i < L; ++i) std::fill(dGen.data() + i * D, dGen.data() + (i + 1) * D, src[r0 + i]);
        dgen = dGen.data();
      }
      const F *A1 = p.a1[m], *Hg = w.row(w.Hg, m, r0, Dh), *X = w.gen_in(m).data() + r0 * D;
      const F* SHg = w.row(w.SHg, m, r0, Dh);
      F* dx = (m == kV && w.xv_on ? dXV : dX).data() + r0 * D;
      for (int64_t i = 0; i < L * D; ++i) dx[i] += dgen[i];
      for (int64_t i = 0; i < L * Dh; ++i) tm[i] = Hg[i] * SHg[i];
      acc_t(L, D, dgen, Dh, tm.data(), dS(kA1, m));
      gemm<F>(L, Dh, D, dgen, D, A1, Dh, t1.data(), Dh, false);
      for (int64_t i = 0; i < L * Dh; ++i) t1[i] *= d1s(Hg[i], SHg[i]);
      acc_t(L, D, X, Dh, t1.data(), dS(kA2, m));
      gemm<F>(L, D, Dh, t1.data(), Dh, p.tr + (w.M + m) * w.n, D, dx, D, true);  // A2 [Dh, D]
    }
  }

  void piece_back(const Piece<F>& p, int64_t b, int64_t h, int64_t t0, const F* d_o, F* dxo, F* dqo, F* dxvo) {
    const int64_t D = w.D, Dh = w.Dh, M = w.M, T = d.seq, H = d.heads, L = p.L, r0 = p.r0, n = w.n;
    for (auto* v : {&dK, &dV, &dQv, &dX, &dXV}) std::fill(v->begin() + r0 * D, v->begin() + (r0 + L) * D, F(0));
    std::fill(dal.begin() + r0, dal.begin() + r0 + L, F(0));
    std::fill(det.begin() + r0, det.begin() + r0 + L, F(0));
    for (int64_t m = 0; m < M; ++m) {
      std::fill(dE.begin() + (m * w.Lb + r0) * D, dE.begin() + (m * w.Lb + r0 + L) * D, F(0));
      std::fill(dG.begin() + (m * w.Lb + r0) * Dh, dG.begin() + (m * w.Lb + r0 + L) * Dh, F(0));
      std::fill(dAc.begin() + (m * w.Lb + r0) * Dh, dAc.begin() + (m * w.Lb + r0 + L) * Dh, F(0));
    }
    if (p.st0) {  // dual form: the whole piece at once (reads of snapshots token by token)
      const F* dor = d_o + ((b * T + t0 + r0) * H + h) * D;
      if (d.read_snapshot) {
        for (int64_t r = r0; r < r0 + L; ++r) read_back(p, r, d_o + ((b * T + t0 + r) * H + h) * D);
      }
      const DualGrads<F> gr{dK.data(), dQv.data(), dE.data(), dG.data(), dAc.data(), dal.data(), det.data()};
      db->back(w, p.st0, dst.data(), r0, L, d.read_snapshot ? nullptr : dor, H * D, gr);
    }
    for (int64_t r = r0 + L - 1; r >= r0 && !p.st0; --r) {
      read_back(p, r, d_o + ((b * T + t0 + r) * H + h) * D);
      std::fill(kacc_v.begin(), kacc_v.end(), Vec<F>{} + F(0));
      std::fill(kacc_s.begin(), kacc_s.end(), F(0));
      for (int64_t m = 0; m < M; ++m) write_back(r, m);
      F* dk = dK.data() + r * D;
      hsum_rows(D, kacc_v.data(), zlanes.data());
      for (int64_t j = 0; j < D; ++j) dk[j] -= w.et[r] * (zlanes[j] + kacc_s[j]);
    }
    for (int64_t m = 0; m < M; ++m) factors_back(p, m);
    generators_back(p);
    for (int64_t r = r0; r < r0 + L; ++r) {
      const int64_t off = ((b * T + t0 + r) * H + h) * D;
      std::copy(dX.data() + r * D, dX.data() + (r + 1) * D, dxo + off);
      if (dxvo) std::copy(dXV.data() + r * D, dXV.data() + (r + 1) * D, dxvo + off);
      if (d.adaptive_q) std::fill(dqo + off, dqo + off + D, F(0));
      else std::copy(dQv.data() + r * D, dQv.data() + (r + 1) * D, dqo + off);
    }
    for (int64_t m = 0; m < M; ++m) {  // the snapshot A <- W taken at the piece start
      if (p.pos % w.chunk_of(m) != 0) continue;
      for (int s = 0; s < 2; ++s) {
        F *dA = dS(kA1 + s, m), *dW = dS(kW1 + s, m);
        for (int64_t i = 0; i < n; ++i) dW[i] += dA[i];
        std::fill(dA, dA + n, F(0));
      }
    }
  }
};

}  // namespace

template <typename F>
void self_mod_backward(const SelfModDims& dims, const F* x, const F* q, const F* const* state, const F* d_o,
                       const F* const* d_state, F* dx, F* dq, F* const* d_init, const F* ckpt, const F* xv,
                       F* dxv) {
  SelfModDims d = dims;  // one block when block >= T (same result, scratch by the real block)
  d.block = effective_tile(d.block, d.seq);
  const int64_t T = d.seq, H = d.heads, nblk = (T + d.block - 1) / d.block;
  parallel_for_dynamic(d.batch * d.heads, 1, [&](int64_t begin, int64_t end) {
    SelfModDims need = d;  // the ckpt buffer is only needed without the forward's
    if (ckpt) need.seq = 0;
    Back<F>& k = scratch_for<Back<F>>(need, [&] { return std::make_unique<Back<F>>(need, ckpt ? 0 : nblk); });
    k.set_dims(d);
    Dual<F>* du = d.dual ? &scratch_for<Dual<F>>(d, [&] { return std::make_unique<Dual<F>>(d); }) : nullptr;
    k.db = du ? &scratch_for<DualBack<F>>(d, [&] { return std::make_unique<DualBack<F>>(d); }) : nullptr;
    Worker<F>& w = k.w;
    const size_t ns = w.st.size();
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / H, h = bh % H;
      const F* cks = ckpt ? ckpt + bh * nblk * static_cast<int64_t>(ns) : k.ckpt.data();
      w.load(b, h, state);
      for (int64_t j = 0; j < nblk && !ckpt; ++j) {  // block-start states (unless the forward kept them)
        std::copy(w.st.begin(), w.st.end(), k.ckpt.begin() + j * ns);
        if (j == nblk - 1) break;  // the last block's end state is never needed
        const int64_t t0 = j * d.block, bl = std::min(d.block, T - t0);
        for (int64_t r = 0; r < bl;) {
          const int64_t L = std::min(bl - r, w.snapshot(d.tokens + t0 + r));
          w.precompute(b, h, t0 + r, r, L, x, q, xv);
          if (du) du->piece(w, r, L, nullptr, 0);
          else for (int64_t i = r; i < r + L; ++i) w.step(i, nullptr, nullptr);
          r += L;
        }
      }
      std::swap(w.st, k.dst);
      w.load(b, h, d_state);  // final-state gradients
      std::swap(w.st, k.dst);
      for (int64_t j = nblk - 1; j >= 0; --j) {
        const int64_t t0 = j * d.block, bl = std::min(d.block, T - t0);
        const F* ck = cks + j * ns;
        std::copy(ck, ck + ns, w.st.begin());
        w.invalidate();
        k.recompute(b, h, t0, bl, x, q, xv, ck, du);
        for (auto p = k.pieces.rbegin(); p != k.pieces.rend(); ++p) {
          k.piece_back(*p, b, h, t0, d_o, dx, dq, xv ? dxv : nullptr);
        }
      }
      w.store(b, h, k.dst, d_init);
    }
  });
}

template void self_mod_backward<float>(const SelfModDims&, const float*, const float*, const float* const*,
                                       const float*, const float* const*, float*, float*, float* const*,
                                       const float*, const float*, float*);
template void self_mod_backward<double>(const SelfModDims&, const double*, const double*, const double* const*,
                                        const double*, const double* const*, double*, double*, double* const*,
                                        const double*, const double*, double*);

}  // namespace nl

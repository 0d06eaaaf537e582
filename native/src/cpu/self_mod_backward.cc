// SelfModifyingTitans fused CPU backward (see self_mod.h), per (batch, head):
//   1. the forward recurrence (no reads) stores the six states of every memory at block starts;
//   (W2, S2, A2 and their adjoints are transposed inside, [D, Dh], as in the worker.)
//   2. blocks last to first: the block is recomputed from its start state, keeping the pre-token
//      W1, W2 of every memory (`slots`, [block + 1][M][2][D Dh]) and the snapshot-only rows; then
//      its pieces (tokens sharing every snapshot) are reversed: token by token for the read and the
//      W/S recurrence (running adjoints dW1, dW2, dS1, dS2, dA1, dA2 of every memory), then the
//      snapshot-only maths of the whole piece (inner-gradient factors, targets, generators, k's
//      normalisation, gates) with small GEMMs; at a piece's snapshot dW += dA, dA = 0.
// Per-token weights exist only for one block at a time.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/chunking.h"
#include "cpu/self_mod.h"
#include "cpu/self_mod_work.h"
#include "cpu/thread_pool.h"

namespace nl {
namespace {

using namespace self_mod_detail;
using memvec::axpy;
using memvec::dot;
using memvec::matmul;
using memvec::transpose;

// Several dot products in one pass (independent lane accumulators, so the loops vectorise).
template <typename F>
inline void dot3(const F* x0, const F* y0, const F* x1, const F* y1, const F* x2, const F* y2, int64_t n, F* out) {
  constexpr int W = 16;
  F a0[W] = {}, a1[W] = {}, a2[W] = {};
  int64_t j = 0;
  for (; j + W <= n; j += W) {
    for (int l = 0; l < W; ++l) {
      a0[l] += x0[j + l] * y0[j + l];
      a1[l] += x1[j + l] * y1[j + l];
      a2[l] += x2[j + l] * y2[j + l];
    }
  }
  F s0 = 0, s1 = 0, s2 = 0;
  for (; j < n; ++j) {
    s0 += x0[j] * y0[j];
    s1 += x1[j] * y1[j];
    s2 += x2[j] * y2[j];
  }
  for (int l = 0; l < W; ++l) {
    s0 += a0[l];
    s1 += a1[l];
    s2 += a2[l];
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
}

template <typename F>
struct Piece {
  int64_t r0, L, pos;
  std::vector<const F*> a1, a2;  // snapshot of each memory
};

template <typename F>
struct Back {
  Back(const SelfModDims& dims, int64_t nblk) : w(dims), d(dims) {
    const int64_t D = dims.d, Dh = dims.hidden, M = dims.mems, n = D * Dh, Lb = dims.block;
    ckpt.resize(static_cast<size_t>(nblk * kSelfModStates * M * n));
    slots.resize(static_cast<size_t>((Lb + 1) * 2 * M * n));
    dst.resize(static_cast<size_t>(kSelfModStates * M * n));
    for (auto* v : {&dK, &dV, &dQv, &dX, &dGen}) v->resize(static_cast<size_t>(Lb * D));
    for (auto* v : {&dal, &det}) v->resize(static_cast<size_t>(Lb));
    dE.resize(static_cast<size_t>(M * Lb * D));
    for (auto* v : {&dG, &dAc}) v->resize(static_cast<size_t>(M * Lb * Dh));
    for (auto* v : {&t1, &t2, &tm}) v->resize(static_cast<size_t>(Lb * Dh));
    Xt.resize(static_cast<size_t>(std::max(D, Dh) * Lb));
    vec.resize(static_cast<size_t>(4 * std::max(D, Dh)));
    a2n.resize(static_cast<size_t>(n));
  }
  Worker<F> w;
  const SelfModDims& d;
  std::vector<F> ckpt, slots, dst, dK, dV, dQv, dX, dGen, dal, det, dE, dG, dAc, t1, t2, tm, Xt, vec, a2n;
  std::vector<Piece<F>> pieces;

  F* slot(int64_t r, int64_t m, int s) { return slots.data() + ((r * w.M + m) * 2 + s) * w.n; }
  F* dS(int s, int64_t m) { return dst.data() + (s * w.M + m) * w.n; }

  // Recomputes block rows [0, bl) (call tokens t0..) from the state in w.st, filling slots and pieces.
  void recompute(int64_t b, int64_t h, int64_t t0, int64_t bl, const F* x, const F* q, const F* ck) {
    const int64_t M = w.M, n = w.n;
    std::vector<const F*> a1(M), a2(M);
    for (int64_t m = 0; m < M; ++m) {
      a1[m] = ck + (kA1 * M + m) * n;
      a2[m] = ck + (kA2 * M + m) * n;
    }
    pieces.clear();
    for (int64_t r = 0; r < bl;) {
      const int64_t pos = d.tokens + t0 + r;
      const int64_t L = std::min(bl - r, w.snapshot(pos));
      for (int64_t m = 0; m < M; ++m) {
        if (pos % w.chunk_of(m) == 0) {
          a1[m] = slot(r, m, 0);
          a2[m] = slot(r, m, 1);
        }
      }
      pieces.push_back(Piece<F>{r, L, pos, a1, a2});
      w.precompute(b, h, t0 + r, r, L, x, q);
      for (int64_t i = r; i < r + L; ++i) w.step(i, slot(i, 0, 0), nullptr);
      r += L;
    }
    for (int64_t m = 0; m < M; ++m) {
      std::copy(w.S(kW1, m), w.S(kW1, m) + n, slot(bl, m, 0));
      std::copy(w.S(kW2, m), w.S(kW2, m) + n, slot(bl, m, 1));
    }
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
    std::fill(pre, pre + Dh, F(0));
    for (int64_t j = 0; j < D; ++j) axpy(Dh, qv[j], W2 + j * Dh, pre);  // W2 q
    for (int64_t i = 0; i < Dh; ++i) {
      sp[i] = sg(pre[i]);
      z[i] = pre[i] * sp[i];
      dz[i] = 0;
    }
    for (int64_t c = 0; c < D; ++c) {
      dq[c] += dor[c];
      axpy(Dh, dor[c], z, dW1 + c * Dh);
      axpy(Dh, dor[c], W1 + c * Dh, dz);
    }
    F* dr = pre;
    for (int64_t i = 0; i < Dh; ++i) dr[i] = dz[i] * d1s(pre[i], sp[i]);
    for (int64_t j = 0; j < D; ++j) {
      axpy(Dh, qv[j], dr, dW2 + j * Dh);
      dq[j] += dot(W2 + j * Dh, dr, Dh);
    }
  }

  // Adjoint of row r's write of memory m (the running adjoints go from post- to pre-token).
  void write_back(int64_t r, int64_t m) {
    const int64_t D = w.D, Dh = w.Dh;
    const F alpha = w.al[r], eta = w.et[r], beta = static_cast<F>(d.momentum);
    const F *k = w.Kn.data() + r * D, *e = w.row(w.E, m, r, D), *a = w.row(w.Ac, m, r, Dh);
    const F* g = w.row(w.Gg, m, r, Dh);
    const F *W1 = slot(r, m, 0), *W2 = slot(r, m, 1);
    F *dW1 = dS(kW1, m), *dW2 = dS(kW2, m), *dS1 = dS(kS1, m), *dS2 = dS(kS2, m);
    F *dk = dK.data() + r * D, *dg = dG.data() + (m * w.Lb + r) * Dh;
    F *de = dE.data() + (m * w.Lb + r) * D, *da = dAc.data() + (m * w.Lb + r) * Dh;
    F dalpha = 0, deta = 0;
    // W2 <- alpha W2 - eta (W2 k) k^T + S2,  S2 <- beta S2 - eta g k^T  (rows j of the transposes)
    F *u = vec.data(), *wk = u + Dh, *y = wk + Dh;
    std::fill(u, u + 3 * Dh, F(0));
    for (int64_t j = 0; j < D; ++j) {
      axpy(Dh, k[j], W2 + j * Dh, u);    // W2 k
      axpy(Dh, k[j], dW2 + j * Dh, wk);  // dW2' k
      axpy(Dh, k[j], dS2 + j * Dh, y);   // dS2' k
    }
    dalpha += dot(W2, dW2, D * Dh);
    for (int64_t i = 0; i < Dh; ++i) {
      y[i] += wk[i];  // (dS2' + dW2') k
      deta -= u[i] * wk[i] + g[i] * y[i];
      dg[i] -= eta * y[i];
    }
    for (int64_t j = 0; j < D; ++j) {
      const F* w2 = W2 + j * Dh;
      F *dw = dW2 + j * Dh, *ds = dS2 + j * Dh;
      const F ek = eta * k[j];
      constexpr int Wl = 16;
      F acc[Wl] = {};
      int64_t i = 0;
      for (; i + Wl <= Dh; i += Wl) {
        for (int l = 0; l < Wl; ++l) {
          const F dsn = ds[i + l] + dw[i + l];
          acc[l] += u[i + l] * dw[i + l] + wk[i + l] * w2[i + l] + g[i + l] * dsn;
          dw[i + l] = alpha * dw[i + l] - ek * wk[i + l];
          ds[i + l] = beta * dsn;
        }
      }
      F sum = 0;
      for (; i < Dh; ++i) {
        const F dsn = ds[i] + dw[i];
        sum += u[i] * dw[i] + wk[i] * w2[i] + g[i] * dsn;
        dw[i] = alpha * dw[i] - ek * wk[i];
        ds[i] = beta * dsn;
      }
      for (int l = 0; l < Wl; ++l) sum += acc[l];
      dk[j] -= eta * sum;
    }
    for (int64_t i = 0; i < D; ++i) {  // W1 <- alpha W1 + S1,  S1 <- beta S1 - eta e a^T
      const F* w1 = W1 + i * Dh;
      F *dw = dW1 + i * Dh, *ds = dS1 + i * Dh;
      F r3[3];
      dot3(w1, dw, ds, a, dw, a, Dh, r3);
      dalpha += r3[0];
      const F z = r3[1] + r3[2];  // (dS1 + dW1) a
      de[i] -= eta * z;
      deta -= e[i] * z;
      const F c = eta * e[i];
      for (int64_t j = 0; j < Dh; ++j) {
        const F dsn = ds[j] + dw[j];
        da[j] -= c * dsn;
        dw[j] *= alpha;
        ds[j] = beta * dsn;
      }
    }
    dal[r] += dalpha;
    det[r] += deta;
  }

  // dA1 += Z^T Y (Z [L, cz] rows, Y [L, cy] rows), via a transpose of Z.
  void acc_t(int64_t L, int64_t cz, const F* Z, int64_t cy, const F* Y, F* dA) {
    transpose<F>(L, cz, Z, cz, Xt.data(), L);
    matmul<F>(cz, cy, L, Xt.data(), L, Y, cy, dA, cy, true);
  }

  // Snapshot-only maths of piece p, reversed for memory m: inner-gradient factors and targets.
  void factors_back(const Piece<F>& p, int64_t m) {
    const int64_t D = w.D, Dh = w.Dh, L = p.L, r0 = p.r0, n = w.n;
    const F *A1 = p.a1[m], *A2 = p.a2[m];
    F* A1t = w.A1t.data() + m * n;
    transpose<F>(D, Dh, A1, Dh, A1t, D);
    const F *P = w.row(w.P, m, r0, Dh), *Cm = w.row(w.Cm, m, r0, Dh), *Ac = w.row(w.Ac, m, r0, Dh);
    const F *Hv = w.row(w.Hv, m, r0, Dh), *E = w.row(w.E, m, r0, D);
    const F *SP = w.row(w.SP, m, r0, Dh), *SHv = w.row(w.SHv, m, r0, Dh);
    const F *K = w.Kn.data() + r0 * D, *V = w.row(w.Gen, kV, r0, D);
    F *dg = dG.data() + (m * w.Lb + r0) * Dh, *de = dE.data() + (m * w.Lb + r0) * D;
    F* da = dAc.data() + (m * w.Lb + r0) * Dh;
    F *x1 = t1.data(), *x2 = t2.data(), *xm = tm.data();
    F *dA1 = dS(kA1, m), *dA2 = dS(kA2, m);
    for (int64_t i = 0; i < L * Dh; ++i) {  // g = Cm . silu'(p)
      x1[i] = dg[i] * d1s(P[i], SP[i]);
      x2[i] = dg[i] * Cm[i] * d2s(P[i], SP[i]);
    }
    matmul<F>(L, D, Dh, x1, Dh, A1t, D, de, D, true);  // Cm = E A1
    acc_t(L, D, E, Dh, x1, dA1);
    F *dk = dK.data() + r0 * D, *dv = dV.data() + r0 * D;
    for (int64_t i = 0; i < L * D; ++i) {  // e = k - v + A1 (silu(p) - silu(hv))
      dk[i] += de[i];
      dv[i] -= de[i];
    }
    matmul<F>(L, Dh, D, de, D, A1, Dh, x1, Dh, false);  // Y = dE A1
    for (int64_t i = 0; i < L * Dh; ++i) {
      x2[i] += (da[i] + x1[i]) * d1s(P[i], SP[i]);  // dp
      xm[i] = Ac[i] - Hv[i] * SHv[i];
      x1[i] = -x1[i] * d1s(Hv[i], SHv[i]);  // dhv
    }
    acc_t(L, D, de, Dh, xm, dA1);
    acc_t(L, D, K, Dh, x2, dA2);  // p = A2 k (dA2 transposed)
    acc_t(L, D, V, Dh, x1, dA2);  // hv = A2 v
    transpose<F>(D, Dh, A2, Dh, a2n.data(), D);  // A2 [Dh, D]
    matmul<F>(L, D, Dh, x2, Dh, a2n.data(), D, dk, D, true);
    matmul<F>(L, D, Dh, x1, Dh, a2n.data(), D, dv, D, true);
  }

  // Generators of piece p reversed (k's normalisation and the gates first); dx rows accumulate in dX.
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
      const F *A1 = p.a1[m], *A2 = p.a2[m], *Hg = w.row(w.Hg, m, r0, Dh), *X = w.X.data() + r0 * D;
      const F* SHg = w.row(w.SHg, m, r0, Dh);
      F* dx = dX.data() + r0 * D;
      for (int64_t i = 0; i < L * D; ++i) dx[i] += dgen[i];
      for (int64_t i = 0; i < L * Dh; ++i) tm[i] = Hg[i] * SHg[i];
      acc_t(L, D, dgen, Dh, tm.data(), dS(kA1, m));
      matmul<F>(L, Dh, D, dgen, D, A1, Dh, t1.data(), Dh, false);
      for (int64_t i = 0; i < L * Dh; ++i) t1[i] *= d1s(Hg[i], SHg[i]);
      acc_t(L, D, X, Dh, t1.data(), dS(kA2, m));
      transpose<F>(D, Dh, A2, Dh, a2n.data(), D);
      matmul<F>(L, D, Dh, t1.data(), Dh, a2n.data(), D, dx, D, true);
    }
  }

  void piece_back(const Piece<F>& p, int64_t b, int64_t h, int64_t t0, const F* d_o, F* dxo, F* dqo) {
    const int64_t D = w.D, Dh = w.Dh, M = w.M, T = d.seq, H = d.heads, L = p.L, r0 = p.r0, n = w.n;
    for (auto* v : {&dK, &dV, &dQv, &dX}) std::fill(v->begin() + r0 * D, v->begin() + (r0 + L) * D, F(0));
    std::fill(dal.begin() + r0, dal.begin() + r0 + L, F(0));
    std::fill(det.begin() + r0, det.begin() + r0 + L, F(0));
    for (int64_t m = 0; m < M; ++m) {
      std::fill(dE.begin() + (m * w.Lb + r0) * D, dE.begin() + (m * w.Lb + r0 + L) * D, F(0));
      std::fill(dG.begin() + (m * w.Lb + r0) * Dh, dG.begin() + (m * w.Lb + r0 + L) * Dh, F(0));
      std::fill(dAc.begin() + (m * w.Lb + r0) * Dh, dAc.begin() + (m * w.Lb + r0 + L) * Dh, F(0));
    }
    for (int64_t r = r0 + L - 1; r >= r0; --r) {
      read_back(p, r, d_o + ((b * T + t0 + r) * H + h) * D);
      for (int64_t m = 0; m < M; ++m) write_back(r, m);
    }
    for (int64_t m = 0; m < M; ++m) factors_back(p, m);
    generators_back(p);
    for (int64_t r = r0; r < r0 + L; ++r) {
      const int64_t off = ((b * T + t0 + r) * H + h) * D;
      std::copy(dX.data() + r * D, dX.data() + (r + 1) * D, dxo + off);
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
                       const F* const* d_state, F* dx, F* dq, F* const* d_init, const F* ckpt) {
  SelfModDims d = dims;  // one block when block >= T (same result, scratch by the real block)
  d.block = effective_tile(d.block, d.seq);
  const int64_t T = d.seq, H = d.heads, nblk = (T + d.block - 1) / d.block;
  parallel_for_dynamic(d.batch * d.heads, 1, [&](int64_t begin, int64_t end) {
    Back<F> k(d, ckpt ? 0 : nblk);
    Worker<F>& w = k.w;
    const size_t ns = w.st.size();
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / H, h = bh % H;
      const F* cks = ckpt ? ckpt + bh * nblk * static_cast<int64_t>(ns) : k.ckpt.data();
      w.load(b, h, state);
      for (int64_t j = 0; j < nblk && !ckpt; ++j) {  // block-start states (unless the forward kept them)
        std::copy(w.st.begin(), w.st.end(), k.ckpt.begin() + j * ns);
        const int64_t t0 = j * d.block, bl = std::min(d.block, T - t0);
        for (int64_t r = 0; r < bl;) {
          const int64_t L = std::min(bl - r, w.snapshot(d.tokens + t0 + r));
          w.precompute(b, h, t0 + r, r, L, x, q);
          for (int64_t i = r; i < r + L; ++i) w.step(i, nullptr, nullptr);
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
        k.recompute(b, h, t0, bl, x, q, ck);
        for (auto p = k.pieces.rbegin(); p != k.pieces.rend(); ++p) k.piece_back(*p, b, h, t0, d_o, dx, dq);
      }
      w.store(b, h, k.dst, d_init);
    }
  });
}

template void self_mod_backward<float>(const SelfModDims&, const float*, const float*, const float* const*,
                                       const float*, const float* const*, float*, float*, float* const*,
                                       const float*);
template void self_mod_backward<double>(const SelfModDims&, const double*, const double*, const double* const*,
                                        const double*, const double* const*, double*, double*, double* const*,
                                        const double*);

}  // namespace nl

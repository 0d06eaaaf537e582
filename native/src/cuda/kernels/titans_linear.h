// Titans linear memory (mini-batch chunks), CUDA forward and backward kernels. Same maths as the
// CPU kernels (native/src/cpu/titans_linear.h): per (b, h), M, S [Dv, Dk]; t' = start of t's chunk:
//   e_t = M_{t'} k_t - v_t,  S_t = eta_t S_{t-1} - theta_t e_t k_t^T,  M_t = (1 - alpha_t) M_{t-1} + S_t
//   o_t = M_t q_t (read_after) or M_{t-1} q_t
// Layouts (row-major, contiguous): q, k [B, T, H, Dk]; v, o [B, T, H, Dv]; gates [B, T, H];
// M, S [B, H, Dv, Dk]. One block per (b, h); thread i owns rows i, i + threads, ... of M and S, so
// the forward is one phase with no cross-thread reduction (a chunk's e_t of the row first, from the
// chunk-start row, then the tokens). Dot products accumulate in double.
//
// Backward, one chunk [t0, t0 + L) per launch (reverse recurrence as
// packages/memory/src/kernels/titans-linear/ref-backward.ts): phase 0 recomputes the chunk's e and
// per-token states from its boundary state (`states` [B*H, C+1, 2, Dv, Dk]: slot i = M, S before
// token t0+i; e in `evec` [B*H, C, Dv], double), and in the first launch sets dM, dSn from the
// final-state gradients. Then per token, last to first, three phases:
//   A (rows i):    (read after) dM += do q^T; dS = dSn + dM (not stored); de = -theta dS k;
//                  dv = -de; partials of dalpha = -<M_{t-1}, dM>, deta = <S_{t-1}, dS>, dtheta = -e^T dS k
//   B (columns p): dq = Mr^T do; dk = -theta dS^T e + M'^T de; partial sums folded to 32
//   C (rows i):    dSn = eta dS, dM = (1 - alpha) dM (+ do q^T when reading before), dM' += de k^T,
//                  at the chunk's first token dM += dM'; thread 0 writes dalpha, deta, dtheta
// dM, dSn live in the gradient outputs dm0, ds0; dM' in `snap` ([B*H, Dv, Dk], double); de in
// `evec`'s second half.
#pragma once
#include <cstdint>

#include "cuda/launch.h"

namespace nl::cuda {

struct TitansLinDims {
  int64_t B = 0, T = 0, H = 0, dk = 0, dv = 0;
  NL_HD int64_t row(int64_t b, int64_t t, int64_t h) const { return (b * T + t) * H + h; }
  NL_HD int64_t n() const { return dk * dv; }
};

// Tokens [t0, t0 + L) of (b, h) for row i of M, S (updated in place) from the chunk-start row:
// e of every token first (into e[t * dv + i]), then the writes. When o is set the outputs of row i
// are written; when snaps is set, M, S before token t0 + t go to snaps + t * 2n (t = 0..L).
template <class T>
NL_HD void titans_lin_rows(const TitansLinDims& d, bool read_after, int64_t b, int64_t h, int64_t t0, int64_t L,
                           const T* q, const T* k, const T* v, const T* th, const T* et, const T* al, T* M, T* S,
                           T* o, T* snaps, double* e, int64_t i) {
  const int64_t dk = d.dk, dv = d.dv, n = d.n();
  T* Mi = M + i * dk;
  T* Si = S + i * dk;
  for (int64_t t = 0; t < L; ++t) {
    const int64_t r = d.row(b, t0 + t, h);
    double s = -double(v[r * dv + i]);
    for (int64_t p = 0; p < dk; ++p) s += double(Mi[p]) * double(k[r * dk + p]);
    e[t * dv + i] = s;
  }
  for (int64_t t = 0; t <= L; ++t) {
    if (snaps != nullptr)
      for (int64_t p = 0; p < dk; ++p) {
        snaps[t * 2 * n + i * dk + p] = Mi[p];
        snaps[t * 2 * n + n + i * dk + p] = Si[p];
      }
    if (t == L) break;
    const int64_t r = d.row(b, t0 + t, h);
    const double tht = double(th[r]), ett = double(et[r]), keep = 1.0 - double(al[r]), ei = e[t * dv + i];
    const T* kt = k + r * dk;
    const T* qt = q + r * dk;
    double before = 0, after = 0;
    for (int64_t p = 0; p < dk; ++p) {
      if (o != nullptr && !read_after) before += double(Mi[p]) * double(qt[p]);
      const T sp = T(ett * double(Si[p]) - tht * ei * double(kt[p]));
      Si[p] = sp;
      Mi[p] = T(keep * double(Mi[p]) + double(sp));
      if (o != nullptr && read_after) after += double(Mi[p]) * double(qt[p]);
    }
    if (o != nullptr) o[r * dv + i] = T(read_after ? after : before);
  }
}

// Forward over all tokens: M = m0 (or 0), S = s0 (or 0), then every chunk. boundary (when set):
// M, S at the start of chunk c at boundary + (bh * nchunks + c) * 2n. e: [B*H, chunk, Dv] scratch.
template <class T>
struct TitansLinForwardK {
  using Regs = NoRegs;
  TitansLinDims d;
  bool read_after;
  int64_t chunk, nchunks;
  const T *q, *k, *v, *th, *et, *al, *m0, *s0;
  T *o, *Mo, *So, *boundary;
  double* e;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    const int64_t bh = at.block.x, b = bh / d.H, h = bh % d.H, n = d.n(), dk = d.dk;
    T *M = Mo + bh * n, *S = So + bh * n;
    for (int64_t i = at.thread.x; i < d.dv; i += at.dim.x) {
      for (int64_t p = 0; p < dk; ++p) {
        M[i * dk + p] = m0 != nullptr ? m0[bh * n + i * dk + p] : T(0);
        S[i * dk + p] = s0 != nullptr ? s0[bh * n + i * dk + p] : T(0);
      }
      for (int64_t c = 0; c < nchunks; ++c) {
        const int64_t t0 = c * chunk, L = d.T - t0 < chunk ? d.T - t0 : chunk;
        if (boundary != nullptr) {
          T* st = boundary + (bh * nchunks + c) * 2 * n;
          for (int64_t p = 0; p < dk; ++p) {
            st[i * dk + p] = M[i * dk + p];
            st[n + i * dk + p] = S[i * dk + p];
          }
        }
        titans_lin_rows<T>(d, read_after, b, h, t0, L, q, k, v, th, et, al, M, S, o, nullptr,
                           e + bh * chunk * d.dv, i);
      }
    }
  }
};

template <class T>
struct TitansLinChunkBackK {
  using Regs = NoRegs;
  TitansLinDims d;
  bool read_after, init;
  int64_t t0, L, chunk;
  const T *q, *k, *v, *th, *et, *al, *dO, *gM, *gS;
  const T* start;  // this chunk's boundary state (M, S) of block 0; blocks start_stride apart
  int64_t start_stride;
  T *states, *dq, *dk, *dv, *dth, *det, *dal, *dM, *dS;
  double *evec, *snap;  // evec: [B*H, C + 1, Dv]: e of each token, then de of the current one

  NL_HD int phases() const { return int(1 + 3 * L); }

  NL_HD void operator()(int p, const Idx& at, char* smem, Regs&) const {
    const int64_t bh = at.block.x, b = bh / d.H, h = bh % d.H, n = d.n(), DK = d.dk, DV = d.dv;
    const unsigned tid = at.thread.x, nt = at.dim.x;
    T* St = states + bh * (chunk + 1) * 2 * n;
    double* e = evec + bh * (chunk + 1) * DV;
    double* de = e + chunk * DV;
    T *gm = dM + bh * n, *gs = dS + bh * n;
    double* sp = snap + bh * n;
    if (p == 0) {
      for (int64_t i = tid; i < DV; i += nt) {
        for (int64_t x = i * DK; x < (i + 1) * DK; ++x) {
          if (init) {
            gm[x] = gM != nullptr ? gM[bh * n + x] : T(0);
            gs[x] = gS != nullptr ? gS[bh * n + x] : T(0);
          }
          sp[x] = 0;
          St[x] = start[bh * start_stride + x];  // the running row, then slot L's
          St[n + x] = start[bh * start_stride + n + x];
        }
        if (L == 0) continue;
        // recompute into slot L as the running state; snapshots to slots 0..L
        T* run = St + L * 2 * n;
        for (int64_t x = i * DK; x < (i + 1) * DK; ++x) {
          run[x] = St[x];
          run[n + x] = St[n + x];
        }
        titans_lin_rows<T>(d, read_after, b, h, t0, L, q, k, v, th, et, al, run, run + n, nullptr, St, e, i);
      }
      return;
    }
    const int64_t tok = L - 1 - (p - 1) / 3, r = d.row(b, t0 + tok, h);
    const int sub = (p - 1) % 3;
    const double tht = double(th[r]), ett = double(et[r]), keep = 1.0 - double(al[r]);
    const T *qt = q + r * DK, *kt = k + r * DK;
    const T* Mp = St + tok * 2 * n;  // M, S before the token
    const T* Sp = Mp + n;
    const T* Ms = St;  // chunk-start M'
    const double* et_ = e + tok * DV;
    double* red = reinterpret_cast<double*>(smem);  // [3, nt]
    auto dOat = [&](int64_t i) { return dO != nullptr ? double(dO[r * DV + i]) : 0.0; };
    if (sub == 0) {
      double pa = 0, pe = 0, pt = 0;
      for (int64_t i = tid; i < DV; i += nt) {
        const double doi = dOat(i), ei = et_[i];
        double s = 0;
        for (int64_t c = 0; c < DK; ++c) {
          const int64_t x = i * DK + c;
          if (read_after) gm[x] = T(double(gm[x]) + doi * double(qt[c]));
          const double g = double(gs[x]) + double(gm[x]);
          s += g * double(kt[c]);
          pa -= double(Mp[x]) * double(gm[x]);
          pe += double(Sp[x]) * g;
        }
        pt -= ei * s;
        de[i] = -tht * s;
        dv[r * DV + i] = T(tht * s);
      }
      red[tid] = pa;
      red[nt + tid] = pe;
      red[2 * nt + tid] = pt;
    } else if (sub == 1) {
      const T* Mr = read_after ? Mp + 2 * n : Mp;
      for (int64_t c = tid; c < DK; c += nt) {
        double gq = 0, gk = 0;
        for (int64_t i = 0; i < DV; ++i) {
          const int64_t x = i * DK + c;
          gq += double(Mr[x]) * dOat(i);
          gk += -tht * (double(gs[x]) + double(gm[x])) * et_[i] + double(Ms[x]) * de[i];
        }
        dq[r * DK + c] = T(gq);
        dk[r * DK + c] = T(gk);
      }
      if (tid < 32)
        for (int m = 0; m < 3; ++m)
          for (unsigned s = tid + 32; s < nt; s += 32) red[m * nt + tid] += red[m * nt + s];
    } else {
      if (tid == 0) {
        double sum[3] = {0, 0, 0};
        for (int m = 0; m < 3; ++m)
          for (unsigned s = 0; s < 32 && s < nt; ++s) sum[m] += red[m * nt + s];
        dal[r] = T(sum[0]);
        det[r] = T(sum[1]);
        dth[r] = T(sum[2]);
      }
      for (int64_t i = tid; i < DV; i += nt) {
        const double doi = dOat(i);
        for (int64_t c = 0; c < DK; ++c) {
          const int64_t x = i * DK + c;
          sp[x] += de[i] * double(kt[c]);
          gs[x] = T(ett * (double(gs[x]) + double(gm[x])));
          double m = keep * double(gm[x]);
          if (!read_after) m += doi * double(qt[c]);
          if (tok == 0) m += sp[x];
          gm[x] = T(m);
        }
      }
    }
  }
};

}  // namespace nl::cuda

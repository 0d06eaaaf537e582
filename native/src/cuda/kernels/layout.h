// Strided writes and scans, the contracts of the CPU kernels in packages/tensor/src/kernels/
// (layout-kernels.ts, scan-kernels.ts, select-kernels.ts `where`):
//   WhereK          out[i] = cond[i] != 0 ? a[i] : b[i]            (out contiguous, operands strided)
//   AssignK         dst[view] = src[view], dtype converted as a typed-array store
//   FillViewK       dst[view] = value
//   TriangleK       zeroes outside the tril / triu band of [batch, r, c] (in place)
//   ScanK           cumsum / cumprod / reverse cumsum along [outer, n, inner] (in place, in double)
//   ScanBlockK      the same, a block per line (few long lines)
//   CumprodBwdK     dx_i = sum_{j >= i} g_j prod_{k <= j, k != i} x_k along [outer, n, inner]
//   ProdBwdK        out[e] = ge[e] * prod of x over e's reduced group without e
// Elementwise ones are 1-D grid-stride launches; scans run one thread per (outer, inner) line, or
// one block per line when the lines are few and long.
#pragma once
#include "cuda/kernels/layout_common.h"

namespace nl::cuda {

template <class TC, class T>
struct WhereK {
  using Regs = NoRegs;
  Shape shape;
  int64_t n;
  T* out;
  const TC* c;
  const T* a;
  const T* b;
  Strides sc, sa, sb;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t i = gs_start(at); i < n; i += gs_step(at))
      out[i] = c[sc.at(shape, i)] != TC(0) ? a[sa.at(shape, i)] : b[sb.at(shape, i)];
  }
};

template <class TD, class TS>
struct AssignK {
  using Regs = NoRegs;
  Shape shape;
  int64_t n;
  TD* dst;
  const TS* src;
  Strides sd, ss;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t i = gs_start(at); i < n; i += gs_step(at))
      dst[sd.at(shape, i)] = js_store<TD>(double(src[ss.at(shape, i)]));
  }
};

template <class T>
struct FillViewK {
  using Regs = NoRegs;
  Shape shape;
  int64_t n;
  T* dst;
  Strides sd;
  T value;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t i = gs_start(at); i < n; i += gs_step(at)) dst[sd.at(shape, i)] = value;
  }
};

template <class T>
struct TriangleK {
  using Regs = NoRegs;
  T* out;  // at its offset
  int64_t n, r, c, k;
  bool lower;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t i = gs_start(at); i < n; i += gs_step(at)) {
      const int64_t d = i % c - (i / c) % r;  // j - i of the matrix entry
      if (lower ? d > k : d < k) out[i] = T(0);
    }
  }
};

// kind: 0 cumsum, 1 cumprod, 2 reverse cumsum.
template <class T>
struct ScanK {
  using Regs = NoRegs;
  T* out;
  int64_t outer, n, inner;
  int kind;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    const int64_t lines = outer * inner;
    for (int64_t l = gs_start(at); l < lines; l += gs_step(at)) {
      T* o = out + (l / inner) * n * inner + l % inner;
      if (kind == 2) {
        double acc = 0;
        for (int64_t i = n - 1; i >= 0; --i) o[i * inner] = js_store<T>(acc += double(o[i * inner]));
      } else {
        double acc = kind == 0 ? 0 : 1;
        for (int64_t i = 0; i < n; ++i) {
          acc = kind == 0 ? acc + double(o[i * inner]) : acc * double(o[i * inner]);
          o[i * inner] = js_store<T>(acc);
        }
      }
    }
  }
};

// One block of 256 threads per line (few long lines): thread t scans its contiguous segment of
// the line. Phase 0: each segment's total; phases 1..8: an inclusive scan of the totals
// (Hillis-Steele, ping-pong between two smem arrays); last phase: each thread rescans its segment
// from the totals before it. Line = line0 + block.x; smem: 2 * 256 doubles.
template <class T>
struct ScanBlockK {
  using Regs = NoRegs;
  T* out;
  int64_t n, inner, line0;
  int kind;  // 0 sum, 1 prod, 2 reverse sum
  NL_HD int phases() const { return 10; }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    double* buf = reinterpret_cast<double*>(smem);  // [2][256]
    const unsigned t = at.thread.x;
    const int64_t line = line0 + at.block.x, seg = (n + 255) / 256, i0 = int64_t(t) * seg;
    const int64_t i1 = i0 + seg < n ? i0 + seg : n;
    T* o = out + (line / inner) * n * inner + line % inner;
    const bool rev = kind == 2, prod = kind == 1;
    const double id = prod ? 1.0 : 0.0;
    // element k of the scan order
#define NL_SCAN_AT(k) o[(rev ? n - 1 - (k) : (k)) * inner]
    if (phase == 0) {
      double acc = id;
      for (int64_t k = i0; k < i1; ++k) acc = prod ? acc * double(NL_SCAN_AT(k)) : acc + double(NL_SCAN_AT(k));
      buf[t] = acc;
    } else if (phase <= 8) {
      const unsigned d = 1u << (phase - 1);
      const double* src = buf + 256 * ((phase - 1) & 1);
      double* dst = buf + 256 * (phase & 1);
      dst[t] = t >= d ? (prod ? src[t - d] * src[t] : src[t - d] + src[t]) : src[t];
    } else {
      double acc = t == 0 ? id : buf[t - 1];  // inclusive totals of phase 8 are in buf[0..256)
      for (int64_t k = i0; k < i1; ++k) {
        acc = prod ? acc * double(NL_SCAN_AT(k)) : acc + double(NL_SCAN_AT(k));
        NL_SCAN_AT(k) = js_store<T>(acc);
      }
    }
#undef NL_SCAN_AT
  }
};

template <class T>
struct CumprodBwdK {
  using Regs = NoRegs;
  T* out;
  const T* x;
  const T* g;
  int64_t outer, n, inner;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    const int64_t lines = outer * inner;
    for (int64_t l = gs_start(at); l < lines; l += gs_step(at)) {
      const int64_t s = (l / inner) * n * inner + l % inner;
      double before = 1;  // prod_{k < i} x_k
      for (int64_t i = 0; i < n; ++i) {
        double prod = before, acc = 0;
        for (int64_t j = i; j < n; ++j) {
          if (j > i) prod *= double(x[s + j * inner]);
          acc += double(g[s + j * inner]) * prod;
        }
        out[s + i * inner] = js_store<T>(acc);
        before *= double(x[s + i * inner]);
      }
    }
  }
};

// Element e = row * inner + j of the [kept..., reduced...] order; each operand has its own strides
// over kshape and rshape (out: x's contiguous strides, permuted).
template <class T>
struct ProdBwdK {
  using Regs = NoRegs;
  Shape kshape, rshape;
  Strides xk, xr, gk, gr, ok, orr;
  int64_t n, inner;
  const T* x;
  const T* ge;
  T* out;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t e = gs_start(at); e < n; e += gs_step(at)) {
      const int64_t row = e / inner, j = e % inner, xb = xk.at(kshape, row);
      double p = 1;
      StridedWalk w;
      for (int64_t q = 0; q < inner; ++q, w.next(rshape, xr))
        if (q != j) p *= double(x[xb + w.pos]);
      const double g = double(ge[gk.at(kshape, row) + gr.at(rshape, j)]);
      out[ok.at(kshape, row) + orr.at(rshape, j)] = js_store<T>(p * g);
    }
  }
};

}  // namespace nl::cuda

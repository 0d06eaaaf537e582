// Elementwise-shaped nn kernels (grid-stride loops, launch_1d): embedding gather / scatter-add,
// counter-based dropout, causal depthwise conv1d forward and input gradient. The CPU versions
// (cpu/nn_dropout.cc, cpu/nn_xent_conv.cc, tensor's kernels/embedding.ts) fix the arithmetic
// order these follow.
#pragma once
#include "cuda/launch.h"

namespace nl::cuda {

// out[m, j] = w[ids[m], j]; ids outside [0, v) give zero rows.  w [v, d], ids [m], out [m, d]
template <class T>
struct EmbFwdK {
  using Regs = NoRegs;
  const T* w;
  const int32_t* ids;
  T* out;
  int64_t m, d, v;
  int32_t* fault;  // bad ids reported here (runtime fault word)
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    const int64_t n = m * d;
    for (int64_t i = gs_start(at); i < n; i += gs_step(at)) {
      const int64_t id = ids[i / d];
      if ((id < 0 || id >= v) && i % d == 0) nl_fault(fault, kFaultEmbeddingId, int32_t(id));
      out[i] = (id >= 0 && id < v) ? w[id * d + i % d] : T(0);
    }
  }
};

// dw[ids[m], j] += g[m, j] (atomic; dw zeroed before); ids outside [0, v) are skipped.
template <class T>
struct EmbBwdK {
  using Regs = NoRegs;
  const T* g;
  const int32_t* ids;
  T* dw;
  int64_t m, d, v;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    const int64_t n = m * d;
    for (int64_t i = gs_start(at); i < n; i += gs_step(at)) {
      const int64_t id = ids[i / d];
      if (id >= 0 && id < v) nl_atomic_add(dw + id * d + i % d, g[i]);
    }
  }
};

// murmur3's 32-bit finaliser (the dropout generator of cpu/nn_dropout.cc).
NL_HD uint32_t nl_fmix32(uint32_t h) {
  h = (h ^ (h >> 16)) * 0x85ebca6bu;
  h = (h ^ (h >> 13)) * 0xc2b2ae35u;
  return h ^ (h >> 16);
}

// mask[i] = fmix32(s + (i + 1) * 0x9e3779b9) / 2^32 >= p ? scale : 0; y = x * mask.  s = fmix32(seed)
template <class T>
struct DropoutK {
  using Regs = NoRegs;
  const T* x;
  T* mask;
  T* y;
  int64_t n;
  uint32_t s;
  double p;
  T scale;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t i = gs_start(at); i < n; i += gs_step(at)) {
      const uint32_t h = nl_fmix32(s + uint32_t(i + 1) * 0x9e3779b9u);
      const T mk = double(h) / 4294967296.0 >= p ? scale : T(0);
      mask[i] = mk;
      y[i] = x[i] * mk;
    }
  }
};

// y[b, t, c] = bias[c] + sum_j w[c, j] x[b, t - k + 1 + j, c] (zero history).  x, y [B, T, C]; w [C, K]
template <class T>
struct ConvFwdK {
  using Regs = NoRegs;
  const T* x;
  const T* w;
  const T* bias;
  T* y;
  int64_t n, t, c, k;  // n = B * T * C
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t i = gs_start(at); i < n; i += gs_step(at)) {
      const int64_t r = i / c, ci = i % c, ti = r % t;
      T acc = bias ? bias[ci] : T(0);
      for (int64_t j = 0; j < k; ++j) {
        const int64_t src = ti - (k - 1) + j;
        if (src >= 0) acc += w[ci * k + j] * x[(r - ti + src) * c + ci];
      }
      y[i] = acc;
    }
  }
};

// dx[b, s, c] = sum_j w[c, j] g[b, s + k - 1 - j, c] (terms past the end dropped).
template <class T>
struct ConvBwdDxK {
  using Regs = NoRegs;
  const T* g;
  const T* w;
  T* dx;
  int64_t n, t, c, k;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t i = gs_start(at); i < n; i += gs_step(at)) {
      const int64_t r = i / c, ci = i % c, s = r % t;
      T acc = T(0);
      for (int64_t j = 0; j < k; ++j) {
        const int64_t out = s + (k - 1) - j;
        if (out < t) acc += w[ci * k + j] * g[(r - s + out) * c + ci];
      }
      dx[i] = acc;
    }
  }
};

// Column-sum term of the conv weight gradient: dw[ci, j] = sum_rows g[r, ci] x[r - k + 1 + j, ci].
template <class T>
struct ConvDwF {
  const T* g;
  const T* x;
  int64_t t, c, k;
  NL_HD double operator()(int64_t r, int64_t col) const {
    const int64_t ci = col / k, j = col % k, ti = r % t;
    const int64_t src = ti - (k - 1) + j;
    return src < 0 ? 0.0 : double(g[r * c + ci]) * x[(r - ti + src) * c + ci];
  }
};

}  // namespace nl::cuda

// CUDA ops: the fused Titans linear memory (memory.titansLinear), forward and backward. Args structs +
// `template <class Exec> std::string <name>_op(Exec&, const Args&)`; kernels in
// cuda/kernels/titans_linear.h. Operands are contiguous at their first element; the binding
// (binding/cuda_titans_linear.cc) has checked every pointer and extent. Scratch (e of a chunk,
// boundary and per-token states of one chunk, snapshot adjoints) comes from the Exec. The forward
// is one launch; the backward one launch for the boundary states, then one per chunk. Listed in
// NL_CUDA_OPS_TITANS (ops/titans.h).
#pragma once
#include <string>

#include "cuda/kernels/strided.h"
#include "cuda/kernels/titans_linear.h"

namespace nl::cuda {

// o [B, T, H, Dv] and the final M, S [B, H, Dv, Dk] from q, k [B, T, H, Dk], v, θ, η, α, m0, s0 (null = 0).
struct TitansLinFwdArgs {
  DT dt;
  TitansLinDims d;
  int64_t chunk;
  bool read_after;
  const void *q, *k, *v, *th, *et, *al, *m0, *s0;
  void *o, *m_out, *s_out;
};

// Every gradient (overwritten) from dO and the final-state gradients gM, gS (each null = 0).
struct TitansLinBwdArgs {
  DT dt;
  TitansLinDims d;
  int64_t chunk;
  bool read_after;
  const void *q, *k, *v, *th, *et, *al, *m0, *s0, *dO, *gM, *gS;
  void *dq, *dk, *dv, *dth, *det, *dal, *dm0, *ds0;
};

// Threads of a (b, h) block: a power of two covering max(Dk, Dv), in [32, 256].
inline unsigned titans_lin_threads(const TitansLinDims& d) {
  unsigned t = 32;
  while (t < 256 && int64_t(t) < (d.dk > d.dv ? d.dk : d.dv)) t <<= 1;
  return t;
}

inline int64_t titans_lin_chunk(const TitansLinDims& d, int64_t chunk) {
  return chunk < d.T ? chunk : (d.T > 0 ? d.T : 1);
}

template <class T>
TitansLinForwardK<T> titans_lin_forward_kernel(const TitansLinFwdArgs& g, int64_t C, double* e, T* boundary) {
  return TitansLinForwardK<T>{g.d,
                              g.read_after,
                              C,
                              (g.d.T + C - 1) / C,
                              static_cast<const T*>(g.q),
                              static_cast<const T*>(g.k),
                              static_cast<const T*>(g.v),
                              static_cast<const T*>(g.th),
                              static_cast<const T*>(g.et),
                              static_cast<const T*>(g.al),
                              static_cast<const T*>(g.m0),
                              static_cast<const T*>(g.s0),
                              static_cast<T*>(g.o),
                              static_cast<T*>(g.m_out),
                              static_cast<T*>(g.s_out),
                              boundary,
                              e};
}

template <class T, class Exec>
std::string titans_linear_fwd_typed(Exec& ex, const TitansLinFwdArgs& g) {
  const int64_t BH = g.d.B * g.d.H, C = titans_lin_chunk(g.d, g.chunk);
  std::string err;
  double* e = static_cast<double*>(ex.scratch(size_t(BH * C * g.d.dv) * sizeof(double), err));
  if (!err.empty()) return err;
  Launch l;
  l.grid.x = unsigned(BH);
  l.block.x = titans_lin_threads(g.d);
  err = ex.launch(titans_lin_forward_kernel<T>(g, C, e, nullptr), l);
  ex.release(e);
  return err;
}

template <class Exec>
std::string titans_linear_fwd_op(Exec& ex, const TitansLinFwdArgs& g) {
  if (g.d.B * g.d.H == 0 || g.d.n() == 0) return "";
  if (g.chunk <= 0) return "titansLinear: chunk size must be positive";
  if (g.dt == DT::F32) return titans_linear_fwd_typed<float>(ex, g);
  if (g.dt == DT::F64) return titans_linear_fwd_typed<double>(ex, g);
  return "titansLinear: dtype must be float32 or float64";
}

template <class T, class Exec>
std::string titans_linear_bwd_typed(Exec& ex, const TitansLinBwdArgs& g) {
  const TitansLinDims& d = g.d;
  const int64_t n = d.n(), BH = d.B * d.H, C = titans_lin_chunk(d, g.chunk), N = (d.T + C - 1) / C;
  const int64_t NB = N > 0 ? N : 1;  // T = 0 runs one empty chunk: the final-state gradients pass through
  std::string err;
  T* boundary = static_cast<T*>(ex.scratch(size_t(BH * NB * 2 * n) * sizeof(T), err));
  if (!err.empty()) return err;
  T* states = static_cast<T*>(ex.scratch(size_t(BH * (C + 1) * 2 * n) * sizeof(T), err));
  if (!err.empty()) return ex.release(boundary), err;
  double* evec = static_cast<double*>(ex.scratch(size_t(BH * (C + 1) * d.dv) * sizeof(double), err));
  if (!err.empty()) return ex.release(boundary), ex.release(states), err;
  double* snap = static_cast<double*>(ex.scratch(size_t(BH * n) * sizeof(double), err));
  if (!err.empty()) return ex.release(boundary), ex.release(states), ex.release(evec), err;
  Launch l;
  l.grid.x = unsigned(BH);
  l.block.x = titans_lin_threads(d);
  if (N > 0) {  // chunk-boundary states; the running state goes through dm0, ds0
    TitansLinFwdArgs f{g.dt, d, g.chunk, g.read_after, g.q, g.k, g.v, g.th, g.et, g.al, g.m0, g.s0,
                       nullptr, g.dm0, g.ds0};
    err = ex.launch(titans_lin_forward_kernel<T>(f, C, evec, boundary), l);
  }
  l.smem = unsigned(3 * l.block.x * sizeof(double));
  for (int64_t c = NB - 1; c >= 0 && err.empty(); --c) {
    const int64_t t0 = c * C, L = d.T - t0 < C ? d.T - t0 : C;
    TitansLinChunkBackK<T> bk{d,
                              g.read_after,
                              c == NB - 1,
                              t0,
                              L > 0 ? L : 0,
                              C,
                              static_cast<const T*>(g.q),
                              static_cast<const T*>(g.k),
                              static_cast<const T*>(g.v),
                              static_cast<const T*>(g.th),
                              static_cast<const T*>(g.et),
                              static_cast<const T*>(g.al),
                              static_cast<const T*>(g.dO),
                              static_cast<const T*>(g.gM),
                              static_cast<const T*>(g.gS),
                              boundary + c * 2 * n,
                              NB * 2 * n,
                              states,
                              static_cast<T*>(g.dq),
                              static_cast<T*>(g.dk),
                              static_cast<T*>(g.dv),
                              static_cast<T*>(g.dth),
                              static_cast<T*>(g.det),
                              static_cast<T*>(g.dal),
                              static_cast<T*>(g.dm0),
                              static_cast<T*>(g.ds0),
                              evec,
                              snap};
    err = ex.launch(bk, l);
  }
  ex.release(boundary);
  ex.release(states);
  ex.release(evec);
  ex.release(snap);
  return err;
}

template <class Exec>
std::string titans_linear_bwd_op(Exec& ex, const TitansLinBwdArgs& g) {
  if (g.d.B * g.d.H == 0 || g.d.n() == 0) return "";
  if (g.chunk <= 0) return "titansLinear: chunk size must be positive";
  if (g.dt == DT::F32) return titans_linear_bwd_typed<float>(ex, g);
  if (g.dt == DT::F64) return titans_linear_bwd_typed<double>(ex, g);
  return "titansLinear: dtype must be float32 or float64";
}

}  // namespace nl::cuda

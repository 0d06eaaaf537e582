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
#include "cuda/ops/chunk_scratch.h"

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

// One block per (b, h); threads cover max(Dk, Dv).
inline Launch titans_lin_launch(const TitansLinDims& d) { return bh_launch(d.B * d.H, d.dk > d.dv ? d.dk : d.dv); }

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
  const int64_t BH = g.d.B * g.d.H, C = chunk_plan(g.d.T, g.chunk).C;
  ScratchSet<Exec> sc(ex);
  double* e = sc.template take<double>(BH * C * g.d.dv);
  if (!sc.err.empty()) return sc.err;
  return ex.launch(titans_lin_forward_kernel<T>(g, C, e, nullptr), titans_lin_launch(g.d));
}

template <class Exec>
std::string titans_linear_fwd_op(Exec& ex, const TitansLinFwdArgs& g) {
  return chunked_op("titansLinear", g.dt, g.d.B * g.d.H == 0 || g.d.n() == 0, g.chunk,
                    [&](auto t) { return titans_linear_fwd_typed<decltype(t)>(ex, g); });
}

template <class T, class Exec>
std::string titans_linear_bwd_typed(Exec& ex, const TitansLinBwdArgs& g) {
  const TitansLinDims& d = g.d;
  const int64_t n = d.n(), BH = d.B * d.H;
  const ChunkPlan cp = chunk_plan(d.T, g.chunk);
  const int64_t C = cp.C, NB = cp.NB;
  ScratchSet<Exec> sc(ex);
  T* boundary = sc.template take<T>(BH * NB * 2 * n);
  T* states = sc.template take<T>(BH * (C + 1) * 2 * n);
  double* evec = sc.template take<double>(BH * (C + 1) * d.dv);
  double* snap = sc.template take<double>(BH * n);
  if (!sc.err.empty()) return sc.err;
  Launch l = titans_lin_launch(d);
  std::string err;
  if (cp.N > 0) {  // chunk-boundary states; the running state goes through dm0, ds0
    TitansLinFwdArgs f{g.dt, d, g.chunk, g.read_after, g.q, g.k, g.v, g.th, g.et, g.al, g.m0, g.s0,
                       nullptr, g.dm0, g.ds0};
    err = ex.launch(titans_lin_forward_kernel<T>(f, C, evec, boundary), l);
  }
  l.smem = unsigned(3 * l.block.x * sizeof(double));
  for (int64_t c = NB - 1; c >= 0 && err.empty(); --c) {  // T = 0: one empty chunk
    TitansLinChunkBackK<T> bk{d,
                              g.read_after,
                              c == NB - 1,
                              cp.start(c),
                              cp.length(c),
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
  return err;
}

template <class Exec>
std::string titans_linear_bwd_op(Exec& ex, const TitansLinBwdArgs& g) {
  return chunked_op("titansLinear", g.dt, g.d.B * g.d.H == 0 || g.d.n() == 0, g.chunk,
                    [&](auto t) { return titans_linear_bwd_typed<decltype(t)>(ex, g); });
}

}  // namespace nl::cuda

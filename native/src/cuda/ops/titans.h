// CUDA ops: the fused Titans MLP memory (memory.titansMlp), forward and backward (the list also
// holds the Titans linear memory's ops, ops/titans_linear.h). Args structs +
// `template <class Exec> std::string <name>_op(Exec&, const Args&)`; kernels in
// cuda/kernels/titans_mlp*.h. Operands are contiguous at their first element; the binding
// (binding/cuda_titans.cc) has checked every pointer and extent. Scratch (chunk factors, boundary and
// per-token states of one chunk, per-token vectors, snapshot adjoints) comes from the Exec. The
// forward is one launch; the backward one launch for the boundary states, then one per chunk.
#pragma once
#include <string>

#include "cuda/kernels/strided.h"
#include "cuda/kernels/titans_mlp.h"
#include "cuda/kernels/titans_mlp_backward.h"
#include "cuda/ops/chunk_scratch.h"
#include "cuda/ops/titans_linear.h"

#define NL_CUDA_OPS_TITANS(X)            \
  X(titans_mlp_fwd, TitansMlpFwdArgs)    \
  X(titans_mlp_bwd, TitansMlpBwdArgs)    \
  X(titans_linear_fwd, TitansLinFwdArgs) \
  X(titans_linear_bwd, TitansLinBwdArgs)

namespace nl::cuda {

// o [B, T, H, D] and the final W1, W2, S1, S2 from q, k, v, θ, η, α, w1, w2, s1, s2 (null = 0); chunk > 0.
struct TitansMlpFwdArgs {
  DT dt;
  TitansDims d;
  int64_t chunk;
  bool read_after;
  const void *q, *k, *v, *th, *et, *al, *w1, *w2, *s1, *s2;
  void *o, *w1_out, *w2_out, *s1_out, *s2_out;
};

// Every gradient (overwritten) from dO and the final-state gradients gW1.. (each null = 0).
struct TitansMlpBwdArgs {
  DT dt;
  TitansDims d;
  int64_t chunk;
  bool read_after;
  const void *q, *k, *v, *th, *et, *al, *w1, *w2, *s1, *s2, *dO, *gW1, *gW2, *gS1, *gS2;
  void *dq, *dk, *dv, *dth, *det, *dal, *dw1, *dw2, *ds1, *ds2;
};

// One block per (b, h); threads cover max(D, Dh).
inline Launch titans_launch(const TitansDims& d) { return bh_launch(d.B * d.H, d.D > d.Dh ? d.D : d.Dh); }

template <class T>
TitansForwardK<T> titans_forward_kernel(const TitansMlpFwdArgs& g, int64_t C, double* fac, double* z, T* boundary) {
  const TitansDims& d = g.d;
  return TitansForwardK<T>{d,
                           g.read_after,
                           C,
                           (d.T + C - 1) / C,
                           static_cast<const T*>(g.q),
                           static_cast<const T*>(g.k),
                           static_cast<const T*>(g.v),
                           static_cast<const T*>(g.th),
                           static_cast<const T*>(g.et),
                           static_cast<const T*>(g.al),
                           static_cast<const T*>(g.w1),
                           static_cast<const T*>(g.w2),
                           static_cast<const T*>(g.s1),
                           static_cast<const T*>(g.s2),
                           static_cast<T*>(g.o),
                           static_cast<T*>(g.w1_out),
                           static_cast<T*>(g.w2_out),
                           static_cast<T*>(g.s1_out),
                           static_cast<T*>(g.s2_out),
                           boundary,
                           fac,
                           z};
}

template <class T, class Exec>
std::string titans_mlp_fwd_typed(Exec& ex, const TitansMlpFwdArgs& g) {
  const TitansDims& d = g.d;
  const int64_t BH = d.B * d.H, C = chunk_plan(d.T, g.chunk).C;
  ScratchSet<Exec> sc(ex);
  double* fac = sc.template take<double>(BH * C * d.fac_stride());
  double* z = sc.template take<double>(BH * d.Dh);
  if (!sc.err.empty()) return sc.err;
  return ex.launch(titans_forward_kernel<T>(g, C, fac, z, nullptr), titans_launch(d));
}

template <class Exec>
std::string titans_mlp_fwd_op(Exec& ex, const TitansMlpFwdArgs& g) {
  return chunked_op("titansMlp", g.dt, g.d.B * g.d.H == 0 || g.d.n() == 0, g.chunk,
                    [&](auto t) { return titans_mlp_fwd_typed<decltype(t)>(ex, g); });
}

template <class T, class Exec>
std::string titans_mlp_bwd_typed(Exec& ex, const TitansMlpBwdArgs& g) {
  const TitansDims& d = g.d;
  const int64_t n = d.n(), BH = d.B * d.H;
  const ChunkPlan cp = chunk_plan(d.T, g.chunk);
  const int64_t C = cp.C, NB = cp.NB;
  ScratchSet<Exec> sc(ex);
  T* boundary = sc.template take<T>(BH * NB * 4 * n);
  T* states = sc.template take<T>(BH * (C + 1) * 4 * n);
  double* fac = sc.template take<double>(BH * C * d.fac_stride());
  double* vec = sc.template take<double>(BH * (5 * d.Dh + 2 * d.D));
  double* snap = sc.template take<double>(BH * 2 * n);
  if (!sc.err.empty()) return sc.err;
  Launch l = titans_launch(d);
  std::string err;
  if (cp.N > 0) {
    // chunk-boundary states; the running state goes through the weight / momentum gradients
    TitansMlpFwdArgs f{g.dt, d, g.chunk, g.read_after, g.q, g.k, g.v, g.th, g.et, g.al, g.w1, g.w2, g.s1, g.s2,
                       nullptr, g.dw1, g.dw2, g.ds1, g.ds2};
    err = ex.launch(titans_forward_kernel<T>(f, C, fac, vec, boundary), l);
  }
  l.smem = unsigned(3 * l.block.x * sizeof(double));
  for (int64_t c = NB - 1; c >= 0 && err.empty(); --c) {  // T = 0: one empty chunk
    TitansChunkBackK<T> bk{d,
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
                           static_cast<const T*>(g.gW1),
                           static_cast<const T*>(g.gW2),
                           static_cast<const T*>(g.gS1),
                           static_cast<const T*>(g.gS2),
                           boundary + c * 4 * n,
                           NB * 4 * n,
                           states,
                           static_cast<T*>(g.dq),
                           static_cast<T*>(g.dk),
                           static_cast<T*>(g.dv),
                           static_cast<T*>(g.dth),
                           static_cast<T*>(g.det),
                           static_cast<T*>(g.dal),
                           static_cast<T*>(g.dw1),
                           static_cast<T*>(g.dw2),
                           static_cast<T*>(g.ds1),
                           static_cast<T*>(g.ds2),
                           fac,
                           vec,
                           snap};
    err = ex.launch(bk, l);
  }
  return err;
}

template <class Exec>
std::string titans_mlp_bwd_op(Exec& ex, const TitansMlpBwdArgs& g) {
  return chunked_op("titansMlp", g.dt, g.d.B * g.d.H == 0 || g.d.n() == 0, g.chunk,
                    [&](auto t) { return titans_mlp_bwd_typed<decltype(t)>(ex, g); });
}

}  // namespace nl::cuda

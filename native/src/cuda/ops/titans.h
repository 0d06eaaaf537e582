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

// Threads of a (b, h) block: a power of two covering max(D, Dh), in [32, 256].
inline unsigned titans_threads(const TitansDims& d) {
  unsigned t = 32;
  while (t < 256 && int64_t(t) < (d.D > d.Dh ? d.D : d.Dh)) t <<= 1;
  return t;
}

// Chunk length (a chunk of T tokens when chunk >= T; 1 when T = 0) and chunk count.
inline int64_t titans_chunk(const TitansDims& d, int64_t chunk) { return chunk < d.T ? chunk : (d.T > 0 ? d.T : 1); }
inline int64_t titans_nchunks(const TitansDims& d, int64_t C) { return (d.T + C - 1) / C; }

template <class T>
TitansForwardK<T> titans_forward_kernel(const TitansMlpFwdArgs& g, int64_t C, double* fac, double* z, T* boundary) {
  const TitansDims& d = g.d;
  return TitansForwardK<T>{d,
                           g.read_after,
                           C,
                           titans_nchunks(d, C),
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
  const int64_t BH = d.B * d.H, C = titans_chunk(d, g.chunk);
  std::string err;
  double* fac = static_cast<double*>(ex.scratch(size_t(BH * C * d.fac_stride()) * sizeof(double), err));
  if (!err.empty()) return err;
  double* z = static_cast<double*>(ex.scratch(size_t(BH * d.Dh) * sizeof(double), err));
  if (!err.empty()) return ex.release(fac), err;
  Launch l;
  l.grid.x = unsigned(BH);
  l.block.x = titans_threads(d);
  err = ex.launch(titans_forward_kernel<T>(g, C, fac, z, nullptr), l);
  ex.release(fac);
  ex.release(z);
  return err;
}

template <class Exec>
std::string titans_mlp_fwd_op(Exec& ex, const TitansMlpFwdArgs& g) {
  if (g.d.B * g.d.H == 0 || g.d.n() == 0) return "";
  if (g.chunk <= 0) return "titansMlp: chunk size must be positive";
  if (g.dt == DT::F32) return titans_mlp_fwd_typed<float>(ex, g);
  if (g.dt == DT::F64) return titans_mlp_fwd_typed<double>(ex, g);
  return "titansMlp: dtype must be float32 or float64";
}

// Scratch of the backward, released together.
template <class T>
struct TitansBwdScratch {
  T *boundary = nullptr, *states = nullptr;
  double *fac = nullptr, *vec = nullptr, *snap = nullptr;
};

template <class T, class Exec>
std::string titans_bwd_alloc(Exec& ex, const TitansDims& d, int64_t C, int64_t N, TitansBwdScratch<T>& s) {
  const int64_t BH = d.B * d.H, n = d.n();
  const size_t bytes[5] = {size_t(BH * (N > 0 ? N : 1) * 4 * n) * sizeof(T), size_t(BH * (C + 1) * 4 * n) * sizeof(T),
                           size_t(BH * C * d.fac_stride()) * sizeof(double),
                           size_t(BH * (5 * d.Dh + 2 * d.D)) * sizeof(double), size_t(BH * 2 * n) * sizeof(double)};
  void** slots[5] = {reinterpret_cast<void**>(&s.boundary), reinterpret_cast<void**>(&s.states),
                     reinterpret_cast<void**>(&s.fac), reinterpret_cast<void**>(&s.vec),
                     reinterpret_cast<void**>(&s.snap)};
  std::string err;
  for (int i = 0; i < 5 && err.empty(); ++i) *slots[i] = ex.scratch(bytes[i], err);
  return err;
}

template <class T, class Exec>
void titans_bwd_release(Exec& ex, TitansBwdScratch<T>& s) {
  for (void* p : {static_cast<void*>(s.boundary), static_cast<void*>(s.states), static_cast<void*>(s.fac),
                  static_cast<void*>(s.vec), static_cast<void*>(s.snap)})
    if (p != nullptr) ex.release(p);
}

template <class T, class Exec>
std::string titans_mlp_bwd_typed(Exec& ex, const TitansMlpBwdArgs& g) {
  const TitansDims& d = g.d;
  const int64_t n = d.n(), C = titans_chunk(d, g.chunk), N = titans_nchunks(d, C);
  TitansBwdScratch<T> s;
  std::string err = titans_bwd_alloc<T>(ex, d, C, N, s);
  Launch l;
  l.grid.x = unsigned(d.B * d.H);
  l.block.x = titans_threads(d);
  if (err.empty() && N > 0) {
    // chunk-boundary states; the running state goes through the weight / momentum gradients
    TitansMlpFwdArgs f{g.dt, d, g.chunk, g.read_after, g.q, g.k, g.v, g.th, g.et, g.al, g.w1, g.w2, g.s1, g.s2,
                       nullptr, g.dw1, g.dw2, g.ds1, g.ds2};
    err = ex.launch(titans_forward_kernel<T>(f, C, s.fac, s.vec, s.boundary), l);
  }
  l.smem = unsigned(3 * l.block.x * sizeof(double));
  // T = 0 runs one empty chunk: the final-state gradients pass through
  for (int64_t c = (N > 0 ? N : 1) - 1; c >= 0 && err.empty(); --c) {
    const int64_t t0 = c * C, L = d.T - t0 < C ? d.T - t0 : C;
    TitansChunkBackK<T> bk{d,
                           g.read_after,
                           c == (N > 0 ? N : 1) - 1,
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
                           static_cast<const T*>(g.gW1),
                           static_cast<const T*>(g.gW2),
                           static_cast<const T*>(g.gS1),
                           static_cast<const T*>(g.gS2),
                           s.boundary + c * 4 * n,
                           (N > 0 ? N : 1) * 4 * n,
                           s.states,
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
                           s.fac,
                           s.vec,
                           s.snap};
    err = ex.launch(bk, l);
  }
  titans_bwd_release<T>(ex, s);
  return err;
}

template <class Exec>
std::string titans_mlp_bwd_op(Exec& ex, const TitansMlpBwdArgs& g) {
  if (g.d.B * g.d.H == 0 || g.d.n() == 0) return "";
  if (g.chunk <= 0) return "titansMlp: chunk size must be positive";
  if (g.dt == DT::F32) return titans_mlp_bwd_typed<float>(ex, g);
  if (g.dt == DT::F64) return titans_mlp_bwd_typed<double>(ex, g);
  return "titansMlp: dtype must be float32 or float64";
}

}  // namespace nl::cuda

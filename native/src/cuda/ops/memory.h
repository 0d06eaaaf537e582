// CUDA ops: the fused gated delta rule (memory.gatedDeltaRule), forward and backward.
// Args structs + `template <class Exec> std::string <name>_op(Exec&, const Args&)`; kernels in
// cuda/kernels/delta_rule*.h. Operands are contiguous at their first element; the binding
// (binding/cuda_memory.cc) has checked every pointer and extent. The backward allocates its
// scratch (chunk-boundary states, one chunk of per-token states, per-token vectors) from the Exec.
#pragma once
#include <string>

#include "cuda/kernels/delta_rule.h"
#include "cuda/kernels/delta_rule_backward.h"
#include "cuda/kernels/strided.h"
#include "cuda/ops/chunk_scratch.h"

#define NL_CUDA_OPS_MEMORY(X)           \
  X(delta_rule_fwd, DeltaRuleFwdArgs)   \
  X(delta_rule_bwd, DeltaRuleBwdArgs)

namespace nl::cuda {

// o [B, T, H, Dv] and state [B, H, Dk, Dv] (= S_T) from q, k [B, T, H, Dk], v, α, β, s0 (null = 0).
struct DeltaRuleFwdArgs {
  DT dt;
  DeltaDims d;
  bool erase;
  const void *q, *k, *v, *al, *be, *s0;
  void *o, *state;
};

// Every gradient (overwritten) from dO (null = 0) and gS = dL/dS_T (null = 0); chunk > 0.
struct DeltaRuleBwdArgs {
  DT dt;
  DeltaDims d;
  bool erase;
  int64_t chunk;
  const void *q, *k, *v, *al, *be, *s0, *dO, *gS;
  void *dq, *dk, *dv, *dal, *dbe, *ds0;
};

// One block per (b, h); threads cover max(Dk, Dv).
inline Launch delta_launch(const DeltaDims& d) { return bh_launch(d.B * d.H, d.dk > d.dv ? d.dk : d.dv); }

template <class T, class Exec>
std::string delta_rule_fwd_typed(Exec& ex, const DeltaRuleFwdArgs& g) {
  DeltaForwardK<T> k{g.d, g.erase, 1, 1, static_cast<const T*>(g.q), static_cast<const T*>(g.k),
                     static_cast<const T*>(g.v), static_cast<const T*>(g.al), static_cast<const T*>(g.be),
                     static_cast<const T*>(g.s0), static_cast<T*>(g.o), static_cast<T*>(g.state), nullptr};
  return ex.launch(k, delta_launch(g.d));
}

template <class Exec>
std::string delta_rule_fwd_op(Exec& ex, const DeltaRuleFwdArgs& g) {
  if (g.d.B * g.d.H == 0 || g.d.dk * g.d.dv == 0) return "";
  if (g.dt == DT::F32) return delta_rule_fwd_typed<float>(ex, g);
  if (g.dt == DT::F64) return delta_rule_fwd_typed<double>(ex, g);
  return "gatedDeltaRule: dtype must be float32 or float64";
}

template <class T, class Exec>
std::string delta_rule_bwd_typed(Exec& ex, const DeltaRuleBwdArgs& g) {
  const DeltaDims& d = g.d;
  const int64_t n = d.dk * d.dv, BH = d.B * d.H;
  const ChunkPlan cp = chunk_plan(d.T, g.chunk);
  const int64_t C = cp.C, N = cp.NB;  // T = 0: one empty chunk
  ScratchSet<Exec> sc(ex);
  T* boundary = sc.template take<T>(BH * N * n);
  T* states = sc.template take<T>(BH * (C + 1) * n);
  double* vec = sc.template take<double>(BH * 3 * d.dv);
  if (!sc.err.empty()) return sc.err;
  const T *q = static_cast<const T*>(g.q), *k = static_cast<const T*>(g.k), *v = static_cast<const T*>(g.v);
  const T *al = static_cast<const T*>(g.al), *be = static_cast<const T*>(g.be);
  Launch l = delta_launch(d);
  // chunk-boundary states (the running state goes through ds0, overwritten by the first chunk)
  DeltaForwardK<T> fk{d, g.erase, C, N, q, k, v, al, be, static_cast<const T*>(g.s0), nullptr,
                      static_cast<T*>(g.ds0), boundary};
  std::string err = ex.launch(fk, l);
  l.smem = unsigned(2 * l.block.x * sizeof(double));
  for (int64_t c = N - 1; c >= 0 && err.empty(); --c) {
    DeltaChunkBackK<T> bk{d, g.erase, c == N - 1, cp.start(c), cp.length(c), (C + 1) * n, l.block.x, q, k, v, al, be,
                          static_cast<const T*>(g.dO), static_cast<const T*>(g.gS), boundary + c * n, N * n,
                          states, static_cast<T*>(g.ds0), static_cast<T*>(g.dq), static_cast<T*>(g.dk),
                          static_cast<T*>(g.dv), static_cast<T*>(g.dal), static_cast<T*>(g.dbe), vec};
    err = ex.launch(bk, l);
  }
  return err;
}

template <class Exec>
std::string delta_rule_bwd_op(Exec& ex, const DeltaRuleBwdArgs& g) {
  return chunked_op("gatedDeltaRule", g.dt, g.d.B * g.d.H == 0, g.chunk,
                    [&](auto t) { return delta_rule_bwd_typed<decltype(t)>(ex, g); });
}

}  // namespace nl::cuda

// CUDA ops: the fused SelfModifyingTitans memory (memory.selfModifyingTitans), forward and backward.
// Args structs + `template <class Exec> std::string <name>_op(Exec&, const Args&)`; kernels in
// cuda/kernels/self_mod*.h. Operands are contiguous at their first element; the binding
// (binding/cuda_self_mod.cc) has checked every pointer and extent. Scratch comes from the Exec:
// the work area, the per-token vectors; the backward also the block-boundary states (every `block`
// tokens), one block of per-token W1, W2 (slots) and the running adjoints. This file runs the token
// form; with dims.dual (the default) both ops go to the chunk form (ops/self_mod_dual.h).
#pragma once
#include <string>

#include "cuda/kernels/self_mod.h"
#include "cuda/kernels/self_mod_backward.h"
#include "cuda/kernels/strided.h"
#include "cuda/ops/chunk_scratch.h"
#include "cuda/ops/self_mod_dual.h"

#define NL_CUDA_OPS_SELF_MOD(X)       \
  X(self_mod_fwd, SelfModFwdArgs)     \
  X(self_mod_bwd, SelfModBwdArgs)

namespace nl::cuda {

// o [B, T, H, D] and the final states from x, q [B, T, H, D] and the initial states
// (st: w1, w2, s1, s2, a1, a2; w1, s1, a1 [B, M, H, D, Dh], w2, s2, a2 [B, M, H, Dh, D]).
struct SelfModFwdArgs {
  DT dt;
  SelfModCudaDims d;
  int64_t block;  // the chunk form's piece cuts (tokens a block, > 0)
  const void *x, *q;
  const void* st[6];
  void* o;
  void* out[6];
};

// dx, dq (zero with adaptive_q) and the initial-state gradients dst (overwritten) from dO (null = 0)
// and the final-state gradients gst (each null = 0); block > 0 tokens per recompute block.
struct SelfModBwdArgs {
  DT dt;
  SelfModCudaDims d;
  int64_t block;
  const void *x, *q, *dO;
  const void* st[6];
  const void* gst[6];
  void *dx, *dq;
  void* dst[6];
};

// One block per (b, h); threads cover M max(D, Dh) (the (memory, column) and (memory, hidden unit)
// items of most phases), at most 256 (the backward kernel's registers allow 256).
inline Launch self_mod_launch(const SelfModCudaDims& d) {
  return bh_launch(d.B * d.H, d.M * (d.D > d.Dh ? d.D : d.Dh));
}

template <class T, class Exec>
std::string self_mod_fwd_typed(Exec& ex, const SelfModFwdArgs& g) {
  const SelfModCudaDims& d = g.d;
  if (d.dual) return self_mod_dual_fwd_typed<T>(ex, g);
  const int64_t BH = d.B * d.H;
  ScratchSet<Exec> sc(ex);
  T* work = sc.template take<T>(BH * d.work_size());
  double* vec = sc.template take<double>(BH * SmLayout(d).total);
  if (!sc.err.empty()) return sc.err;
  Launch l = self_mod_launch(d);
  SelfModForwardK<T> k{};
  k.d = d, k.t0 = 0, k.t1 = d.T, k.block = 1;
  k.x = static_cast<const T*>(g.x), k.q = static_cast<const T*>(g.q);
  k.work = work, k.o = static_cast<T*>(g.o), k.vec = vec;
  for (int s = 0; s < 6; ++s) {
    k.init[s] = static_cast<const T*>(g.st[s]);
    k.out[s] = static_cast<T*>(g.out[s]);
  }
  return ex.launch(k, l);
}

template <class Exec>
std::string self_mod_fwd_op(Exec& ex, const SelfModFwdArgs& g) {
  if (g.d.B * g.d.H == 0 || g.d.n() == 0) return "";
  if (g.d.dual && g.block <= 0) return "selfModifyingTitans: block must be positive";
  if (g.dt == DT::F32) return self_mod_fwd_typed<float>(ex, g);
  if (g.dt == DT::F64) return self_mod_fwd_typed<double>(ex, g);
  return "selfModifyingTitans: dtype must be float32 or float64";
}

template <class T, class Exec>
std::string self_mod_bwd_typed(Exec& ex, const SelfModBwdArgs& g) {
  const SelfModCudaDims& d = g.d;
  if (d.dual) return self_mod_dual_bwd_typed<T>(ex, g);
  const int64_t BH = d.B * d.H, ws = d.work_size(), n = d.n();
  const ChunkPlan cp = chunk_plan(d.T, g.block);
  const int64_t C = cp.C, N = cp.NB;  // T = 0: one empty block
  const int64_t slot_stride = (C + 1) * d.M * 2 * n;
  ScratchSet<Exec> sc(ex);
  T* work = sc.template take<T>(BH * ws);
  T* boundary = sc.template take<T>(BH * N * ws);
  T* slots = sc.template take<T>(BH * slot_stride);
  T* adj = sc.template take<T>(BH * ws);
  double* vec = sc.template take<double>(BH * SmLayout(d).total);
  if (!sc.err.empty()) return sc.err;
  const T *x = static_cast<const T*>(g.x), *q = static_cast<const T*>(g.q);
  Launch l = self_mod_launch(d);
  // block-boundary states (boundary c of (b, h) at boundary + (bh * N + c) * ws)
  SelfModForwardK<T> fk{};
  fk.d = d, fk.t0 = 0, fk.t1 = d.T, fk.block = C, fk.nblocks = N;
  fk.x = x, fk.q = q, fk.work = work, fk.boundary = boundary, fk.vec = vec;
  for (int s = 0; s < 6; ++s) fk.init[s] = static_cast<const T*>(g.st[s]);
  std::string err = ex.launch(fk, l);
  Launch lb = l;
  lb.smem = unsigned(2 * l.block.x * sizeof(double));
  for (int64_t c = N - 1; c >= 0 && err.empty(); --c) {
    const int64_t t0 = cp.start(c), L = cp.length(c);
    // the block's per-token W1, W2 from its boundary state
    SelfModForwardK<T> rk = fk;
    rk.t0 = t0, rk.t1 = t0 + L, rk.boundary = nullptr, rk.slots = slots, rk.slot_stride = slot_stride;
    rk.start = boundary + c * ws, rk.start_stride = N * ws;
    err = ex.launch(rk, l);
    if (!err.empty()) break;
    SelfModChunkBackK<T> bk{};
    bk.d = d, bk.init = c == N - 1, bk.fini = c == 0, bk.t0 = t0, bk.L = L, bk.slot_stride = slot_stride;
    bk.threads = l.block.x, bk.x = x, bk.q = q, bk.dO = static_cast<const T*>(g.dO);
    bk.start = rk.start, bk.start_stride = rk.start_stride, bk.slots = slots, bk.adj = adj;
    bk.dx = static_cast<T*>(g.dx), bk.dq = static_cast<T*>(g.dq), bk.vec = vec;
    for (int s = 0; s < 6; ++s) {
      bk.gS[s] = static_cast<const T*>(g.gst[s]);
      bk.dinit[s] = static_cast<T*>(g.dst[s]);
    }
    err = ex.launch(bk, lb);
  }
  return err;
}

template <class Exec>
std::string self_mod_bwd_op(Exec& ex, const SelfModBwdArgs& g) {
  if (g.d.B * g.d.H == 0 || g.d.n() == 0) return "";
  if (g.block <= 0) return "selfModifyingTitans: block must be positive";
  if (g.dt == DT::F32) return self_mod_bwd_typed<float>(ex, g);
  if (g.dt == DT::F64) return self_mod_bwd_typed<double>(ex, g);
  return "selfModifyingTitans: dtype must be float32 or float64";
}

}  // namespace nl::cuda

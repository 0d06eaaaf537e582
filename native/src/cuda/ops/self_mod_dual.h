// CUDA ops: the fused SelfModifyingTitans memory in chunk ("dual") form (dims.dual), forward and
// backward (kernels: cuda/kernels/self_mod_dual*.h; the token form: ops/self_mod.h, which
// dispatches here). Arguments as ops/self_mod.h's; pieces as the CPU dual form (blocks of `block`
// tokens, block = min(block, T) as cpu/chunking.h's effective_tile, cut at every snapshot).
#pragma once
#include <string>

#include "cuda/kernels/self_mod_dual.h"
#include "cuda/kernels/self_mod_dual_backward.h"
#include "cuda/ops/chunk_scratch.h"

namespace nl::cuda {

// One block per (b, h); threads cover M max(D, Dh), at most 256 (as the token form's launch).
inline Launch self_mod_dual_launch(const SelfModCudaDims& d) {
  return bh_launch(d.B * d.H, d.M * (d.D > d.Dh ? d.D : d.Dh));
}

// The block of the CPU kernels (cpu/chunking.h effective_tile): min(block, T), at least 1.
inline int64_t sm_effective_block(int64_t block, int64_t T) {
  const int64_t b = block < T ? block : T;
  return b > 1 ? b : 1;
}

// A forward kernel over [t0, t1) with its scratch set (the op fills in states and outputs).
template <class T>
SelfModDualK<T> sm_dual_kernel(const SelfModCudaDims& d, int64_t block, int64_t t0, int64_t t1, T* work, double* vec,
                               double* dual, int64_t Lmax) {
  SelfModDualK<T> k{};
  k.d = d, k.t0 = t0, k.t1 = t1, k.block = block, k.npieces = sm_piece_count(d, block, t0, t1), k.Lmax = Lmax;
  k.work = work, k.vec = vec, k.dual = dual;
  return k;
}

template <class T, class Exec, class Args>
std::string self_mod_dual_fwd_typed(Exec& ex, const Args& g) {
  const SelfModCudaDims& d = g.d;
  const int64_t BH = d.B * d.H, block = sm_effective_block(g.block, d.T), Lmax = sm_piece_max(d, block);
  const int64_t np = sm_piece_count(d, block, 0, d.T);
  ScratchSet<Exec> sc(ex);
  T* work = sc.template take<T>(BH * d.work_size());
  double* vec = sc.template take<double>(BH * Lmax * SmLayout(d).total);
  double* dual = sc.template take<double>(BH * SmDualLayout(d, Lmax, np).total);
  if (!sc.err.empty()) return sc.err;
  SelfModDualK<T> k = sm_dual_kernel<T>(d, block, 0, d.T, work, vec, dual, Lmax);
  k.x = static_cast<const T*>(g.x), k.q = static_cast<const T*>(g.q), k.o = static_cast<T*>(g.o);
  for (int s = 0; s < 6; ++s) {
    k.init[s] = static_cast<const T*>(g.st[s]);
    k.out[s] = static_cast<T*>(g.out[s]);
  }
  return ex.launch(k, self_mod_dual_launch(d));
}

// Backward: the chunk-form forward keeps the block-boundary states (every `block` tokens; skipped
// for one block, which starts from the initial states); per block, last to first, it recomputes the
// block keeping each piece's start work area (pstart), then
// SelfModDualBackK reverses the block's pieces (the running adjoints stay in `adj`).
template <class T, class Exec, class Args>
std::string self_mod_dual_bwd_typed(Exec& ex, const Args& g) {
  const SelfModCudaDims& d = g.d;
  const int64_t BH = d.B * d.H, ws = d.work_size(), block = sm_effective_block(g.block, d.T);
  const int64_t Lmax = sm_piece_max(d, block), np = sm_piece_count(d, block, 0, d.T);
  const ChunkPlan cp = chunk_plan(d.T, block);
  const int64_t N = cp.NB;
  int64_t npb = 1;  // most pieces in one block
  for (int64_t c = 0; c < N; ++c) {
    const int64_t k = sm_piece_count(d, block, cp.start(c), cp.start(c) + cp.length(c));
    npb = k > npb ? k : npb;
  }
  ScratchSet<Exec> sc(ex);
  T* work = sc.template take<T>(BH * ws);
  T* boundary = sc.template take<T>(N > 1 ? BH * N * ws : 1);
  T* pstart = sc.template take<T>(BH * npb * ws);
  T* adj = sc.template take<T>(BH * ws);
  double* vec = sc.template take<double>(BH * Lmax * SmLayout(d).total);
  double* dual = sc.template take<double>(BH * SmDualLayout(d, Lmax, np).total);
  if (!sc.err.empty()) return sc.err;
  const T *x = static_cast<const T*>(g.x), *q = static_cast<const T*>(g.q);
  const Launch l = self_mod_dual_launch(d);
  SelfModDualK<T> fk = sm_dual_kernel<T>(d, block, 0, d.T, work, vec, dual, Lmax);
  fk.x = x, fk.q = q, fk.boundary = boundary, fk.nblocks = N;
  for (int s = 0; s < 6; ++s) fk.init[s] = static_cast<const T*>(g.st[s]);
  std::string err = N > 1 ? ex.launch(fk, l) : "";  // one block: it starts from the initial states
  for (int64_t c = N - 1; c >= 0 && err.empty(); --c) {
    const int64_t t0 = cp.start(c), t1 = t0 + cp.length(c);
    SelfModDualK<T> rk = sm_dual_kernel<T>(d, block, t0, t1, work, vec, dual, Lmax);
    for (int s = 0; s < 6; ++s) rk.init[s] = fk.init[s];
    rk.x = x, rk.q = q, rk.pstart = pstart;
    if (N > 1) rk.start = boundary + c * ws, rk.start_stride = N * ws;
    err = ex.launch(rk, l);
    if (!err.empty()) break;
    SelfModDualBackK<T> bk{};
    bk.d = d, bk.init = c == N - 1, bk.fini = c == 0, bk.t0 = t0, bk.t1 = t1, bk.block = block;
    bk.npieces = rk.npieces, bk.Lmax = Lmax, bk.x = x, bk.q = q, bk.dO = static_cast<const T*>(g.dO);
    bk.pstart = pstart, bk.adj = adj, bk.dx = static_cast<T*>(g.dx), bk.dq = static_cast<T*>(g.dq);
    bk.vec = vec, bk.dual = dual;
    for (int s = 0; s < 6; ++s) {
      bk.gS[s] = static_cast<const T*>(g.gst[s]);
      bk.dinit[s] = static_cast<T*>(g.dst[s]);
    }
    err = ex.launch(bk, l);
  }
  return err;
}

}  // namespace nl::cuda

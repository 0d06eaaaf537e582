// Scaffolding shared by the chunked memory ops (ops/memory.h, ops/titans.h, ops/titans_linear.h,
// ops/self_mod.h): scratch from the Exec released together, the chunking of T tokens, the
// one-block-per-(b, h) launch shape and the dtype / chunk checks before the typed op runs.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "cuda/hd.h"
#include "cuda/kernels/strided.h"

namespace nl::cuda {

// Scratch buffers from an Exec, all released when the set goes out of scope. `take` after a
// failed one returns null and leaves `err` as the first failure.
template <class Exec>
struct ScratchSet {
  static constexpr int kMax = 8;
  Exec& ex;
  void* p[kMax] = {};
  int k = 0;
  std::string err;
  explicit ScratchSet(Exec& e) : ex(e) {}
  ScratchSet(const ScratchSet&) = delete;
  ScratchSet& operator=(const ScratchSet&) = delete;
  template <class U>
  U* take(int64_t count) {
    if (!err.empty()) return nullptr;
    if (k == kMax) return err = "cuda ops: too many scratch buffers", nullptr;
    void* q = ex.scratch(size_t(count) * sizeof(U), err);
    if (err.empty()) p[k++] = q;
    return static_cast<U*>(q);
  }
  ~ScratchSet() {
    for (int i = 0; i < k; ++i) ex.release(p[i]);
  }
};

// T tokens in chunks of `chunk` (> 0): length C (T when chunk >= T; 1 when T = 0), count N, and
// NB = max(N, 1) chunks the backward walks (T = 0 runs one empty chunk: the final-state gradients
// pass through).
struct ChunkPlan {
  int64_t T, C, N, NB;
  int64_t start(int64_t c) const { return c * C; }
  int64_t length(int64_t c) const {  // tokens of chunk c (0 for the empty chunk of T = 0)
    const int64_t L = T - c * C < C ? T - c * C : C;
    return L > 0 ? L : 0;
  }
};

inline ChunkPlan chunk_plan(int64_t T, int64_t chunk) {
  const int64_t C = chunk < T ? chunk : (T > 0 ? T : 1), N = (T + C - 1) / C;
  return ChunkPlan{T, C, N, N > 0 ? N : 1};
}

// One block per (b, h) row of BH, threads a power of two covering `width`, in [32, 256].
inline Launch bh_launch(int64_t BH, int64_t width) {
  unsigned t = 32;
  while (t < 256 && int64_t(t) < width) t <<= 1;
  Launch l;
  l.grid.x = unsigned(BH);
  l.block.x = t;
  return l;
}

// The checks every chunked memory op makes before its typed body: nothing to do when `empty`, a
// positive chunk, float32 or float64. `typed(T{})` runs the body for element type T.
template <class Typed>
std::string chunked_op(const char* name, DT dt, bool empty, int64_t chunk, Typed typed) {
  if (empty) return "";
  if (chunk <= 0) return std::string(name) + ": chunk size must be positive";
  if (dt == DT::F32) return typed(float{});
  if (dt == DT::F64) return typed(double{});
  return std::string(name) + ": dtype must be float32 or float64";
}

}  // namespace nl::cuda

// The kernel contract, one text for the GPU and the host emulator.
//
// A kernel is a struct (its fields are the kernel's arguments, copied to the device by value) with
//   using Regs = ...;                        // per-thread state that lives across barriers
//   NL_HD int phases() const;                // __syncthreads() splits the body into phases
//   NL_HD void operator()(int phase, const Idx& at, char* smem, Regs& r) const;
// On a GPU (gpu_launch.cuh) one thread runs phase 0, __syncthreads(), phase 1, ... with `r` in
// registers and `smem` the block's dynamic shared memory. The host emulator (host/emulate.h) runs
// phase p for every thread of a block before phase p + 1, with a Regs per thread and one shared
// array per block, block by block. Whatever the emulator computes, a race-free kernel computes on
// the GPU: only races and memory coherence are outside what it can show.
#pragma once
#include "cuda/hd.h"

namespace nl::cuda {

struct NoRegs {};

// A 1-D grid-stride launch over n items: `threads` per block, at most `max_blocks` blocks.
inline Launch launch_1d(int64_t n, unsigned threads = 256, int64_t max_blocks = 4096) {
  Launch l;
  int64_t blocks = ceil_div(n > 0 ? n : 1, threads);
  l.grid.x = unsigned(blocks < max_blocks ? blocks : max_blocks);
  l.block.x = threads;
  return l;
}

// Grid-stride loop bounds of a 1-D launch.
NL_HD int64_t gs_start(const Idx& at) { return int64_t(at.block.x) * at.dim.x + at.thread.x; }
NL_HD int64_t gs_step(const Idx& at) { return int64_t(at.grid.x) * at.dim.x; }

}  // namespace nl::cuda

// Host emulation of a kernel launch (see cuda/launch.h): every block, each phase run for every
// thread of the block before the next, one Regs per thread, one zeroed shared array per block.
// Blocks and the threads of each phase run in the order `order` says (emu_order.h): index order by
// default, reversed or shuffled to expose races.
#pragma once
#include <cstring>
#include <string>
#include <vector>

#include "cuda/host/emu_order.h"
#include "cuda/launch.h"

namespace nl::cuda {

template <class K>
std::string emulate(const K& k, const Launch& l, const EmuOrder& order = EmuOrder{}) {
  const unsigned threads = l.block.x * l.block.y * l.block.z;
  if (threads == 0 || threads > 1024) return "emulate: block of " + std::to_string(threads) + " threads";
  const uint64_t blocks = uint64_t(l.grid.x) * l.grid.y * l.grid.z;
  std::vector<char> smem(l.smem + 16);
  std::vector<typename K::Regs> regs(threads);
  std::vector<unsigned> block_order, thread_order;
  // grids beyond 2^32 blocks do not occur (launch_1d caps them); index order past that
  const unsigned permuted = blocks <= 0xffffffffull ? unsigned(blocks) : 0;
  emu_permutation(block_order, permuted, order, ~uint64_t(0));
  Idx at;
  at.grid = l.grid;
  at.dim = l.block;
  const int phases = k.phases();
  for (uint64_t b = 0; b < blocks; ++b) {
    const uint64_t lin = b < permuted ? block_order[b] : b;  // block = x + gx * (y + gy * z)
    at.block = {unsigned(lin % l.grid.x), unsigned(lin / l.grid.x % l.grid.y), unsigned(lin / l.grid.x / l.grid.y)};
    std::memset(smem.data(), 0, smem.size());
    for (auto& r : regs) r = typename K::Regs{};
    for (int p = 0; p < phases; ++p) {
      emu_permutation(thread_order, threads, order, emu_mix(lin) ^ uint64_t(p));
      for (unsigned t : thread_order) {  // t = Idx::tid()
        at.thread = {t % l.block.x, t / l.block.x % l.block.y, t / l.block.x / l.block.y};
        k(p, at, smem.data(), regs[t]);
      }
    }
  }
  return "";
}

}  // namespace nl::cuda

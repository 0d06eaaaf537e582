// Host emulation of a kernel launch (see cuda/launch.h): every block in order, each phase run for
// every thread of the block before the next, one Regs per thread, one zeroed shared array per block.
#pragma once
#include <cstring>
#include <string>
#include <vector>

#include "cuda/launch.h"

namespace nl::cuda {

template <class K>
std::string emulate(const K& k, const Launch& l) {
  const unsigned threads = l.block.x * l.block.y * l.block.z;
  if (threads == 0 || threads > 1024) return "emulate: block of " + std::to_string(threads) + " threads";
  std::vector<char> smem(l.smem + 16);
  std::vector<typename K::Regs> regs(threads);
  Idx at;
  at.grid = l.grid;
  at.dim = l.block;
  const int phases = k.phases();
  for (unsigned bz = 0; bz < l.grid.z; ++bz)
    for (unsigned by = 0; by < l.grid.y; ++by)
      for (unsigned bx = 0; bx < l.grid.x; ++bx) {
        at.block = {bx, by, bz};
        std::memset(smem.data(), 0, smem.size());
        for (auto& r : regs) r = typename K::Regs{};
        for (int p = 0; p < phases; ++p) {
          unsigned t = 0;
          for (unsigned tz = 0; tz < l.block.z; ++tz)
            for (unsigned ty = 0; ty < l.block.y; ++ty)
              for (unsigned tx = 0; tx < l.block.x; ++tx, ++t) {
                at.thread = {tx, ty, tz};
                k(p, at, smem.data(), regs[t]);
              }
        }
      }
  return "";
}

}  // namespace nl::cuda

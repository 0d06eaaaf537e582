// bfloat16 rounding for 'medium' matmul precision: round-to-nearest-even of a float's top 16
// bits (NaN stays NaN). ToBf16K packs the bits for cuBLAS; RoundBf16K keeps float storage with
// the low 16 bits cleared (what the tiled kernel and the emulator multiply).
#pragma once
#include <cstdint>
#include <cstring>

#include "cuda/launch.h"

namespace nl::cuda {

NL_HD uint16_t bf16_bits(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40u);  // NaN: quiet, keep sign
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}

NL_HD float bf16_round(float x) {
  uint32_t u = uint32_t(bf16_bits(x)) << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

struct ToBf16K {
  using Regs = NoRegs;
  const float* in;
  uint16_t* out;
  int64_t n;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t i = gs_start(at); i < n; i += gs_step(at)) out[i] = bf16_bits(in[i]);
  }
};

struct RoundBf16K {
  using Regs = NoRegs;
  const float* in;
  float* out;
  int64_t n;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t i = gs_start(at); i < n; i += gs_step(at)) out[i] = bf16_round(in[i]);
  }
};

}  // namespace nl::cuda

// Test-only kernels for the emulator's race check (emu_order.h), never compiled for a GPU nor put
// in the op table: one race-free and three with the bugs the check exists to catch.
//   kind 0  race-free: smem[t] = t + 1 | barrier | out[t] = smem[(t + 1) % n]
//   kind 1  global write race: every thread writes out[0] = t in one phase (last writer wins)
//   kind 2  missing barrier: smem[t] = t + 1 and out[t] = smem[(t + 1) % n] in the same phase
//   kind 3  float atomic adds: out[0] += 0.1 * (t + 1) by every thread (order-dependent rounding only)
#pragma once
#include "cuda/hd.h"
#include "cuda/launch.h"

namespace nl::cuda {

struct RaceProbeKernel {
  using Regs = NoRegs;
  float* out;  // [n] (kinds 0, 2) or [1] (kinds 1, 3)
  int kind;
  NL_HD int phases() const { return kind == 0 ? 2 : 1; }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    float* s = reinterpret_cast<float*>(smem);  // [n]
    const unsigned t = at.tid(), n = at.threads();
    if (kind == 1) out[0] = float(t);
    if (kind == 3) nl_atomic_add(out, 0.1f * float(t + 1));
    if (kind == 0 && phase == 0) s[t] = float(t + 1);
    if (kind == 0 && phase == 1) out[t] = s[(t + 1) % n];
    if (kind == 2) {
      s[t] = float(t + 1);
      out[t] = s[(t + 1) % n];
    }
  }
};

}  // namespace nl::cuda

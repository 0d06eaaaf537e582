// The `dims` object of the SelfModifyingTitans entry points (CPU: memory_self_mod.cc, CUDA:
// cuda_self_mod.cc), read and checked once for both. Field names: native/lib/memory.ts (SelfModDims).
#pragma once
#include <napi.h>

#include <string>

#include "binding/memory_common.h"
#include "cpu/self_mod.h"

namespace nl::binding {

// dims = { batch, seqLen, heads, d, hidden, mems, tokens, chunkMem, chunkOther, block? = 0 (automatic),
//          momentum, alphaBias, etaBias, adaptiveQ, readSnapshot, dual? = true, innerGradClip? = 0 },
// argument 1 of the call.
inline SelfModDims read_self_mod_dims(const Napi::CallbackInfo& info, const char* op) {
  memory::Fields f(info, 1, op, "dims");
  SelfModDims d;
  d.batch = f.integer("batch", 1);
  d.seq = f.integer("seqLen", 0);
  d.heads = f.integer("heads", 1);
  d.d = f.integer("d", 1);
  d.hidden = f.integer("hidden", 1);
  d.mems = f.integer("mems", 1);
  d.tokens = f.integer("tokens", 0);
  d.chunk_mem = f.integer("chunkMem", 1);
  d.chunk_other = f.integer("chunkOther", 1);
  d.block = f.integer("block", 0, 0);
  d.momentum = f.finite("momentum");
  d.alpha_bias = f.finite("alphaBias");
  d.eta_bias = f.finite("etaBias");
  d.adaptive_q = f.flag("adaptiveQ");
  d.read_snapshot = f.flag("readSnapshot");
  d.dual = f.flag("dual", 1);  // chunk form (cpu/self_mod_dual*.h, cuda/kernels/self_mod_dual*.h)
  d.clip = f.nonnegative("innerGradClip", 0);  // 0: off (cpu/self_mod_clip.h, cuda/kernels/self_mod_clip_back.h)
  f.done();
  if (d.mems != (d.adaptive_q ? 6 : 5)) {
    throw_range(info.Env(), op, "dims.mems must be 5 (k, v, eta, alpha, mem), or 6 with adaptiveQ (+ q), got " +
                                    std::to_string(d.mems));
  }
  if (d.block == 0) d.block = self_mod_auto_block(d.seq);  // 0 = automatic
  return d;
}

}  // namespace nl::binding

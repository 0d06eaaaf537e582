// Checks shared by the fused decode bindings (decode.cc, decode_titans.cc, decode_hope.cc).
//
// The in-place operands of a fused decode step (x, caches, memories, logits) must not share memory
// with any other operand: the kernels write them while still reading the rest (a weight viewed on
// the same buffer as x would silently change mid-step). Checked after the fields are read, by
// address ranges: one comparison per (written, other) pair, ~50 per block call.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

#include "binding/args.h"

namespace nl::binding {

// dims.d must split into dims.heads heads.
inline void check_heads(Napi::Env env, const char* op, int64_t d, int64_t heads) {
  if (d % heads != 0)
    throw_range(env, op,
                "dims.d (" + std::to_string(d) + ") must divide by dims.heads (" + std::to_string(heads) + ")");
}

struct OperandSpan {
  const char* name;
  const void* data;   // null: an absent optional operand
  int64_t elements;
  bool written;
};

// Throws "nl.<op>: arrays.<a> and arrays.<b> share memory ..." for the first overlapping pair in
// which one side is written; elem_bytes is the call's dtype size.
inline void check_disjoint(Napi::Env env, const char* op, const OperandSpan* s, int n, int64_t elem_bytes) {
  for (int i = 0; i < n; ++i) {
    if (!s[i].written || s[i].data == nullptr || s[i].elements == 0) continue;
    const auto a0 = reinterpret_cast<uintptr_t>(s[i].data);
    const auto a1 = a0 + static_cast<uintptr_t>(s[i].elements * elem_bytes);
    for (int j = 0; j < n; ++j) {
      if (j == i || s[j].data == nullptr || s[j].elements == 0 || (s[j].written && j < i)) continue;
      const auto b0 = reinterpret_cast<uintptr_t>(s[j].data);
      const auto b1 = b0 + static_cast<uintptr_t>(s[j].elements * elem_bytes);
      if (a0 < b1 && b0 < a1)
        throw_range(env, op,
                    std::string("arrays.") + s[i].name + " and arrays." + s[j].name +
                        " share memory; " + s[i].name + " is written in place, so it needs a buffer of its own");
    }
  }
}

}  // namespace nl::binding

// Helpers of the layout-family kernels (reduce*, layout*): JS typed-array store semantics and an
// incremental walk over a strided shape.
#pragma once
#include "cuda/launch.h"
#include "cuda/kernels/strided.h"

namespace nl::cuda {

// A JS number stored into a typed array of T: float rounding, or ToInt32 (NaN/Inf -> 0, modulo 2^32).
template <class T>
NL_HD T js_store(double v) { return static_cast<T>(v); }
template <>
NL_HD int32_t js_store<int32_t>(double v) {
  if (!(v - v == 0)) return 0;
  double t = v < 0 ? nl_ceil(v) : nl_floor(v);
  if (t >= -2147483648.0 && t <= 2147483647.0) return static_cast<int32_t>(t);
  t = fmod(t, 4294967296.0);
  if (t < 0) t += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(t));
}

// Incremental position of row-major element j of `shape` under `st` (no offset), j = 0, 1, ...
struct StridedWalk {
  int64_t idx[kMaxRank] = {};
  int64_t pos = 0;
  NL_HD void next(const Shape& shape, const Strides& st) {
    for (int d = shape.rank - 1; d >= 0; --d) {
      pos += st.s[d];
      if (++idx[d] < shape.dim[d]) return;
      pos -= st.s[d] * shape.dim[d];
      idx[d] = 0;
    }
  }
};

}  // namespace nl::cuda

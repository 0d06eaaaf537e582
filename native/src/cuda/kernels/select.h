// Index kernels: indexSelect, indexAdd, gather, scatterAdd and scatterAdd's src-gradient spread.
// One thread per element in a grid-stride loop. Index values (int32) count from the end when
// negative (v + size); a value still outside [0, size) is skipped (its output stays as it was),
// so no kernel reads or writes outside its operands. The TS kernels refuse such indices before
// launching (select_check.h); the skip only keeps a bad call memory-safe. Adds are atomic
// (nl_atomic_add): repeated indices accumulate; on a GPU their order is unspecified.
#pragma once
#include "cuda/launch.h"
#include "cuda/kernels/strided.h"

namespace nl::cuda {

// Position of row-major element i of `shape` in operand `s`, with the coordinate of dim `d`
// replaced by v.
NL_HD int64_t at_with(const Shape& shape, const Strides& s, int64_t i, int d, int64_t v) {
  int64_t pos = s.offset;
  for (int c = shape.rank - 1; c >= 0; --c) {
    const int64_t n = shape.dim[c];
    pos += (c == d ? v : i % n) * s.s[c];
    i /= n;
  }
  return pos;
}

// v counted from the end when negative; -1 when outside [0, size).
NL_HD int64_t wrap_index(int64_t v, int64_t size) {
  if (v < 0) v += size;
  return (v < 0 || v >= size) ? -1 : v;
}

// out [outer, k, inner] (contiguous; `shape` is x's with dim d = k) = x rows picked by idx.
template <class T>
struct IndexSelectK {
  using Regs = NoRegs;
  Shape shape;  // out's
  int d;
  int64_t n, inner, k, size;  // size: x.shape[d]
  T* out;
  const T* x;
  Strides sx;  // x's strides (dim d stepped by the index value)
  const int32_t* idx;
  int64_t idx_off, idx_stride;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t i = gs_start(at); i < n; i += gs_step(at)) {
      const int64_t j = (i / inner) % k;
      const int64_t v = wrap_index(idx[idx_off + j * idx_stride], size);
      if (v >= 0) out[i] = x[at_with(shape, sx, i, d, v)];
    }
  }
};

// out (contiguous, out.shape[d] = size) += src rows at idx along d; `shape` is src's (dim d = k).
template <class T>
struct IndexAddK {
  using Regs = NoRegs;
  Shape shape;  // src's
  int d;
  int64_t n, inner, k, size;
  T* out;
  Strides so;  // out's contiguous strides
  const T* src;
  Strides ss;
  const int32_t* idx;
  int64_t idx_off, idx_stride;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t i = gs_start(at); i < n; i += gs_step(at)) {
      const int64_t j = (i / inner) % k;
      const int64_t v = wrap_index(idx[idx_off + j * idx_stride], size);
      if (v >= 0) nl_atomic_add(out + at_with(shape, so, i, d, v), src[ss.at(shape, i)]);
    }
  }
};

// out (contiguous, index's shape) [..i..] = x[..idx[..i..]..] along d.
template <class T>
struct GatherK {
  using Regs = NoRegs;
  Shape shape;  // index's
  int d;
  int64_t n, size;  // size: x.shape[d]
  T* out;
  const T* x;
  Strides sx;
  const int32_t* idx;
  Strides si;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t i = gs_start(at); i < n; i += gs_step(at)) {
      const int64_t v = wrap_index(idx[si.at(shape, i)], size);
      if (v >= 0) out[i] = x[at_with(shape, sx, i, d, v)];
    }
  }
};

// out (contiguous) [..idx[..i..]..] += src[..i..] along d, over index's shape (src may be larger).
template <class T>
struct ScatterAddK {
  using Regs = NoRegs;
  Shape shape;  // index's
  int d;
  int64_t n, size;  // size: out.shape[d]
  T* out;
  Strides so;  // out's contiguous strides
  const T* src;
  Strides ss;  // src's strides, walked over index's shape
  const int32_t* idx;
  Strides si;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t i = gs_start(at); i < n; i += gs_step(at)) {
      const int64_t v = wrap_index(idx[si.at(shape, i)], size);
      if (v >= 0) nl_atomic_add(out + at_with(shape, so, i, d, v), src[ss.at(shape, i)]);
    }
  }
};

// full (contiguous, zeros, at least g's shape) [..i..] = g[..i..] over g's shape.
template <class T>
struct SpreadK {
  using Regs = NoRegs;
  Shape shape;  // g's
  int64_t n;
  T* full;
  Strides sf;  // full's contiguous strides
  const T* g;
  Strides sg;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t i = gs_start(at); i < n; i += gs_step(at)) full[sf.at(shape, i)] = g[sg.at(shape, i)];
  }
};

}  // namespace nl::cuda

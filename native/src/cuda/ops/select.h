// CUDA ops of the select family: index checks, indexSelect, indexAdd, gather, scatterAdd,
// scatterSpread, topk, multinomial (prep + sample). Args structs + launchers; kernels in
// cuda/kernels/select*.h. The binding (binding/cuda_select.cc) has checked every pointer and
// extent; index values are range-checked by the kernels themselves (bad ones are skipped).
#pragma once
#include <string>

#include "cuda/kernels/select.h"
#include "cuda/kernels/select_check.h"
#include "cuda/kernels/select_topk.h"

#define NL_CUDA_OPS_SELECT(X)               \
  X(check_indices, CheckIndicesArgs)        \
  X(index_select, IndexSelectArgs)          \
  X(index_add, IndexAddArgs)                \
  X(gather, GatherArgs)                     \
  X(scatter_add, ScatterAddArgs)            \
  X(scatter_spread, SpreadArgs)             \
  X(topk, TopkArgs)                         \
  X(multinomial_prep, MultinomialPrepArgs)  \
  X(multinomial_sample, MultinomialSampleArgs)

namespace nl::cuda {

struct CheckIndicesArgs {
  Shape shape;
  const void* idx;  // int32
  Strides si;
  int64_t lo, hi;
  void* scratch;  // int64 [kCheckBlocks + 2]: partials, then the result (position or -1, value)
};

struct IndexSelectArgs {
  DT dt;
  Shape shape;  // out's: x's with dim d = k
  int d;
  int64_t size;  // x.shape[d]
  void* out;     // contiguous
  const void* x;
  Strides sx;
  const void* idx;  // int32, 1-D
  int64_t idx_off, idx_stride;
};

struct IndexAddArgs {
  DT dt;
  Shape shape;  // src's: out's with dim d = k
  int d;
  int64_t size;  // out.shape[d]
  void* out;     // contiguous
  Strides so;
  const void* src;
  Strides ss;
  const void* idx;
  int64_t idx_off, idx_stride;
};

struct GatherArgs {
  DT dt;
  Shape shape;  // index's (= out's)
  int d;
  int64_t size;  // x.shape[d]
  void* out;     // contiguous
  const void* x;
  Strides sx;
  const void* idx;
  Strides si;
};

struct ScatterAddArgs {
  DT dt;
  Shape shape;  // index's
  int d;
  int64_t size;  // out.shape[d]
  void* out;     // contiguous
  Strides so;
  const void* src;
  Strides ss;  // src's strides over index's shape
  const void* idx;
  Strides si;
};

struct SpreadArgs {
  DT dt;
  Shape shape;  // g's
  void* full;
  Strides sf;
  const void* g;
  Strides sg;
};

struct TopkArgs {
  DT dt;
  Shape row_shape;  // x's with dim d = 1
  Strides sx;
  int64_t n, k, inner, rows, step;
  const void* x;
  void* out;  // int32 [outer, k, inner]
  bool largest;
};

struct MultinomialPrepArgs {
  DT dt;
  int64_t rows, n;
  const void* w;
  int64_t off, rs, cs;
  void* err;    // int32 [rows]
  void* total;  // double [rows]
};

struct MultinomialSampleArgs {
  DT dt;
  int64_t rows, n, samples;
  const void* w;
  int64_t off, rs, cs;
  const void* err;
  const void* total;
  const void* u;  // double [rows * samples]
  void* out;      // int32 [rows * samples]
};

// f(T{}) for the operand dtype.
template <class F>
std::string by_dtype(DT dt, const char* op, F&& f) {
  switch (dt) {
    case DT::F32: return f(float{});
    case DT::F64: return f(double{});
    case DT::I32: return f(int32_t{});
  }
  return std::string(op) + ": bad dtype";
}

template <class Exec>
std::string check_indices_op(Exec& ex, const CheckIndicesArgs& g) {
  const int64_t n = g.shape.numel();
  int64_t* partial = static_cast<int64_t*>(g.scratch);
  Launch l = launch_1d(n, kCheckThreads, kCheckBlocks);
  l.smem = kCheckThreads * sizeof(int64_t);
  const auto* idx = static_cast<const int32_t*>(g.idx);
  std::string err = ex.launch(CheckK{g.shape, n, idx, g.si, g.lo, g.hi, partial}, l);
  if (!err.empty()) return err;
  Launch one;
  one.block.x = kCheckThreads;
  one.smem = l.smem;
  return ex.launch(CheckReduceK{g.shape, n, int64_t(l.grid.x), idx, g.si, partial, partial + kCheckBlocks}, one);
}

inline int64_t inner_of(const Shape& s, int d) {
  int64_t inner = 1;
  for (int c = d + 1; c < s.rank; ++c) inner *= s.dim[c];
  return inner;
}

template <class Exec>
std::string index_select_op(Exec& ex, const IndexSelectArgs& g) {
  const int64_t n = g.shape.numel();
  return by_dtype(g.dt, "indexSelect", [&](auto tag) {
    using T = decltype(tag);
    IndexSelectK<T> k{g.shape, g.d, n, inner_of(g.shape, g.d), g.shape.dim[g.d], g.size,
                      static_cast<T*>(g.out), static_cast<const T*>(g.x), g.sx,
                      static_cast<const int32_t*>(g.idx), g.idx_off, g.idx_stride};
    return ex.launch(k, launch_1d(n));
  });
}

template <class Exec>
std::string index_add_op(Exec& ex, const IndexAddArgs& g) {
  const int64_t n = g.shape.numel();
  return by_dtype(g.dt, "indexAdd", [&](auto tag) {
    using T = decltype(tag);
    IndexAddK<T> k{g.shape, g.d, n, inner_of(g.shape, g.d), g.shape.dim[g.d], g.size,
                   static_cast<T*>(g.out), g.so, static_cast<const T*>(g.src), g.ss,
                   static_cast<const int32_t*>(g.idx), g.idx_off, g.idx_stride};
    return ex.launch(k, launch_1d(n));
  });
}

template <class Exec>
std::string gather_op(Exec& ex, const GatherArgs& g) {
  const int64_t n = g.shape.numel();
  return by_dtype(g.dt, "gather", [&](auto tag) {
    using T = decltype(tag);
    GatherK<T> k{g.shape, g.d, n, g.size, static_cast<T*>(g.out), static_cast<const T*>(g.x), g.sx,
                 static_cast<const int32_t*>(g.idx), g.si};
    return ex.launch(k, launch_1d(n));
  });
}

template <class Exec>
std::string scatter_add_op(Exec& ex, const ScatterAddArgs& g) {
  const int64_t n = g.shape.numel();
  return by_dtype(g.dt, "scatterAdd", [&](auto tag) {
    using T = decltype(tag);
    ScatterAddK<T> k{g.shape, g.d, n, g.size, static_cast<T*>(g.out), g.so, static_cast<const T*>(g.src), g.ss,
                     static_cast<const int32_t*>(g.idx), g.si};
    return ex.launch(k, launch_1d(n));
  });
}

template <class Exec>
std::string scatter_spread_op(Exec& ex, const SpreadArgs& g) {
  const int64_t n = g.shape.numel();
  return by_dtype(g.dt, "scatterSpread", [&](auto tag) {
    using T = decltype(tag);
    SpreadK<T> k{g.shape, n, static_cast<T*>(g.full), g.sf, static_cast<const T*>(g.g), g.sg};
    return ex.launch(k, launch_1d(n));
  });
}

template <class Exec>
std::string topk_op(Exec& ex, const TopkArgs& g) {
  if (g.rows == 0 || g.k == 0) return "";
  if (g.rows > 0x7fffffff) return "topk: more than 2^31 - 1 rows";
  unsigned threads = 1;
  while (threads < 128 && int64_t(threads) < g.n) threads <<= 1;
  return by_dtype(g.dt, "topk", [&](auto tag) {
    using T = decltype(tag);
    TopkK<T> k{g.row_shape, g.sx, g.n, g.k, g.inner, g.step, static_cast<const T*>(g.x),
               static_cast<int32_t*>(g.out), g.largest, tree_steps(threads)};
    Launch l;
    l.grid.x = unsigned(g.rows);
    l.block.x = threads;
    l.smem = unsigned((threads + 1) * sizeof(TopkCand<T>));
    return ex.launch(k, l);
  });
}

template <class Exec>
std::string multinomial_prep_op(Exec& ex, const MultinomialPrepArgs& g) {
  return by_dtype(g.dt, "multinomial", [&](auto tag) {
    using T = decltype(tag);
    MnPrepK<T> k{g.rows, g.n, static_cast<const T*>(g.w), g.off, g.rs, g.cs, static_cast<int32_t*>(g.err),
                 static_cast<double*>(g.total)};
    return ex.launch(k, launch_1d(g.rows, 64));
  });
}

template <class Exec>
std::string multinomial_sample_op(Exec& ex, const MultinomialSampleArgs& g) {
  return by_dtype(g.dt, "multinomial", [&](auto tag) {
    using T = decltype(tag);
    MnSampleK<T> k{g.rows, g.n, g.samples, static_cast<const T*>(g.w), g.off, g.rs, g.cs,
                   static_cast<const int32_t*>(g.err), static_cast<const double*>(g.total),
                   static_cast<const double*>(g.u), static_cast<int32_t*>(g.out)};
    return ex.launch(k, launch_1d(g.rows * g.samples, 64));
  });
}

}  // namespace nl::cuda

// CUDA ops: reductions, softmax, scans, triangle, where, assign, fillView, prodBackward.
// Args structs + `template <class Exec> std::string <name>_op(Exec&, const Args&)`; kernels in
// cuda/kernels/ (reduce.h, layout_softmax.h, layout.h); reduce and softmax in ops/layout_reduce.h.
// The binding (binding/cuda_layout*.cc) has checked every pointer and extent.
#pragma once
#include <string>

#include "cuda/kernels/layout.h"
#include "cuda/ops/layout_reduce.h"

#define NL_CUDA_OPS_LAYOUT(X)         \
  X(reduce, ReduceArgs)               \
  X(softmax, SoftmaxArgs)             \
  X(where, WhereArgs)                 \
  X(assign, AssignArgs)               \
  X(fill_view, FillViewArgs)          \
  X(triangle, TriangleArgs)           \
  X(scan, ScanArgs)                   \
  X(cumprod_backward, CumprodBwdArgs) \
  X(prod_backward, ProdBwdArgs)

namespace nl::cuda {

struct WhereArgs {
  Shape shape;
  DT c_dt, dt;  // cond's dtype; a's, b's and out's
  void* out;    // contiguous
  const void* c;
  const void* a;
  const void* b;
  Strides sc, sa, sb;
};

struct AssignArgs {
  Shape shape;
  DT d_dt, s_dt;
  void* dst;
  const void* src;
  Strides sd, ss;
};

struct FillViewArgs {
  Shape shape;
  DT dt;
  void* dst;
  Strides sd;
  double value;
};

struct TriangleArgs {
  DT dt;
  void* out;  // contiguous [batch, r, c] from off
  int64_t off, n, r, c, k;
  bool lower;
};

struct ScanArgs {
  DT dt;
  void* out;  // contiguous [outer, n, inner] from off
  int64_t off, outer, n, inner;
  int kind;  // 0 sum, 1 prod, 2 reverse sum
};

struct CumprodBwdArgs {
  DT dt;
  void* out;
  const void* x;
  const void* g;
  int64_t out_off, x_off, g_off, outer, n, inner;
};

struct ProdBwdArgs {
  DT dt;
  Shape kshape, rshape;
  Strides xk, xr, gk, gr, ok, orr;  // offsets in the k* strides
  int64_t n, inner;
  const void* x;
  const void* ge;
  void* out;
};

template <class Exec>
std::string where_op(Exec& ex, const WhereArgs& g) {
  const int64_t n = g.shape.numel();
  return lay_dispatch(g.c_dt, [&](auto cz) {
    using TC = decltype(cz);
    return lay_dispatch(g.dt, [&](auto z) {
      using T = decltype(z);
      return ex.launch(WhereK<TC, T>{g.shape, n, static_cast<T*>(g.out), static_cast<const TC*>(g.c),
                                     static_cast<const T*>(g.a), static_cast<const T*>(g.b), g.sc, g.sa, g.sb},
                       launch_1d(n));
    });
  });
}

template <class Exec>
std::string assign_op(Exec& ex, const AssignArgs& g) {
  const int64_t n = g.shape.numel();
  return lay_dispatch(g.d_dt, [&](auto dz) {
    using TD = decltype(dz);
    return lay_dispatch(g.s_dt, [&](auto sz) {
      using TS = decltype(sz);
      return ex.launch(AssignK<TD, TS>{g.shape, n, static_cast<TD*>(g.dst), static_cast<const TS*>(g.src), g.sd, g.ss},
                       launch_1d(n));
    });
  });
}

template <class Exec>
std::string fill_view_op(Exec& ex, const FillViewArgs& g) {
  const int64_t n = g.shape.numel();
  return lay_dispatch(g.dt, [&](auto z) {
    using T = decltype(z);
    return ex.launch(FillViewK<T>{g.shape, n, static_cast<T*>(g.dst), g.sd, js_store<T>(g.value)}, launch_1d(n));
  });
}

template <class Exec>
std::string triangle_op(Exec& ex, const TriangleArgs& g) {
  if (g.n == 0) return "";
  return lay_dispatch(g.dt, [&](auto z) {
    using T = decltype(z);
    return ex.launch(TriangleK<T>{static_cast<T*>(g.out) + g.off, g.n, g.r, g.c, g.k, g.lower}, launch_1d(g.n));
  });
}

template <class Exec>
std::string scan_op(Exec& ex, const ScanArgs& g) {
  const int64_t lines = g.outer * g.inner;
  if (lines == 0 || g.n == 0) return "";
  return lay_dispatch(g.dt, [&](auto z) {
    using T = decltype(z);
    T* out = static_cast<T*>(g.out) + g.off;
    if (lines >= 512 || g.n < 2048) return ex.launch(ScanK<T>{out, g.outer, g.n, g.inner, g.kind}, launch_1d(lines));
    Launch l;
    l.block.x = 256;
    l.grid.x = unsigned(lines);
    l.smem = 2 * 256 * sizeof(double);
    return ex.launch(ScanBlockK<T>{out, g.n, g.inner, 0, g.kind}, l);
  });
}

template <class Exec>
std::string cumprod_backward_op(Exec& ex, const CumprodBwdArgs& g) {
  const int64_t lines = g.outer * g.inner;
  if (lines == 0 || g.n == 0) return "";
  return lay_dispatch(g.dt, [&](auto z) {
    using T = decltype(z);
    return ex.launch(CumprodBwdK<T>{static_cast<T*>(g.out) + g.out_off, static_cast<const T*>(g.x) + g.x_off,
                                    static_cast<const T*>(g.g) + g.g_off, g.outer, g.n, g.inner},
                     launch_1d(lines));
  });
}

template <class Exec>
std::string prod_backward_op(Exec& ex, const ProdBwdArgs& g) {
  if (g.n == 0) return "";
  return lay_dispatch(g.dt, [&](auto z) {
    using T = decltype(z);
    return ex.launch(ProdBwdK<T>{g.kshape, g.rshape, g.xk, g.xr, g.gk, g.gr, g.ok, g.orr, g.n, g.inner,
                                 static_cast<const T*>(g.x), static_cast<const T*>(g.ge), static_cast<T*>(g.out)},
                     launch_1d(g.n));
  });
}

}  // namespace nl::cuda

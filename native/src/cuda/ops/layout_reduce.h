// Reductions and softmax: argument structs, the launch plan and the launchers (kernels:
// kernels/reduce.h, kernels/layout_softmax.h). One text for the GPU and the emulator.
#pragma once
#include <string>

#include "cuda/kernels/layout_softmax.h"
#include "cuda/kernels/reduce.h"

namespace nl::cuda {

// Calls f(T{}) with T the C type of `dt`.
template <class F>
std::string lay_dispatch(DT dt, F&& f) {
  switch (dt) {
    case DT::F32: return f(float{});
    case DT::F64: return f(double{});
    case DT::I32: return f(int32_t{});
  }
  return "bad dtype";
}

constexpr int64_t kLayMaxGrid = int64_t(1) << 30;  // blocks per launch (grids loop past it)

// Threads of a block for `n` items of work: a power of two in [32, 256].
inline unsigned lay_threads(int64_t n) {
  unsigned t = 32;
  while (t < 256 && int64_t(t) < n) t <<= 1;
  return t;
}

// Drops size-1 dims and merges dims that are contiguous in one another (row-major order kept).
inline void lay_collapse(Shape& sh, Strides& st) {
  Shape o;
  Strides os;
  os.offset = st.offset;
  for (int d = 0; d < sh.rank; ++d) {
    if (sh.dim[d] == 1) continue;
    if (o.rank > 0 && os.s[o.rank - 1] == st.s[d] * sh.dim[d]) {
      o.dim[o.rank - 1] *= sh.dim[d];
      os.s[o.rank - 1] = st.s[d];
      continue;
    }
    o.dim[o.rank] = sh.dim[d];
    os.s[o.rank] = st.s[d];
    ++o.rank;
  }
  if (sh.numel() == 0) {  // keep an empty shape empty
    o.rank = 1;
    o.dim[0] = 0;
    os.s[0] = 0;
  }
  sh = o;
  st = os;
}

// How a reduction runs: Serial (a thread per output row), Rows (a block per row chunk) or Cols
// (blocks of 32 rows x 8 slices); `chunks` chunks of `clen` per row, chunks > 1 needing a partials
// buffer of n_out * chunks RStates and a combine pass.
enum class RedMode : int { Serial = 0, Rows, Cols };
struct ReducePlan {
  RedMode mode = RedMode::Serial;
  int64_t chunks = 1, clen = 0;
  unsigned threads = 32;
};

// kept_inner: the operand's unit-stride dim is a kept one (column sums).
inline ReducePlan reduce_plan(int64_t n_out, int64_t inner, bool kept_inner) {
  ReducePlan p;
  p.clen = inner;
  if (inner <= 8) return p;
  if (kept_inner && n_out >= 16) {  // about 1024 blocks, chunks of at least 256
    p.mode = RedMode::Cols;
    const int64_t bx = ceil_div(n_out, 32), want = ceil_div(1024, bx), most = ceil_div(inner, 256);
    const int64_t chunks = want < most ? want : most;
    p.clen = ceil_div(inner, chunks);
    p.chunks = ceil_div(inner, p.clen);
    p.threads = 256;
    return p;
  }
  if (inner <= 32) return p;
  p.mode = RedMode::Rows;
  int64_t chunks = 1;
  if (n_out < 1024) {
    const int64_t want = ceil_div(inner, 4096), cap = ceil_div(2048, n_out);
    chunks = want < cap ? want : cap;
  }
  p.clen = ceil_div(inner, chunks);
  p.chunks = ceil_div(inner, p.clen);
  p.threads = lay_threads(p.clen);
  return p;
}

struct ReduceArgs {
  int op;  // RedOp
  DT in_dt, out_dt;
  Shape kshape, rshape;  // kept dims (output order), reduced dims
  Strides ks, rs;        // ks.offset = the operand's offset, rs.offset = 0
  int64_t n_out, inner;
  const void* a;
  void* out;       // contiguous [n_out]
  void* partials;  // n_out * plan.chunks RStates when plan.chunks > 1
  double correction;
  ReducePlan plan;
};

template <class TI, class TO, class Exec>
std::string reduce_typed(Exec& ex, const ReduceArgs& g) {
  const TI* a = static_cast<const TI*>(g.a);
  TO* out = static_cast<TO*>(g.out);
  if (g.plan.mode == RedMode::Serial)
    return ex.launch(ReduceSerialK<TI, TO>{g.op, g.kshape, g.rshape, g.ks, g.rs, g.n_out, g.inner, a, out,
                                           g.correction},
                     launch_1d(g.n_out));
  RState* parts = static_cast<RState*>(g.partials);
  Launch l;
  l.smem = unsigned(256 * sizeof(RState));
  if (g.plan.mode == RedMode::Cols) {
    ReduceColsK<TI, TO> k{g.op, g.kshape, g.rshape, g.ks, g.rs, g.n_out, g.inner, g.plan.chunks, g.plan.clen, 0,
                          a, out, parts, g.correction};
    l.block = {32, 8, 1};
    l.grid.y = unsigned(g.plan.chunks);
    const int64_t bx = ceil_div(g.n_out, 32);
    for (int64_t b0 = 0; b0 < bx; b0 += kLayMaxGrid) {
      k.row0 = b0 * 32;
      l.grid.x = unsigned(bx - b0 < kLayMaxGrid ? bx - b0 : kLayMaxGrid);
      std::string err = ex.launch(k, l);
      if (!err.empty()) return err;
    }
  } else {
    l.block.x = g.plan.threads;
    ReduceBlockK<TI, TO> k{g.op, g.kshape, g.rshape, g.ks, g.rs, g.inner, g.plan.chunks, g.plan.clen, 0,
                           a, out, parts, g.correction, tree_steps(g.plan.threads)};
    const int64_t items = g.n_out * g.plan.chunks;
    for (int64_t i0 = 0; i0 < items; i0 += kLayMaxGrid) {
      k.item0 = i0;
      l.grid.x = unsigned(items - i0 < kLayMaxGrid ? items - i0 : kLayMaxGrid);
      std::string err = ex.launch(k, l);
      if (!err.empty()) return err;
    }
  }
  if (g.plan.chunks == 1) return "";
  Launch lc;
  lc.block.x = lay_threads(g.plan.chunks);
  lc.smem = unsigned(lc.block.x * sizeof(RState));
  ReduceCombineK<TO> c{g.op, g.inner, g.plan.chunks, 0, parts, out, g.correction, tree_steps(lc.block.x)};
  for (int64_t r0 = 0; r0 < g.n_out; r0 += kLayMaxGrid) {
    c.row0 = r0;
    lc.grid.x = unsigned(g.n_out - r0 < kLayMaxGrid ? g.n_out - r0 : kLayMaxGrid);
    std::string err = ex.launch(c, lc);
    if (!err.empty()) return err;
  }
  return "";
}

// The output dtype of a reduction: int32 for argmax/argmin, float32 for int32 mean/logsumexp/var,
// else the input's (the rule of ops/reduce.ts).
inline DT reduce_out_dt(int op, DT in) {
  if (op == int(RedOp::Argmax) || op == int(RedOp::Argmin)) return DT::I32;
  if (in == DT::I32 && (op == int(RedOp::Mean) || op == int(RedOp::Logsumexp) || op == int(RedOp::Var)))
    return DT::F32;
  return in;
}

template <class Exec>
std::string reduce_op(Exec& ex, const ReduceArgs& g) {
  if (g.op < 0 || g.op >= kRedOpCount) return "reduce: bad op code";
  if (g.out_dt != reduce_out_dt(g.op, g.in_dt)) return "reduce: wrong output dtype";
  if (g.n_out == 0) return "";
  if (g.plan.chunks > 1 && g.partials == nullptr) return "reduce: no partials buffer";
  if (g.plan.chunks > 65535 || g.plan.clen * g.plan.chunks < g.inner) return "reduce: bad plan";
  const bool to_i32 = g.out_dt == DT::I32;
  switch (g.in_dt) {
    case DT::F32: return to_i32 ? reduce_typed<float, int32_t>(ex, g) : reduce_typed<float, float>(ex, g);
    case DT::F64: return to_i32 ? reduce_typed<double, int32_t>(ex, g) : reduce_typed<double, double>(ex, g);
    case DT::I32: return to_i32 ? reduce_typed<int32_t, int32_t>(ex, g) : reduce_typed<int32_t, float>(ex, g);
  }
  return "reduce: bad dtype";
}

struct SoftmaxArgs {
  DT in_dt, out_dt;  // out_dt: in_dt, or float32 for int32
  const void* a;     // contiguous [outer, n, inner] from a_off
  int64_t a_off;
  void* out;  // contiguous from out_off
  int64_t out_off;
  int64_t outer, n, inner;
  bool log;
};

template <class TI, class TO, class Exec>
std::string softmax_typed(Exec& ex, const SoftmaxArgs& g) {
  const TI* a = static_cast<const TI*>(g.a) + g.a_off;
  TO* out = static_cast<TO*>(g.out) + g.out_off;
  if (g.inner != 1 || g.n <= 32)
    return ex.launch(SoftmaxLineK<TI, TO>{a, out, g.outer, g.n, g.inner, g.log}, launch_1d(g.outer * g.inner));
  Launch l;
  l.block.x = lay_threads(g.n);
  l.smem = unsigned(2 * l.block.x * sizeof(double));
  SoftmaxBlockK<TI, TO> k{a, out, g.n, 0, g.log, tree_steps(l.block.x)};
  for (int64_t r0 = 0; r0 < g.outer; r0 += kLayMaxGrid) {
    k.row0 = r0;
    l.grid.x = unsigned(g.outer - r0 < kLayMaxGrid ? g.outer - r0 : kLayMaxGrid);
    std::string err = ex.launch(k, l);
    if (!err.empty()) return err;
  }
  return "";
}

template <class Exec>
std::string softmax_op(Exec& ex, const SoftmaxArgs& g) {
  if (g.out_dt != (g.in_dt == DT::I32 ? DT::F32 : g.in_dt)) return "softmax: wrong output dtype";
  if (g.outer * g.n * g.inner == 0) return "";
  if (g.in_dt == DT::I32) return softmax_typed<int32_t, float>(ex, g);
  if (g.in_dt == DT::F32) return softmax_typed<float, float>(ex, g);
  return softmax_typed<double, double>(ex, g);
}

}  // namespace nl::cuda

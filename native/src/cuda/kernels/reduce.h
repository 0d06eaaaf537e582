// Reduction kernels over a strided operand seen as [kept..., reduced...]: row r of the output is
// the reduction of the `inner` elements at a[ks.at(kshape, r) + rs.at(rshape, j)], j < inner.
// Every op keeps a combinable partial (RState, in double as the CPU accumulates): sum, prod, the
// (value, index) of max/min/argmax/argmin (the first NaN wins, ties go to the first index), the
// (max, sum exp) of logsumexp and Welford's (count, mean, M2) of var. Three kernels:
//   ReduceSerialK  one thread per output row (short rows)
//   ReduceBlockK   one block per (row, chunk): threads stride over the chunk, a shared-memory tree
//                  combines them; one chunk per row writes the output, several write partials
//   ReduceColsK    blocks of 32 output rows x 8 slices of a chunk (column sums: the kept dims
//                  hold the unit stride, so the 32 threads of a row read neighbouring elements)
//   ReduceCombineK one block per row combines its chunks' partials and writes the output
#pragma once
#include "cuda/launch.h"
#include "cuda/kernels/layout_common.h"

namespace nl::cuda {

enum class RedOp : int { Sum = 0, Mean, Max, Min, Argmax, Argmin, Logsumexp, Var, Prod };
constexpr int kRedOpCount = 9;

// Sum/Mean/Prod: a. Max..Argmin: a value, i index (-1: empty). Logsumexp: a max, b sum exp(x - a).
// Var: a count, b mean, c M2.
struct RState {
  double a, b, c;
  int64_t i;
};

NL_HD double red_inf() { return double(INFINITY); }

NL_HD RState red_init(int op) {
  switch (static_cast<RedOp>(op)) {
    case RedOp::Prod: return {1, 0, 0, -1};
    case RedOp::Logsumexp: return {-red_inf(), 0, 0, -1};
    default: return {0, 0, 0, -1};
  }
}

NL_HD bool red_is_max(int op) { return op == int(RedOp::Max) || op == int(RedOp::Argmax); }

// (value, index) pairs: NaN beats numbers (the first NaN among NaNs), then the larger (smaller)
// value, then the first index.
NL_HD bool red_better(bool is_max, double v, int64_t vi, double w, int64_t wi) {
  const bool vn = v != v, wn = w != w;
  if (vn || wn) return vn && (!wn || vi < wi);
  if (v != w) return is_max ? v > w : v < w;
  return vi < wi;
}

NL_HD void red_push(int op, RState& s, double v, int64_t j) {
  switch (static_cast<RedOp>(op)) {
    case RedOp::Sum:
    case RedOp::Mean: s.a += v; return;
    case RedOp::Prod: s.a *= v; return;
    case RedOp::Max:
    case RedOp::Min:
    case RedOp::Argmax:
    case RedOp::Argmin:
      // indices arrive increasing: a new element wins only when strictly better (or a first NaN)
      if (s.i < 0 || (s.a == s.a && (v != v || (red_is_max(op) ? v > s.a : v < s.a)))) {
        s.a = v;
        s.i = j;
      }
      return;
    case RedOp::Logsumexp:
      if (v == -red_inf()) return;
      if (v > s.a) {
        s.b = s.b * nl_exp(s.a - v) + 1;
        s.a = v;
      } else {
        s.b += nl_exp(v - s.a);
      }
      return;
    case RedOp::Var: {
      s.a += 1;
      const double d = v - s.b;
      s.b += d / s.a;
      s.c += d * (v - s.b);
      return;
    }
  }
}

NL_HD RState red_combine(int op, const RState& x, const RState& y) {
  switch (static_cast<RedOp>(op)) {
    case RedOp::Sum:
    case RedOp::Mean: return {x.a + y.a, 0, 0, -1};
    case RedOp::Prod: return {x.a * y.a, 0, 0, -1};
    case RedOp::Max:
    case RedOp::Min:
    case RedOp::Argmax:
    case RedOp::Argmin:
      if (x.i < 0) return y;
      if (y.i < 0) return x;
      return red_better(red_is_max(op), y.a, y.i, x.a, x.i) ? y : x;
    case RedOp::Logsumexp: {
      const double m = x.a > y.a ? x.a : y.a;
      if (m == -red_inf() || m == red_inf()) return {m, x.b + y.b, 0, -1};
      return {m, x.b * nl_exp(x.a - m) + y.b * nl_exp(y.a - m), 0, -1};
    }
    case RedOp::Var: {
      if (x.a == 0) return y;
      if (y.a == 0) return x;
      const double n = x.a + y.a, d = y.b - x.b;
      return {n, x.b + d * (y.a / n), x.c + y.c + d * d * (x.a * y.a / n), -1};
    }
  }
  return x;
}

struct RedCombine {
  int op;
  NL_HD RState operator()(const RState& x, const RState& y) const { return red_combine(op, x, y); }
};

NL_HD double red_final(int op, const RState& s, int64_t n, double correction) {
  switch (static_cast<RedOp>(op)) {
    case RedOp::Mean: return s.a / double(n);
    case RedOp::Argmax:
    case RedOp::Argmin: return double(s.i);
    case RedOp::Logsumexp:
      if (s.a == -red_inf() || s.a == red_inf()) return s.a;
      return s.a + nl_log(s.b);
    case RedOp::Var: {
      const double den = double(n) - correction;
      return s.c / (den > 0 ? den : 0.0);
    }
    default: return s.a;
  }
}

// One thread per output row (grid-stride).
template <class TI, class TO>
struct ReduceSerialK {
  using Regs = NoRegs;
  int op;
  Shape kshape, rshape;
  Strides ks, rs;  // ks.offset: the operand's offset; rs.offset 0
  int64_t n_out, inner;
  const TI* a;
  TO* out;
  double correction;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t r = gs_start(at); r < n_out; r += gs_step(at)) {
      const int64_t base = ks.at(kshape, r);
      RState s = red_init(op);
      StridedWalk w;
      for (int64_t j = 0; j < inner; ++j, w.next(rshape, rs)) red_push(op, s, double(a[base + w.pos]), j);
      out[r] = js_store<TO>(red_final(op, s, inner, correction));
    }
  }
};

// One block per (row, chunk) item: item0 + block.x = row * chunks + chunk.
template <class TI, class TO>
struct ReduceBlockK {
  using Regs = NoRegs;
  int op;
  Shape kshape, rshape;
  Strides ks, rs;
  int64_t inner, chunks, clen, item0;
  const TI* a;
  TO* out;
  RState* partials;  // [n_out, chunks] when chunks > 1
  double correction;
  int steps;  // tree_steps(threads)
  NL_HD int phases() const { return steps + 2; }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    RState* buf = reinterpret_cast<RState*>(smem);
    const unsigned tid = at.tid(), threads = at.threads();
    const int64_t item = item0 + at.block.x, row = item / chunks, c = item % chunks;
    if (phase == 0) {
      const int64_t base = ks.at(kshape, row), j1 = (c + 1) * clen < inner ? (c + 1) * clen : inner;
      RState s = red_init(op);
      for (int64_t j = c * clen + tid; j < j1; j += threads) red_push(op, s, double(a[base + rs.at(rshape, j)]), j);
      buf[tid] = s;
    } else if (phase <= steps) {
      tree_step(buf, tid, threads >> phase, RedCombine{op});
    } else if (tid == 0) {
      if (chunks > 1) partials[item] = buf[0];
      else out[row] = js_store<TO>(red_final(op, buf[0], inner, correction));
    }
  }
};

// Column reduction: block (32, 8), thread x an output row (neighbouring rows are neighbouring
// elements when the kept dims hold the unit stride), thread y a slice of chunk block.y of the
// reduced range; a tree over y. Output row = row0 + 32 * block.x + thread.x.
template <class TI, class TO>
struct ReduceColsK {
  using Regs = NoRegs;
  int op;
  Shape kshape, rshape;
  Strides ks, rs;
  int64_t n_out, inner, chunks, clen, row0;
  const TI* a;
  TO* out;
  RState* partials;
  double correction;
  NL_HD int phases() const { return 5; }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    RState* buf = reinterpret_cast<RState*>(smem);  // [8][32]
    const unsigned tid = at.tid();
    const int64_t row = row0 + int64_t(at.block.x) * 32 + at.thread.x, c = at.block.y;
    if (phase == 0) {
      RState s = red_init(op);
      if (row < n_out) {
        const int64_t base = ks.at(kshape, row), j1 = (c + 1) * clen < inner ? (c + 1) * clen : inner;
        for (int64_t j = c * clen + at.thread.y; j < j1; j += 8) red_push(op, s, double(a[base + rs.at(rshape, j)]), j);
      }
      buf[tid] = s;
    } else if (phase <= 3) {
      tree_step(buf, tid, 256u >> phase, RedCombine{op});
    } else if (at.thread.y == 0 && row < n_out) {
      if (chunks > 1) partials[row * chunks + c] = buf[at.thread.x];
      else out[row] = js_store<TO>(red_final(op, buf[at.thread.x], inner, correction));
    }
  }
};

// One block per row: combines the row's `chunks` partials (row0 + block.x).
template <class TO>
struct ReduceCombineK {
  using Regs = NoRegs;
  int op;
  int64_t inner, chunks, row0;
  const RState* partials;
  TO* out;
  double correction;
  int steps;
  NL_HD int phases() const { return steps + 2; }
  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs&) const {
    RState* buf = reinterpret_cast<RState*>(smem);
    const unsigned tid = at.tid(), threads = at.threads();
    const int64_t row = row0 + at.block.x;
    if (phase == 0) {
      RState s = red_init(op);
      for (int64_t c = tid; c < chunks; c += threads) s = red_combine(op, s, partials[row * chunks + c]);
      buf[tid] = s;
    } else if (phase <= steps) {
      tree_step(buf, tid, threads >> phase, RedCombine{op});
    } else if (tid == 0) {
      out[row] = js_store<TO>(red_final(op, buf[0], inner, correction));
    }
  }
};

}  // namespace nl::cuda

// Elementwise kernels: binary (broadcast + strides), unary, strided copy with dtype conversion,
// fill. One thread per output element in a grid-stride loop; the op is a runtime code (uniform
// across a launch, so the switch does not diverge). Op codes: nl/op_codes.h (src/tables/op_codes.json).
// Same semantics as the JS expressions in packages/tensor/src/kernels/exprs.ts.
#pragma once
#include "cuda/launch.h"
#include "cuda/kernels/strided.h"
#include "nl/op_codes.h"

namespace nl::cuda {

// Values are computed in C: double for f64, float for f32, double for i32 (JS numbers).
template <class T> struct Compute { using type = double; };
template <> struct Compute<float> { using type = float; };

template <class C>
NL_HD C binary_value(int op, C x, C y) {
  switch (static_cast<BinaryOp>(op)) {
    case BinaryOp::Add: return x + y;
    case BinaryOp::Sub: return x - y;
    case BinaryOp::Mul: return x * y;
    case BinaryOp::Div: return x / y;
    case BinaryOp::Maximum: return (x > y || x != x) ? x : y;
    case BinaryOp::Minimum: return (x < y || x != x) ? x : y;
    case BinaryOp::Pow: return nl_pow(x, y);
    case BinaryOp::Eq: return x == y ? C(1) : C(0);
    case BinaryOp::Ne: return x != y ? C(1) : C(0);
    case BinaryOp::Lt: return x < y ? C(1) : C(0);
    case BinaryOp::Le: return x <= y ? C(1) : C(0);
    case BinaryOp::Gt: return x > y ? C(1) : C(0);
    case BinaryOp::Ge: return x >= y ? C(1) : C(0);
  }
  return C(0);
}

template <class C>
NL_HD C gelu_exact(C x) { return C(0.5) * x * (C(1) + nl_erf(x * C(0.7071067811865476))); }

template <class C>
NL_HD C unary_value(int op, C x, C p0, C p1) {
  const C one = C(1), zero = C(0);
  switch (static_cast<UnaryOp>(op)) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Abs: return x < zero ? -x : x;
    case UnaryOp::Exp: return nl_exp(x);
    case UnaryOp::Log: return nl_log(x);
    case UnaryOp::Sqrt: return nl_sqrt(x);
    case UnaryOp::Rsqrt: return one / nl_sqrt(x);
    case UnaryOp::Tanh: return nl_tanh(x);
    case UnaryOp::Sigmoid: return one / (one + nl_exp(-x));
    case UnaryOp::Relu: return x < zero ? zero : x;
    case UnaryOp::Silu: return x / (one + nl_exp(-x));
    case UnaryOp::Gelu: return gelu_exact(x);
    case UnaryOp::Softplus: return x > C(20) ? x : nl_log1p(nl_exp(x));
    case UnaryOp::Square: return x * x;
    case UnaryOp::Clamp: return x < p0 ? p0 : (x > p1 ? p1 : x);
    case UnaryOp::Sin: return nl_sin(x);
    case UnaryOp::Cos: return nl_cos(x);
    case UnaryOp::Copy: return x;
    case UnaryOp::ReluMask: return x > zero ? one : zero;
    case UnaryOp::SiluDeriv: {
      const C s = one / (one + nl_exp(-x));
      return s * (one + x * (one - s));
    }
    case UnaryOp::GeluDeriv:
      return C(0.5) * (one + nl_erf(x * C(0.7071067811865476))) +
             x * C(0.3989422804014327) * nl_exp(C(-0.5) * x * x);
    case UnaryOp::ClampMask: return (x >= p0 && x <= p1) ? one : zero;
    case UnaryOp::Sign: return x > zero ? one : (x < zero ? -one : zero);
    case UnaryOp::Reciprocal: return one / x;
    case UnaryOp::Log1p: return nl_log1p(x);
    case UnaryOp::Expm1: return nl_expm1(x);
    case UnaryOp::GeluTanh: {
      const C u = C(0.7978845608028654) * (x + C(0.044715) * x * x * x);
      return C(0.5) * x * (one + nl_tanh(u));
    }
    case UnaryOp::GeluTanhDeriv: {
      const C u = C(0.7978845608028654) * (x + C(0.044715) * x * x * x);
      const C t = nl_tanh(u);
      return C(0.5) * (one + t) +
             C(0.5) * x * (one - t * t) * C(0.7978845608028654) * (one + C(3 * 0.044715) * x * x);
    }
    case UnaryOp::Floor: return nl_floor(x);
    case UnaryOp::Ceil: return nl_ceil(x);
    case UnaryOp::Round: return nl_round(x);
  }
  return zero;
}

// JS number -> int32 as the typed-array store does for finite values in range (truncation).
template <class TO, class C>
NL_HD TO store(C v) { return static_cast<TO>(v); }

// out[out_off + i] = op(a[i], b[i]) over `shape` (out contiguous). T: operand dtype, TO: out dtype.
template <class T, class TO>
struct BinaryK {
  using Regs = NoRegs;
  int op;
  Shape shape;
  int64_t n;
  TO* out;
  const T* a;
  const T* b;
  Strides sa, sb;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    using C = typename Compute<T>::type;
    for (int64_t i = gs_start(at); i < n; i += gs_step(at)) {
      const C x = C(a[sa.at(shape, i)]), y = C(b[sb.at(shape, i)]);
      out[i] = store<TO>(binary_value<C>(op, x, y));
    }
  }
};

template <class T>
struct UnaryK {
  using Regs = NoRegs;
  int op;
  Shape shape;
  int64_t n;
  T* out;
  const T* a;
  Strides sa;
  double p0, p1;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    using C = typename Compute<T>::type;
    for (int64_t i = gs_start(at); i < n; i += gs_step(at))
      out[i] = store<T>(unary_value<C>(op, C(a[sa.at(shape, i)]), C(p0), C(p1)));
  }
};

// out[i] = convert(a[i]) (out contiguous).
template <class TO, class TI>
struct CopyK {
  using Regs = NoRegs;
  Shape shape;
  int64_t n;
  TO* out;
  const TI* a;
  Strides sa;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t i = gs_start(at); i < n; i += gs_step(at)) out[i] = static_cast<TO>(a[sa.at(shape, i)]);
  }
};

template <class T>
struct FillK {
  using Regs = NoRegs;
  T* out;
  int64_t n;
  T value;
  NL_HD int phases() const { return 1; }
  NL_HD void operator()(int, const Idx& at, char*, Regs&) const {
    for (int64_t i = gs_start(at); i < n; i += gs_step(at)) out[i] = value;
  }
};

}  // namespace nl::cuda

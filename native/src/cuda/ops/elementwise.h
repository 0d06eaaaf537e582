// Elementwise ops (binary, unary, copy, fill): argument structs and launchers, one text for the
// GPU and the emulator (`Exec` is GpuExec in gpu/ops_gpu.cu or EmuExec in host/ops_emu.cc). The binding has checked
// every pointer and extent; dtypes arrive as DT codes.
#pragma once
#include <string>

#include "cuda/kernels/elementwise.h"

namespace nl::cuda {

struct BinaryArgs {
  int op;
  Shape shape;
  DT in_dt, out_dt;  // out_dt is in_dt, or I32 for comparisons
  void* out;         // contiguous, at element out_off
  int64_t out_off;
  const void* a;
  const void* b;
  Strides sa, sb;
};

struct UnaryArgs {
  int op;
  Shape shape;
  DT dt;
  void* out;  // contiguous
  const void* a;
  Strides sa;
  double p0, p1;
};

struct CopyArgs {
  Shape shape;
  DT out_dt, in_dt;
  void* out;  // contiguous
  const void* a;
  Strides sa;
};

struct FillArgs {
  DT dt;
  void* out;
  int64_t offset, n;
  double value;
};

template <class T, class TO, class Exec>
std::string binary_typed(Exec& ex, const BinaryArgs& g) {
  BinaryK<T, TO> k{g.op, g.shape, g.shape.numel(), static_cast<TO*>(g.out) + g.out_off,
                   static_cast<const T*>(g.a), static_cast<const T*>(g.b), g.sa, g.sb};
  return ex.launch(k, launch_1d(k.n));
}

template <class Exec>
std::string binary_op(Exec& ex, const BinaryArgs& g) {
  const bool cmp = g.out_dt == DT::I32 && g.in_dt != DT::I32;
  if (!cmp && g.out_dt != g.in_dt) return "binary: output dtype must equal the operands' (or be int32)";
  switch (g.in_dt) {
    case DT::F32: return cmp ? binary_typed<float, int32_t>(ex, g) : binary_typed<float, float>(ex, g);
    case DT::F64: return cmp ? binary_typed<double, int32_t>(ex, g) : binary_typed<double, double>(ex, g);
    case DT::I32: return binary_typed<int32_t, int32_t>(ex, g);
  }
  return "binary: bad dtype";
}

template <class Exec>
std::string unary_op(Exec& ex, const UnaryArgs& g) {
  const int64_t n = g.shape.numel();
  switch (g.dt) {
    case DT::F32:
      return ex.launch(UnaryK<float>{g.op, g.shape, n, static_cast<float*>(g.out), static_cast<const float*>(g.a),
                                     g.sa, g.p0, g.p1}, launch_1d(n));
    case DT::F64:
      return ex.launch(UnaryK<double>{g.op, g.shape, n, static_cast<double*>(g.out),
                                      static_cast<const double*>(g.a), g.sa, g.p0, g.p1}, launch_1d(n));
    case DT::I32:
      return ex.launch(UnaryK<int32_t>{g.op, g.shape, n, static_cast<int32_t*>(g.out),
                                       static_cast<const int32_t*>(g.a), g.sa, g.p0, g.p1}, launch_1d(n));
  }
  return "unary: bad dtype";
}

template <class TO, class TI, class Exec>
std::string copy_typed(Exec& ex, const CopyArgs& g) {
  const int64_t n = g.shape.numel();
  return ex.launch(CopyK<TO, TI>{g.shape, n, static_cast<TO*>(g.out), static_cast<const TI*>(g.a), g.sa},
                   launch_1d(n));
}

template <class TO, class Exec>
std::string copy_to(Exec& ex, const CopyArgs& g) {
  switch (g.in_dt) {
    case DT::F32: return copy_typed<TO, float>(ex, g);
    case DT::F64: return copy_typed<TO, double>(ex, g);
    case DT::I32: return copy_typed<TO, int32_t>(ex, g);
  }
  return "copy: bad dtype";
}

template <class Exec>
std::string copy_op(Exec& ex, const CopyArgs& g) {
  switch (g.out_dt) {
    case DT::F32: return copy_to<float>(ex, g);
    case DT::F64: return copy_to<double>(ex, g);
    case DT::I32: return copy_to<int32_t>(ex, g);
  }
  return "copy: bad dtype";
}

template <class Exec>
std::string fill_op(Exec& ex, const FillArgs& g) {
  switch (g.dt) {
    case DT::F32:
      return ex.launch(FillK<float>{static_cast<float*>(g.out) + g.offset, g.n, float(g.value)}, launch_1d(g.n));
    case DT::F64:
      return ex.launch(FillK<double>{static_cast<double*>(g.out) + g.offset, g.n, g.value}, launch_1d(g.n));
    case DT::I32:
      return ex.launch(FillK<int32_t>{static_cast<int32_t*>(g.out) + g.offset, g.n, int32_t(g.value)},
                       launch_1d(g.n));
  }
  return "fill: bad dtype";
}

}  // namespace nl::cuda

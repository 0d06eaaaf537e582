// Elementwise and row-reduction kernels behind @nl/tensor's CPU backend.
//
// Layout: the output is contiguous (n = prod(shape) elements); operands are strided views whose
// dims the caller has already collapsed (broadcast dims have stride 0), at most kMaxDims dims.
// Threaded over the output with the shared pool; the inner loop is specialised for unit stride
// and for stride 0 (broadcast scalar) so the compiler vectorises the common cases.
#pragma once
#include <cstdint>

namespace nl {

constexpr int kTensorMaxDims = 8;

enum class BinaryOp : int { Add = 0, Sub = 1, Mul = 2, Div = 3, Max = 4, Min = 5 };
enum class UnaryOp : int {
  Neg = 0, Abs = 1, Exp = 2, Log = 3, Sqrt = 4, Rsqrt = 5, Tanh = 6, Sigmoid = 7, Relu = 8,
  Silu = 9, Gelu = 10, Softplus = 11, Square = 12, Clamp = 13, Sin = 14, Cos = 15, Copy = 16,
  // derivative helpers of backward rules
  ReluMask = 17, SiluDeriv = 18, GeluDeriv = 19, ClampMask = 20, Sign = 21, Reciprocal = 22, Log1p = 23,
  Expm1 = 24
};
enum class RowReduceOp : int { Sum = 0, Mean = 1, Max = 2, Min = 3 };

struct StridedShape {
  int nd = 1;
  int64_t shape[kTensorMaxDims];
};

template <typename T>
void tensor_binary(BinaryOp op, const StridedShape& s, T* out, const T* a, const int64_t* sa, const T* b,
                   const int64_t* sb);
template <typename T>
void tensor_unary(UnaryOp op, const StridedShape& s, T* out, const T* a, const int64_t* sa, double p0, double p1);
// out[r] = reduce(a[r*n .. r*n+n)) for r < rows (contiguous rows).
template <typename T>
void tensor_reduce_rows(RowReduceOp op, int64_t rows, int64_t n, T* out, const T* a);

// out[j] = sum (or mean) over r of a[r*n + j] (reduce the leading dim of a contiguous [rows, n]).
template <typename T>
void tensor_reduce_cols(RowReduceOp op, int64_t rows, int64_t n, T* out, const T* a);
// Row-wise softmax (or log-softmax) of a contiguous [rows, n], max-subtracted.
template <typename T>
void tensor_softmax_rows(bool log, int64_t rows, int64_t n, T* out, const T* a);

}  // namespace nl

// Elementwise and row-reduction kernels behind @nl/tensor's CPU backend.
//
// Layout: the output is contiguous (n = prod(shape) elements); operands are strided views whose
// dims the caller has already collapsed (broadcast dims have stride 0), at most kMaxDims dims.
// Threaded over the output with the shared pool; the inner loop is specialised for unit stride
// and for stride 0 (broadcast scalar) so the compiler vectorises the common cases.
#pragma once
#include <cstdint>

#include "nl/op_codes.h"

namespace nl {

constexpr int kTensorMaxDims = 8;

// BinaryOp, UnaryOp, RowReduceOp (codes, counts, names): generated from src/tables/op_codes.json.

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

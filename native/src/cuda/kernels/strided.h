// Strided operands of the CUDA kernels: a shape of up to 8 dims and, per operand, an element
// offset and a stride per dim (0 for broadcast dims). Element i of the row-major iteration space
// lives at offset + sum_d idx_d(i) * stride_d.
#pragma once
#include <cstdint>

#include "cuda/hd.h"

namespace nl::cuda {

constexpr int kMaxRank = 8;

enum class DT : int { F32 = 0, F64 = 1, I32 = 2 };

struct Shape {
  int rank = 0;
  int64_t dim[kMaxRank] = {};
  NL_HD int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < rank; ++d) n *= dim[d];
    return n;
  }
};

struct Strides {
  int64_t offset = 0;
  int64_t s[kMaxRank] = {};
  // Position of row-major element i of `shape`.
  NL_HD int64_t at(const Shape& shape, int64_t i) const {
    int64_t pos = offset;
    for (int d = shape.rank - 1; d >= 0; --d) {
      const int64_t n = shape.dim[d];
      pos += (i % n) * s[d];
      i /= n;
    }
    return pos;
  }
};

}  // namespace nl::cuda

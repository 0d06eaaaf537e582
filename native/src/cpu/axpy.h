// y <- a*x + y over contiguous arrays (the sample kernel proving the CPU path end to end).
#pragma once
#include <cstdint>

namespace nl {

void axpy_f32(int64_t n, float a, const float* x, float* y);
void axpy_f64(int64_t n, double a, const double* x, double* y);

}  // namespace nl

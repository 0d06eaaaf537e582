// Batched quintic Newton–Schulz (Muon's zeropower_via_newtonschulz5) on the native GEMM, for
// @nl/optim's Muon and M3: per matrix X = G/(||G||_F + 1e-7) (transposed when rows > cols), then
// `steps` times A = X Xᵀ; B = bA + cA²; X = aX + BX with (a, b, c) = (3.4445, −4.7750, 2.0315).
// One call handles `batch` [rows, cols] matrices stacked in g; the three products per step are
// one batched gemm each. The TypeScript newtonSchulzRef (float64 loops) is the reference.
#pragma once
#include <cstdint>

namespace nl {

// g and out: [batch, rows, cols]; out may alias g. Callers check sizes.
void newton_schulz_f32(const float* g, float* out, int64_t batch, int64_t rows, int64_t cols, int64_t steps);
void newton_schulz_f64(const double* g, double* out, int64_t batch, int64_t rows, int64_t cols, int64_t steps);

}  // namespace nl

// Element-wise helpers of the fused decode steps that GCC vectorises inside plain loops: a
// branch-free float exp (std::exp is a scalar libm call per element) and the sigmoid / SiLU on it.
// Double keeps std::exp (the float64 tests compare to the tensor ops at 1e-9).
//
//   exp_fast(x) = 2^n · e^r,  n = round(x / ln 2),  r = x − n ln 2 (two-part ln 2),  |r| ≤ ln2 / 2
//   e^r by its degree-7 Taylor polynomial (truncation < 2e-8 relative), 2^n through the exponent bits.
//   x is clamped to [−87, 88] first: results stay finite and normal (e^−87 ≈ 1.6e−38), which is
//   all sigmoid and SiLU need (1 / (1 + e^88) and x / (1 + e^88) round to their limits); NaN stays NaN.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace nl::decode_vec {

inline float exp_fast(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  const float n = std::nearbyint(x * 1.44269504088896341f);
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;  // ln 2 = 0.693359375 − 2.12194440e-4
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;  // 2^n, n in [−126, 127]
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}
inline double exp_fast(double x) { return std::exp(x); }

template <typename T>
inline T sigmoid(T x) {
  return T(1) / (T(1) + exp_fast(-x));
}

template <typename T>
inline T silu(T x) {
  return x / (T(1) + exp_fast(-x));
}

}  // namespace nl::decode_vec

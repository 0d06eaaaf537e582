// Element-wise helpers of the fused decode steps that GCC vectorises inside plain loops: a
// branch-free float exp (std::exp is a scalar libm call per element) and the sigmoid / SiLU on it.
// Double keeps std::exp (the float64 tests compare to the tensor ops at 1e-9).
//
//   exp_fast(x) = 2^n · e^r,  n = round(x / ln 2),  r = x − n ln 2 (two-part ln 2),  |r| ≤ ln2 / 2
//   e^r by its degree-7 Taylor polynomial (truncation < 2e-8 relative), 2^n as 2^⌊n/2⌋ · 2^(n−⌊n/2⌋)
//   (two exact power-of-two factors built in the exponent bits, so n may run past the normal range).
//   Max relative error 7.9e-8 (≈ 1.3 ulp) over every float whose e^x is normal, [−87.33, 88.72]
//   (measured against double exp over all of them). Beyond, like expf: x is clamped to [−104, 89]
//   first, so e^x overflows to +inf above 88.72 and underflows through the subnormals to 0 below
//   −103.97; NaN stays NaN (n's bits are read without a float → int conversion: no UB for NaN).
//   sigmoid / SiLU therefore match their std::exp forms at the extremes: 0 / 1, −0 / x, NaN → NaN.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace nl::decode_vec {

// 2^e for e in [−126, 127] (two's complement in e; unsigned arithmetic: no overflow UB).
inline float pow2i(uint32_t e) {
  const uint32_t bits = (e + 127u) << 23;
  float s;
  std::memcpy(&s, &bits, sizeof(s));
  return s;
}

inline float exp_fast(float x) {
  x = x < -104.0f ? -104.0f : x;  // NaN passes both
  x = x > 89.0f ? 89.0f : x;
  const float n = std::nearbyint(x * 1.44269504088896341f);  // [−150, 128]
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;  // ln 2 = 0.693359375 − 2.12194440e-4
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const float biased = n + 12582912.0f;  // 1.5 · 2^23: n lands in the low mantissa bits
  uint32_t ni;
  std::memcpy(&ni, &biased, sizeof(ni));
  ni -= 0x4B400000u;
  const uint32_t half = static_cast<uint32_t>(static_cast<int32_t>(ni) >> 1);  // ⌊n/2⌋
  return (p * pow2i(half)) * pow2i(ni - half);
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

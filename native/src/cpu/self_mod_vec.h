// Explicit SIMD rows for the SelfModifyingTitans CPU kernels (self_mod*.cc): GCC/Clang vector
// extensions of one 512-bit vector (16 floats / 8 doubles; split by the compiler into narrower
// registers where the target lacks AVX-512). `each(n, fn)` runs fn(tag, c) over a row of n values:
// in vectors P = Vec<F> while they fit, then scalars P = F, so one generic body serves both and
// rows of any length (D, Dh) stay exact.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace nl::self_mod_detail {

template <typename F>
struct VecOf;
template <>
struct VecOf<float> {
  typedef float type __attribute__((vector_size(64)));
};
template <>
struct VecOf<double> {
  typedef double type __attribute__((vector_size(64)));
};
template <typename F>
using Vec = typename VecOf<F>::type;
template <typename F>
constexpr int64_t kLanes = 64 / static_cast<int64_t>(sizeof(F));

template <typename P, typename F>
inline P vload(const F* p) {
  P v;
  std::memcpy(&v, p, sizeof(P));
  return v;
}
template <typename P, typename F>
inline void vstore(F* p, const P& v) {
  std::memcpy(p, &v, sizeof(P));
}

// fn(Vec<F>{}, c) for c = 0, L, 2L, ... while a whole vector fits, then fn(F{}, c) for the rest.
template <typename F, typename Fn>
inline void each(int64_t n, Fn&& fn) {
  constexpr int64_t L = kLanes<F>;
  int64_t c = 0;
  for (; c + L <= n; c += L) fn(Vec<F>{}, c);
  for (; c < n; ++c) fn(F{}, c);
}

// Sum of the lanes of a vector (a scalar is its own sum).
inline float hsum(float v) { return v; }
inline double hsum(double v) { return v; }
inline float hsum(Vec<float> v) {  // halves added down to 4 lanes
  typedef float V8 __attribute__((vector_size(32)));
  typedef float V4 __attribute__((vector_size(16)));
  const V8 h = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
               __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  const V4 q = __builtin_shufflevector(h, h, 0, 1, 2, 3) + __builtin_shufflevector(h, h, 4, 5, 6, 7);
  return (q[0] + q[2]) + (q[1] + q[3]);
}
inline double hsum(Vec<double> v) {
  typedef double V4 __attribute__((vector_size(32)));
  const V4 h = __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
  return (h[0] + h[2]) + (h[1] + h[3]);
}

// out[i] = sum of the lanes of v[i], i < rows. Floats: 16 rows at a time by a transposing
// reduction (4 levels of lane shuffles and adds: row l's sum lands in lane l), the rest one by one.
inline void hsum_rows(int64_t rows, const Vec<float>* v, float* out) {
  using V = Vec<float>;
  int64_t i = 0;
  for (; i + 16 <= rows; i += 16) {
    const V* r = v + i;
    V s1[8], s2[4], s3[2];
    for (int k = 0; k < 8; ++k) {  // lane l: row 2k + (l & 1)
      const V a = r[2 * k], b = r[2 * k + 1];
      s1[k] = __builtin_shufflevector(a, b, 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30) +
              __builtin_shufflevector(a, b, 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
    }
    for (int k = 0; k < 4; ++k) {  // lane l: row 4k + (l & 3)
      const V a = s1[2 * k], b = s1[2 * k + 1];
      s2[k] = __builtin_shufflevector(a, b, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29) +
              __builtin_shufflevector(a, b, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
    }
    for (int k = 0; k < 2; ++k) {  // lane l: row 8k + (l & 7)
      const V a = s2[2 * k], b = s2[2 * k + 1];
      s3[k] = __builtin_shufflevector(a, b, 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27) +
              __builtin_shufflevector(a, b, 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
    }
    const V o = __builtin_shufflevector(s3[0], s3[1], 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
                __builtin_shufflevector(s3[0], s3[1], 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    vstore(out + i, o);  // lane l: row l
  }
  for (; i < rows; ++i) out[i] = hsum(v[i]);
}
inline void hsum_rows(int64_t rows, const Vec<double>* v, double* out) {
  for (int64_t i = 0; i < rows; ++i) out[i] = hsum(v[i]);
}

// sum_i a[i] b[i] over n values (vector partial sums, then the lanes).
template <typename F>
inline F vdot(int64_t n, const F* a, const F* b) {
  Vec<F> acc = Vec<F>{} + F(0);
  F tail = 0;
  each<F>(n, [&](auto tag, int64_t c) {
    using P = decltype(tag);
    if constexpr (sizeof(P) == sizeof(F)) tail += a[c] * b[c];
    else acc += vload<P>(a + c) * vload<P>(b + c);
  });
  return hsum(acc) + tail;
}

// out[0..n) = sum_j x[j] W[j, 0..n) over rows j < rows (W row-major, leading dim n).
template <typename F>
inline void rows_combine(int64_t rows, int64_t n, const F* x, const F* W, F* out) {
  each<F>(n, [&](auto tag, int64_t c) {
    using P = decltype(tag);
    P a0 = P{} + F(0), a1 = a0, a2 = a0, a3 = a0;
    int64_t j = 0;
    for (; j + 4 <= rows; j += 4) {
      a0 += x[j] * vload<P>(W + j * n + c);
      a1 += x[j + 1] * vload<P>(W + (j + 1) * n + c);
      a2 += x[j + 2] * vload<P>(W + (j + 2) * n + c);
      a3 += x[j + 3] * vload<P>(W + (j + 3) * n + c);
    }
    for (; j < rows; ++j) a0 += x[j] * vload<P>(W + j * n + c);
    vstore(out + c, (a0 + a1) + (a2 + a3));
  });
}

// Branch-free exp for float (Cody-Waite reduction, degree-6 polynomial, relative error ~2e-7),
// on a vector or a scalar.
template <typename P>
inline P exp_approx(P x) {
  x = x < -87.0f ? P{} - 87.0f : x;
  x = x > 88.0f ? P{} + 88.0f : x;
  const P k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round to nearest
  const P r = (x - k * 0.693145751953125f) - k * 1.428606765330187045e-06f;
  P p = 1.3981999507e-3f * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  if constexpr (sizeof(P) == sizeof(float)) {
    const int32_t e = (static_cast<int32_t>(k) + 127) << 23;
    float s;
    std::memcpy(&s, &e, sizeof(s));
    return p * s;
  } else {
    typedef int32_t I __attribute__((vector_size(64)));  // P is Vec<float>
    const I e = (__builtin_convertvector(k, I) + 127) << 23;
    P scale;
    std::memcpy(&scale, &e, sizeof(scale));
    return p * scale;
  }
}

// s = sigmoid(x) on n values: exact std::exp for double, exp_approx for float.
inline void sigmoid_n(int64_t n, const float* x, float* s) {
  each<float>(n, [&](auto tag, int64_t c) {
    using P = decltype(tag);
    vstore(s + c, 1.0f / (1.0f + exp_approx<P>(-vload<P>(x + c))));
  });
}
inline void sigmoid_n(int64_t n, const double* x, double* s) {
  for (int64_t i = 0; i < n; ++i) s[i] = 1.0 / (1.0 + std::exp(-x[i]));
}

}  // namespace nl::self_mod_detail

// Elementwise and row-reduction kernels for @nl/tensor (see tensor_ops.h). Plain loops the
// compiler vectorises; threads split the output into row ranges of the innermost dim.
#include "cpu/tensor_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <vector>

#include "cpu/thread_pool.h"

namespace nl {
namespace {

constexpr int64_t kGrain = 1 << 15;

// exp for float that the compiler can vectorise (Cephes expf: range reduction by ln 2 and a
// degree-6 polynomial, ~1 ulp). Overflow gives +inf, underflow 0, NaN stays NaN.
inline float pow2i(int32_t n) {  // 2^n for -126 <= n <= 127
  const int32_t bits = (n + 127) << 23;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}
inline float vexp(float x) {
  const float xc = x < -103.9720840454f ? -103.9720840454f : (x > 88.7228317261f ? 88.7228317261f : x);
  float fx = std::floor(xc * 1.44269504088896341f + 0.5f);
  const float r = xc - fx * 0.693359375f + fx * 2.12194440e-4f;
  const float z = r * r;
  float y = ((((1.9875691500E-4f * r + 1.3981999507E-3f) * r + 8.3334519073E-3f) * r + 4.1665795894E-2f) * r +
             1.6666665459E-1f) * r + 5.0000001201E-1f;
  y = y * z + r + 1.0f;
  // scale by 2^n in two halves so n in [-150, 128] stays representable (denormals, near-overflow)
  const int32_t n = static_cast<int32_t>(fx);
  const int32_t h = n / 2;
  y = y * pow2i(h) * pow2i(n - h);
  y = x > 88.7228317261f ? std::numeric_limits<float>::infinity() : y;
  y = x < -103.9720840454f ? 0.0f : y;
  return x != x ? x : y;
}
inline double vexp(double x) { return std::exp(x); }

// tanh for float that vectorises (Cephes tanhf: odd polynomial below 0.625, 1 - 2/(e^{2|x|}+1)
// above, both computed and blended without branches); NaN stays NaN.
inline float vtanh(float x) {
  const float ax = std::fabs(x);
  const float z = x * x;
  const float p = ((((-5.70498872745E-3f * z + 2.06390887954E-2f) * z - 5.37397155531E-2f) * z + 1.33314422036E-1f) * z -
                   3.33332819422E-1f) * z * x + x;
  const float e = vexp(2.0f * (ax < 9.0f ? ax : 9.0f));
  float q = 1.0f - 2.0f / (e + 1.0f);
  q = ax >= 9.0f ? 1.0f : q;
  q = x < 0.0f ? -q : q;
  const float y = ax < 0.625f ? p : q;
  return x != x ? x : y;
}
inline double vtanh(double x) { return std::tanh(x); }

// Max (or min) of x[0..n) with GCC/Clang vector extensions so it compiles to vmaxps/vminps; NaN
// anywhere makes the result NaN (tracked in a separate vector, since max instructions drop NaN).
template <typename T>
T row_extreme(const T* __restrict x, int64_t n, bool is_max) {
#if defined(__GNUC__) && !defined(__clang__)
  constexpr int W = 64 / sizeof(T);
  typedef T V __attribute__((vector_size(64)));
  V best;
  V nanv = {};
  for (int k = 0; k < W; ++k) best[k] = x[0];
  int64_t i = 0;
  if (is_max) {
    for (; i + W <= n; i += W) {
      V v;
      std::memcpy(&v, x + i, sizeof(V));
      best = v > best ? v : best;
      nanv = v != v ? v : nanv;
    }
  } else {
    for (; i + W <= n; i += W) {
      V v;
      std::memcpy(&v, x + i, sizeof(V));
      best = v < best ? v : best;
      nanv = v != v ? v : nanv;
    }
  }
  T m = x[0];
  bool nan = false;
  for (int k = 0; k < W; ++k) {
    m = is_max ? (best[k] > m ? best[k] : m) : (best[k] < m ? best[k] : m);
    nan |= nanv[k] != nanv[k];
  }
  for (; i < n; ++i) {
    m = is_max ? (x[i] > m ? x[i] : m) : (x[i] < m ? x[i] : m);
    nan |= x[i] != x[i];
  }
  return nan ? std::numeric_limits<T>::quiet_NaN() : m;
#else
  // other compilers: plain loop (vector ?: on vector_size types is a GCC extension)
  T m = x[0];
  bool nan = false;
  for (int64_t i = 0; i < n; ++i) {
    m = is_max ? (x[i] > m ? x[i] : m) : (x[i] < m ? x[i] : m);
    nan |= x[i] != x[i];
  }
  return nan ? std::numeric_limits<T>::quiet_NaN() : m;
#endif
}

// Calls body(outOffset, aOffset, bOffset, innerCount) for every innermost run in [begin, end) rows.
template <typename Body>
void for_rows(const StridedShape& s, const int64_t* sa, const int64_t* sb, const Body& body) {
  const int nd = s.nd;
  const int64_t inner = s.shape[nd - 1];
  int64_t rows = 1;
  for (int d = 0; d < nd - 1; ++d) rows *= s.shape[d];
  if (rows == 0 || inner == 0) return;
  const int64_t grain_rows = std::max<int64_t>(1, kGrain / std::max<int64_t>(inner, 1));
  auto run = [&](int64_t r0, int64_t r1) {
    int64_t idx[kTensorMaxDims] = {0};
    int64_t rem = r0;
    int64_t oa = 0, ob = 0;
    for (int d = nd - 2; d >= 0; --d) {
      idx[d] = rem % s.shape[d];
      rem /= s.shape[d];
      oa += idx[d] * sa[d];
      if (sb) ob += idx[d] * sb[d];
    }
    for (int64_t r = r0; r < r1; ++r) {
      body(r * inner, oa, ob, inner);
      for (int d = nd - 2; d >= 0; --d) {
        ++idx[d];
        oa += sa[d];
        if (sb) ob += sb[d];
        if (idx[d] < s.shape[d]) break;
        oa -= sa[d] * s.shape[d];
        if (sb) ob -= sb[d] * s.shape[d];
        idx[d] = 0;
      }
    }
  };
  if (rows == 1 && inner >= 2 * kGrain) {
    // one long run: split it across threads
    parallel_for(inner, kGrain, [&](int64_t i0, int64_t i1) {
      body(i0, i0 * sa[nd - 1], sb ? i0 * sb[nd - 1] : 0, i1 - i0);
    });
    return;
  }
  parallel_for(rows, grain_rows, run);
}

template <typename T, typename F>
void binary_loop(const StridedShape& s, T* out, const T* a, const int64_t* sa, const T* b, const int64_t* sb, F f) {
  const int64_t ia = sa[s.nd - 1], ib = sb[s.nd - 1];
  for_rows(s, sa, sb, [&](int64_t o, int64_t pa, int64_t pb, int64_t n) {
    T* __restrict po = out + o;
    const T* __restrict xa = a + pa;
    const T* __restrict xb = b + pb;
    if (ia == 1 && ib == 1) {
      for (int64_t i = 0; i < n; ++i) po[i] = f(xa[i], xb[i]);
    } else if (ia == 1 && ib == 0) {
      const T y = xb[0];
      for (int64_t i = 0; i < n; ++i) po[i] = f(xa[i], y);
    } else if (ia == 0 && ib == 1) {
      const T x = xa[0];
      for (int64_t i = 0; i < n; ++i) po[i] = f(x, xb[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) po[i] = f(xa[i * ia], xb[i * ib]);
    }
  });
}

template <typename T, typename F>
void unary_loop(const StridedShape& s, T* out, const T* a, const int64_t* sa, F f) {
  const int64_t ia = sa[s.nd - 1];
  for_rows(s, sa, nullptr, [&](int64_t o, int64_t pa, int64_t, int64_t n) {
    T* __restrict po = out + o;
    const T* __restrict xa = a + pa;
    if (ia == 1) {
      for (int64_t i = 0; i < n; ++i) po[i] = f(xa[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) po[i] = f(xa[i * ia]);
    }
  });
}

}  // namespace

template <typename T>
void tensor_binary(BinaryOp op, const StridedShape& s, T* out, const T* a, const int64_t* sa, const T* b,
                   const int64_t* sb) {
  switch (op) {
    case BinaryOp::Add: return binary_loop(s, out, a, sa, b, sb, [](T x, T y) { return x + y; });
    case BinaryOp::Sub: return binary_loop(s, out, a, sa, b, sb, [](T x, T y) { return x - y; });
    case BinaryOp::Mul: return binary_loop(s, out, a, sa, b, sb, [](T x, T y) { return x * y; });
    case BinaryOp::Div: return binary_loop(s, out, a, sa, b, sb, [](T x, T y) { return x / y; });
    case BinaryOp::Maximum:
      return binary_loop(s, out, a, sa, b, sb, [](T x, T y) { return (x > y || x != x) ? x : y; });
    case BinaryOp::Minimum:
      return binary_loop(s, out, a, sa, b, sb, [](T x, T y) { return (x < y || x != x) ? x : y; });
  }
}

template <typename T>
void tensor_unary(UnaryOp op, const StridedShape& s, T* out, const T* a, const int64_t* sa, double p0, double p1) {
  const T lo = static_cast<T>(p0), hi = static_cast<T>(p1);
  switch (op) {
    case UnaryOp::Neg: return unary_loop(s, out, a, sa, [](T x) { return -x; });
    case UnaryOp::Abs: return unary_loop(s, out, a, sa, [](T x) { return std::abs(x); });
    case UnaryOp::Exp: return unary_loop(s, out, a, sa, [](T x) { return vexp(x); });
    case UnaryOp::Log: return unary_loop(s, out, a, sa, [](T x) { return std::log(x); });
    case UnaryOp::Sqrt: return unary_loop(s, out, a, sa, [](T x) { return std::sqrt(x); });
    case UnaryOp::Rsqrt: return unary_loop(s, out, a, sa, [](T x) { return T(1) / std::sqrt(x); });
    case UnaryOp::Tanh: return unary_loop(s, out, a, sa, [](T x) { return vtanh(x); });
    case UnaryOp::Sigmoid: return unary_loop(s, out, a, sa, [](T x) { return T(1) / (T(1) + vexp(-x)); });
    case UnaryOp::Relu: return unary_loop(s, out, a, sa, [](T x) { return x < T(0) ? T(0) : x; });
    case UnaryOp::Silu: return unary_loop(s, out, a, sa, [](T x) { return x / (T(1) + vexp(-x)); });
    case UnaryOp::Gelu:
      return unary_loop(s, out, a, sa, [](T x) {
        return static_cast<T>(0.5 * double(x) * (1.0 + std::erf(double(x) * 0.7071067811865476)));
      });
    case UnaryOp::Softplus:
      return unary_loop(s, out, a, sa, [](T x) { return x > T(20) ? x : std::log1p(std::exp(x)); });
    case UnaryOp::Square: return unary_loop(s, out, a, sa, [](T x) { return x * x; });
    case UnaryOp::Clamp:
      return unary_loop(s, out, a, sa, [lo, hi](T x) { return x < lo ? lo : (x > hi ? hi : x); });
    case UnaryOp::Sin: return unary_loop(s, out, a, sa, [](T x) { return std::sin(x); });
    case UnaryOp::Cos: return unary_loop(s, out, a, sa, [](T x) { return std::cos(x); });
    case UnaryOp::Copy: return unary_loop(s, out, a, sa, [](T x) { return x; });
    case UnaryOp::ReluMask: return unary_loop(s, out, a, sa, [](T x) { return x > T(0) ? T(1) : T(0); });
    case UnaryOp::SiluDeriv:
      return unary_loop(s, out, a, sa, [](T x) {
        const T sg = T(1) / (T(1) + vexp(-x));
        return sg * (T(1) + x * (T(1) - sg));
      });
    case UnaryOp::GeluDeriv:
      return unary_loop(s, out, a, sa, [](T x) {
        const double d = static_cast<double>(x);
        return static_cast<T>(0.5 * (1.0 + std::erf(d * 0.7071067811865476)) +
                              d * 0.3989422804014327 * std::exp(-0.5 * d * d));
      });
    case UnaryOp::ClampMask:
      return unary_loop(s, out, a, sa, [lo, hi](T x) { return (x >= lo && x <= hi) ? T(1) : T(0); });
    case UnaryOp::Sign: return unary_loop(s, out, a, sa, [](T x) { return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0)); });
    case UnaryOp::Reciprocal: return unary_loop(s, out, a, sa, [](T x) { return T(1) / x; });
    case UnaryOp::Log1p: return unary_loop(s, out, a, sa, [](T x) { return std::log1p(x); });
    case UnaryOp::Expm1: return unary_loop(s, out, a, sa, [](T x) { return std::expm1(x); });
  }
}

template <typename T>
void tensor_reduce_rows(RowReduceOp op, int64_t rows, int64_t n, T* out, const T* a) {
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(n, 1));
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* __restrict x = a + r * n;
      if (op == RowReduceOp::Sum || op == RowReduceOp::Mean) {
        // 8 independent double accumulators: vectorisable without fast-math, accurate for f32
        double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        int64_t i = 0;
        for (; i + 8 <= n; i += 8)
          for (int k = 0; k < 8; ++k) acc[k] += static_cast<double>(x[i + k]);
        double sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for (; i < n; ++i) sum += static_cast<double>(x[i]);
        out[r] = static_cast<T>(op == RowReduceOp::Mean ? sum / static_cast<double>(n) : sum);
      } else {
        const T best = row_extreme(x, n, op == RowReduceOp::Max);
        out[r] = best;
      }
    }
  });
}

template <typename T>
void tensor_reduce_cols(RowReduceOp op, int64_t rows, int64_t n, T* out, const T* a) {
  const double scale = op == RowReduceOp::Mean ? 1.0 / static_cast<double>(rows) : 1.0;
  constexpr int64_t kCols = 2048;  // columns per task: long contiguous reads per row
  if (n >= 2 * kCols || rows * n < 2 * kGrain) {
    parallel_for(n, kCols, [&](int64_t j0, int64_t j1) {
      std::vector<double> acc(static_cast<size_t>(j1 - j0), 0.0);
      double* __restrict pa = acc.data();
      for (int64_t r = 0; r < rows; ++r) {
        const T* __restrict x = a + r * n + j0;
        for (int64_t j = 0; j < j1 - j0; ++j) pa[j] += static_cast<double>(x[j]);
      }
      for (int64_t j = 0; j < j1 - j0; ++j) out[j0 + j] = static_cast<T>(pa[j] * scale);
    });
    return;
  }
  // narrow and tall: each task sums a block of rows, partial sums are combined under a lock
  std::vector<double> total(static_cast<size_t>(n), 0.0);
  std::mutex mu;
  const int64_t grain_rows = std::max<int64_t>(1, kGrain / std::max<int64_t>(n, 1));
  parallel_for(rows, grain_rows, [&](int64_t r0, int64_t r1) {
    std::vector<double> acc(static_cast<size_t>(n), 0.0);
    double* __restrict pa = acc.data();
    for (int64_t r = r0; r < r1; ++r) {
      const T* __restrict x = a + r * n;
      for (int64_t j = 0; j < n; ++j) pa[j] += static_cast<double>(x[j]);
    }
    std::lock_guard<std::mutex> lock(mu);
    for (int64_t j = 0; j < n; ++j) total[static_cast<size_t>(j)] += pa[j];
  });
  for (int64_t j = 0; j < n; ++j) out[j] = static_cast<T>(total[static_cast<size_t>(j)] * scale);
}

template <typename T>
void tensor_softmax_rows(bool log, int64_t rows, int64_t n, T* out, const T* a) {
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(n, 1));
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* __restrict x = a + r * n;
      T* __restrict y = out + r * n;
      // vectorised max (NaN-aware), then exp and a sum in 8 double lanes
      T m = row_extreme(x, n, true);
      int64_t i = 0;
      if (m != m) {
        for (int64_t j = 0; j < n; ++j) y[j] = std::numeric_limits<T>::quiet_NaN();
        continue;
      }
      if (m == -std::numeric_limits<T>::infinity()) m = T(0);
      // exp into y first (a branch-free loop the compiler vectorises), then the sum over the
      // cache-resident row in 8 double lanes (same values, same order as summing on the fly)
      // (log-softmax keeps y untouched until the end: it reads x again)
      double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      double z = 0;
      i = 0;
      if (!log) {
        for (int64_t j = 0; j < n; ++j) y[j] = vexp(x[j] - m);
        for (; i + 8 <= n; i += 8)
          for (int k = 0; k < 8; ++k) acc[k] += static_cast<double>(y[i + k]);
        z = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for (; i < n; ++i) z += static_cast<double>(y[i]);
      } else {
        for (; i + 8 <= n; i += 8)
          for (int k = 0; k < 8; ++k) acc[k] += static_cast<double>(vexp(x[i + k] - m));
        z = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for (; i < n; ++i) z += static_cast<double>(vexp(x[i] - m));
      }
      if (log) {
        const T lz = static_cast<T>(static_cast<double>(m) + std::log(z));
        for (int64_t j = 0; j < n; ++j) y[j] = x[j] - lz;
      } else {
        const T inv = static_cast<T>(1.0 / z);
        for (int64_t j = 0; j < n; ++j) y[j] *= inv;
      }
    }
  });
}

template void tensor_reduce_cols<float>(RowReduceOp, int64_t, int64_t, float*, const float*);
template void tensor_reduce_cols<double>(RowReduceOp, int64_t, int64_t, double*, const double*);
template void tensor_softmax_rows<float>(bool, int64_t, int64_t, float*, const float*);
template void tensor_softmax_rows<double>(bool, int64_t, int64_t, double*, const double*);

template void tensor_binary<float>(BinaryOp, const StridedShape&, float*, const float*, const int64_t*, const float*,
                                   const int64_t*);
template void tensor_binary<double>(BinaryOp, const StridedShape&, double*, const double*, const int64_t*,
                                    const double*, const int64_t*);
template void tensor_unary<float>(UnaryOp, const StridedShape&, float*, const float*, const int64_t*, double, double);
template void tensor_unary<double>(UnaryOp, const StridedShape&, double*, const double*, const int64_t*, double,
                                   double);
template void tensor_reduce_rows<float>(RowReduceOp, int64_t, int64_t, float*, const float*);
template void tensor_reduce_rows<double>(RowReduceOp, int64_t, int64_t, double*, const double*);

}  // namespace nl

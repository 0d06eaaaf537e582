// Code shared by the CUDA kernels and their host emulation. A kernel body is a function marked
// NL_HD: nvcc compiles it for the GPU (__host__ __device__), g++ compiles the same text for the
// host emulator (host/emulate.h), which runs every (block, thread) with loops. Only what both
// compilers accept goes in kernel headers: plain C++17, the math below, no CUDA intrinsics.
#pragma once
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define NL_HD __host__ __device__ __forceinline__
#else
#define NL_HD inline
#endif

namespace nl::cuda {

// dim3 without CUDA headers.
struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

// Where a thread is: what blockIdx / threadIdx / gridDim / blockDim say on a GPU.
struct Idx {
  Dim3 block, thread, grid, dim;
  NL_HD unsigned tid() const { return thread.x + dim.x * (thread.y + dim.y * thread.z); }
  NL_HD unsigned threads() const { return dim.x * dim.y * dim.z; }
};

// A launch: grid, block and dynamic shared memory bytes.
struct Launch {
  Dim3 grid, block;
  unsigned smem = 0;
};

// Device-side math that compiles on both sides, overloaded on float / double.
NL_HD float nl_exp(float x) { return expf(x); }
NL_HD double nl_exp(double x) { return exp(x); }
NL_HD float nl_log(float x) { return logf(x); }
NL_HD double nl_log(double x) { return log(x); }
NL_HD float nl_sqrt(float x) { return sqrtf(x); }
NL_HD double nl_sqrt(double x) { return sqrt(x); }
NL_HD float nl_tanh(float x) { return tanhf(x); }
NL_HD double nl_tanh(double x) { return tanh(x); }
NL_HD float nl_pow(float x, float y) { return powf(x, y); }
NL_HD double nl_pow(double x, double y) { return pow(x, y); }
NL_HD float nl_sin(float x) { return sinf(x); }
NL_HD double nl_sin(double x) { return sin(x); }
NL_HD float nl_cos(float x) { return cosf(x); }
NL_HD double nl_cos(double x) { return cos(x); }
NL_HD float nl_log1p(float x) { return log1pf(x); }
NL_HD double nl_log1p(double x) { return log1p(x); }
NL_HD float nl_expm1(float x) { return expm1f(x); }
NL_HD double nl_expm1(double x) { return expm1(x); }
NL_HD float nl_erf(float x) { return erff(x); }
NL_HD double nl_erf(double x) { return erf(x); }
NL_HD float nl_floor(float x) { return floorf(x); }
NL_HD double nl_floor(double x) { return floor(x); }
NL_HD float nl_ceil(float x) { return ceilf(x); }
NL_HD double nl_ceil(double x) { return ceil(x); }
NL_HD float nl_abs(float x) { return fabsf(x); }
NL_HD double nl_abs(double x) { return fabs(x); }
NL_HD int32_t nl_abs(int32_t x) { return x < 0 ? -x : x; }
// JS Math.round: halves round up (toward +Infinity).
NL_HD float nl_round(float x) { return floorf(x + 0.5f); }
NL_HD double nl_round(double x) { return floor(x + 0.5); }
template <class T>
NL_HD bool nl_isnan(T x) { return x != x; }

// Integer ceil(a / b) for b > 0.
NL_HD int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace nl::cuda

namespace nl::cuda {

// Atomic adds the host emulator ran on this thread: its race check (host/emu_order.h) tolerates
// last-bit differences between thread orders in a launch that made some.
inline uint64_t& emu_atomic_adds() {
  static thread_local uint64_t n = 0;
  return n;
}

// atomicAdd on the GPU; a plain add in the emulator (it runs one thread at a time).
template <class T>
NL_HD void nl_atomic_add(T* p, T v) {
#if defined(__CUDA_ARCH__)
  atomicAdd(p, v);
#else
  *p += v;
  ++emu_atomic_adds();
#endif
}

// Block tree reductions as phases (launch.h contract): with `threads` a power of two, phase
// k = 1..tree_steps(threads) of a kernel runs tree_step(buf, tid, threads >> k, op); after the last,
// buf[0] holds the reduction of buf[0..threads). The phase before writes each thread's partial.
NL_HD int tree_steps(unsigned threads) {
  int n = 0;
  while ((1u << n) < threads) ++n;
  return n;
}
template <class T, class Op>
NL_HD void tree_step(T* buf, unsigned tid, unsigned stride, Op op) {
  if (tid < stride) buf[tid] = op(buf[tid], buf[tid + stride]);
}

}  // namespace nl::cuda

namespace nl::cuda {

// Device-side faults (bad indices found by a kernel), reported at the next read from the device,
// like CUDA's device asserts but without killing the context: the first fault's code and value
// stay in the runtime's fault word until a download / synchronize reports and clears it.
// Codes: see fault_message() in runtime.h.
NL_HD void nl_fault(int32_t* word, int32_t code, int32_t value) {
  if (word == nullptr) return;
#if defined(__CUDA_ARCH__)
  if (atomicCAS(word, 0, code) == 0) word[1] = value;
#else
  if (word[0] == 0) {
    word[0] = code;
    word[1] = value;
  }
#endif
}

enum FaultCode : int32_t { kFaultEmbeddingId = 1, kFaultXentTarget = 2 };

}  // namespace nl::cuda

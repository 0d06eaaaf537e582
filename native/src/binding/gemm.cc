// gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, strideA, b, bOffset, ldb, strideB,
//      beta, c, cOffset, ldc, strideC, batch)
// gemmRef(...same arguments...): the plain reference loop (cpu/gemm_ref.cc), for tests and benches.
// C_b = alpha * op(A_b) op(B_b) + beta * C_b for b < batch, operands row-major with leading
// dimensions, offsets and batch strides in elements (stride 0 broadcasts). Every index the kernel
// can touch is checked against the arrays' lengths before it runs.
#include <napi.h>

#include "binding/args.h"
#include "binding/register.h"
#include "cpu/gemm.h"

namespace nl::binding {
namespace {

// Checks that a rows x cols row-major matrix with leading dim ld, at offset + b*stride for all
// b < batch, fits in an array of `length` elements.
void check_operand(Napi::Env env, const char* kOp, const char* name, int64_t rows, int64_t cols, int64_t offset, int64_t ld,
                   int64_t stride, int64_t batch, int64_t length) {
  if (rows > 0 && cols > 0 && ld < cols) {
    throw_range(env, kOp, std::string(name) + ": leading dimension " + std::to_string(ld) + " is smaller than its " +
                              std::to_string(cols) + " columns");
  }
  if (rows == 0 || cols == 0 || batch == 0) return;
  // last = offset + (batch-1)*stride + (rows-1)*ld + cols-1, every step overflow-checked (m = ldc =
  // 2^32 or batch 4097 x stride 2^52 used to wrap and pass).
  int64_t bs, rl, last;
  if (__builtin_mul_overflow(batch - 1, stride, &bs) || __builtin_mul_overflow(rows - 1, ld, &rl) ||
      __builtin_add_overflow(offset, bs, &last) || __builtin_add_overflow(last, rl, &last) ||
      __builtin_add_overflow(last, cols - 1, &last)) {
    throw_range(env, kOp, std::string(name) + ": the last element offset + (batch-1)*stride + (rows-1)*ld + cols-1 "
                              "overflows 64-bit integers (offset " + std::to_string(offset) + ", batch " +
                              std::to_string(batch) + ", stride " + std::to_string(stride) + ", rows " +
                              std::to_string(rows) + ", ld " + std::to_string(ld) + ", cols " + std::to_string(cols) + ")");
  }
  if (last >= length) {
    throw_range(env, kOp, std::string(name) + " is too small: a [" + std::to_string(rows) + ", " +
                              std::to_string(cols) + "] operand (ld " + std::to_string(ld) + ", batch " +
                              std::to_string(batch) + ", stride " + std::to_string(stride) + ", offset " +
                              std::to_string(offset) + ") reaches element " + std::to_string(last) +
                              " but the array has " + std::to_string(length));
  }
}

using GemmF32 = void (*)(const GemmArgs&, float, const float*, const float*, float, float*);
using GemmF64 = void (*)(const GemmArgs&, double, const double*, const double*, double, double*);

Napi::Value RunGemm(const Napi::CallbackInfo& info, const char* kOp, GemmF32 f32, GemmF64 f64) {
  Napi::Env env = info.Env();
  expect_args(info, kOp, 20);
  GemmArgs g;
  g.trans_a = boolean(info, 0, kOp, "transA");
  g.trans_b = boolean(info, 1, kOp, "transB");
  g.m = count(info, 2, kOp, "m");
  g.n = count(info, 3, kOp, "n");
  g.k = count(info, 4, kOp, "k");
  const double alpha = number(info, 5, kOp, "alpha");
  ArrayView a = typed_array(info, 6, kOp, "a");
  const int64_t a_off = count(info, 7, kOp, "aOffset");
  g.lda = count(info, 8, kOp, "lda");
  g.stride_a = count(info, 9, kOp, "strideA");
  ArrayView b = typed_array(info, 10, kOp, "b");
  const int64_t b_off = count(info, 11, kOp, "bOffset");
  g.ldb = count(info, 12, kOp, "ldb");
  g.stride_b = count(info, 13, kOp, "strideB");
  const double beta = number(info, 14, kOp, "beta");
  ArrayView c = typed_array(info, 15, kOp, "c");
  const int64_t c_off = count(info, 16, kOp, "cOffset");
  g.ldc = count(info, 17, kOp, "ldc");
  g.stride_c = count(info, 18, kOp, "strideC");
  g.batch = count(info, 19, kOp, "batch");

  if (a.dtype != b.dtype || a.dtype != c.dtype) {
    throw_type(env, kOp, std::string("a, b and c must share a dtype, got ") + dtype_name(a.dtype) + ", " +
                             dtype_name(b.dtype) + " and " + dtype_name(c.dtype));
  }
  if (a.dtype == DType::I32) throw_type(env, kOp, "a, b and c must be Float32Array or Float64Array, got Int32Array");
  check_operand(env, kOp, "a", g.trans_a ? g.k : g.m, g.trans_a ? g.m : g.k, a_off, g.lda, g.stride_a, g.batch, a.length);
  check_operand(env, kOp, "b", g.trans_b ? g.n : g.k, g.trans_b ? g.k : g.n, b_off, g.ldb, g.stride_b, g.batch, b.length);
  check_operand(env, kOp, "c", g.m, g.n, c_off, g.ldc, g.stride_c, g.batch, c.length);
  // Nothing to write: C is [m, n] per batch entry. (Returning here also keeps a huge m, batch or k
  // with an empty C from looping over nothing.)
  if (g.m == 0 || g.n == 0 || g.batch == 0) return env.Undefined();
  const int64_t m_ldc = checked_product(env, kOp, "m * ldc", {g.m, g.ldc});
  if (g.batch > 1 && g.stride_c < m_ldc) {
    throw_range(env, kOp, "strideC " + std::to_string(g.stride_c) + " makes batch outputs overlap (needs >= m*ldc = " +
                              std::to_string(m_ldc) + ")");
  }

  if (a.dtype == DType::F32) {
    f32(g, static_cast<float>(alpha), a.as<float>() + a_off, b.as<float>() + b_off, static_cast<float>(beta),
             c.as<float>() + c_off);
  } else if (a.dtype == DType::F64) {
    f64(g, alpha, a.as<double>() + a_off, b.as<double>() + b_off, beta, c.as<double>() + c_off);
  } else {
    throw_type(env, kOp, "a, b and c must be Float32Array or Float64Array, got Int32Array");
  }
  return env.Undefined();
}

Napi::Value Gemm(const Napi::CallbackInfo& info) { return RunGemm(info, "gemm", gemm_f32, gemm_f64); }
Napi::Value GemmRef(const Napi::CallbackInfo& info) { return RunGemm(info, "gemmRef", gemm_ref_f32, gemm_ref_f64); }

}  // namespace

void register_gemm(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "gemm", Gemm);
  export_fn(env, exports, "gemmRef", GemmRef);
}

}  // namespace nl::binding

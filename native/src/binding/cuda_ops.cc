// CUDA core ops: elementwise (binary, unary, copy, fill) and GEMM. Every buffer is looked up
// and every operand's extent checked (binding/cuda_args.h) before the op template queues its
// kernel on the buffer's runtime (GPU or emulator).
#include <napi.h>

#include "binding/cuda_args.h"
#include "binding/register.h"
#include "cuda/ops/table.h"
#include "nl/op_codes.h"

namespace nl::binding {
namespace {

int op_code(const Napi::CallbackInfo& info, size_t i, const std::string& op, int n) {
  int64_t c = count(info, i, op, "op code");
  if (c >= n) throw_range(info.Env(), op, "unknown op code " + std::to_string(c));
  return int(c);
}

// cudaBinary(op, out, outDt, outOff, shape, a, aOff, aStrides, b, bOff, bStrides, inDt)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  const std::string op = "cudaBinary";
  expect_args(info, op, 12);
  Napi::Env env = info.Env();
  cuda::BinaryArgs g{};
  g.op = op_code(info, 0, op, kBinaryOpCount);
  DevBuf out = dev_buffer(info, 1, op, "out");
  g.out_dt = dt_arg(info, 2, op, "out dtype");
  g.out_off = count(info, 3, op, "out offset");
  g.shape = shape_arg(info, 4, op, "shape");
  DevBuf a = dev_buffer(info, 5, op, "a");
  g.sa = strides_arg(info, 7, op, "a", g.shape, count(info, 6, op, "a offset"));
  DevBuf b = dev_buffer(info, 8, op, "b");
  g.sb = strides_arg(info, 10, op, "b", g.shape, count(info, 9, op, "b offset"));
  g.in_dt = dt_arg(info, 11, op, "operand dtype");
  same_device(env, op, {&out, &a, &b});
  const int64_t n = g.shape.numel();
  if (n > 0) check_span(env, op, "out", out, g.out_dt, g.out_off, g.out_off + n - 1);
  check_strided(env, op, "a", a, g.in_dt, g.shape, g.sa);
  check_strided(env, op, "b", b, g.in_dt, g.shape, g.sb);
  g.out = out.ptr;
  g.a = a.ptr;
  g.b = b.ptr;
  if (n > 0)
    check_cuda(env, op, out.rt->ops().binary(out.rt, g), out.rt,
               std::string(kBinaryOpNames[g.op]) + " over " + shape_text(g.shape) + ", " + dt_name(g.in_dt));
  return env.Undefined();
}

// cudaUnary(op, out, dt, shape, a, aOff, aStrides, p0, p1)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  const std::string op = "cudaUnary";
  expect_args(info, op, 9);
  Napi::Env env = info.Env();
  cuda::UnaryArgs g{};
  g.op = op_code(info, 0, op, kUnaryOpCount);
  DevBuf out = dev_buffer(info, 1, op, "out");
  g.dt = dt_arg(info, 2, op, "dtype");
  g.shape = shape_arg(info, 3, op, "shape");
  DevBuf a = dev_buffer(info, 4, op, "a");
  g.sa = strides_arg(info, 6, op, "a", g.shape, count(info, 5, op, "a offset"));
  g.p0 = number(info, 7, op, "p0");
  g.p1 = number(info, 8, op, "p1");
  same_device(env, op, {&out, &a});
  const int64_t n = g.shape.numel();
  if (n > 0) check_span(env, op, "out", out, g.dt, 0, n - 1);
  check_strided(env, op, "a", a, g.dt, g.shape, g.sa);
  g.out = out.ptr;
  g.a = a.ptr;
  if (n > 0)
    check_cuda(env, op, out.rt->ops().unary(out.rt, g), out.rt,
               std::string(kUnaryOpNames[g.op]) + " over " + shape_text(g.shape) + ", " + dt_name(g.dt));
  return env.Undefined();
}

// cudaCopy(out, outDt, shape, a, inDt, aOff, aStrides)
Napi::Value Copy(const Napi::CallbackInfo& info) {
  const std::string op = "cudaCopy";
  expect_args(info, op, 7);
  Napi::Env env = info.Env();
  cuda::CopyArgs g{};
  DevBuf out = dev_buffer(info, 0, op, "out");
  g.out_dt = dt_arg(info, 1, op, "out dtype");
  g.shape = shape_arg(info, 2, op, "shape");
  DevBuf a = dev_buffer(info, 3, op, "a");
  g.in_dt = dt_arg(info, 4, op, "a dtype");
  g.sa = strides_arg(info, 6, op, "a", g.shape, count(info, 5, op, "a offset"));
  same_device(env, op, {&out, &a});
  const int64_t n = g.shape.numel();
  if (n > 0) check_span(env, op, "out", out, g.out_dt, 0, n - 1);
  check_strided(env, op, "a", a, g.in_dt, g.shape, g.sa);
  g.out = out.ptr;
  g.a = a.ptr;
  if (n > 0)
    check_cuda(env, op, out.rt->ops().copy(out.rt, g), out.rt,
               shape_text(g.shape) + " " + dt_name(g.in_dt) + " -> " + dt_name(g.out_dt));
  return env.Undefined();
}

// cudaFill(out, dt, offset, n, value)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  const std::string op = "cudaFill";
  expect_args(info, op, 5);
  Napi::Env env = info.Env();
  cuda::FillArgs g{};
  DevBuf out = dev_buffer(info, 0, op, "out");
  g.dt = dt_arg(info, 1, op, "dtype");
  g.offset = count(info, 2, op, "offset");
  g.n = count(info, 3, op, "n");
  g.value = number(info, 4, op, "value");
  if (g.n > 0) check_span(env, op, "out", out, g.dt, g.offset, g.offset + g.n - 1);
  g.out = out.ptr;
  if (g.n > 0) check_cuda(env, op, out.rt->ops().fill(out.rt, g), out.rt);
  return env.Undefined();
}

// Last element a batched matrix operand touches: base + (batch-1)*stride + (rows-1)*ld + cols-1.
void check_matrix(Napi::Env env, const std::string& op, const char* name, const DevBuf& b, cuda::DT dt,
                  int64_t off, int64_t rows, int64_t cols, int64_t ld, int64_t stride, int64_t batch) {
  if (rows == 0 || cols == 0 || batch == 0) return;
  if (ld < cols) throw_range(env, op, std::string(name) + ": leading dimension " + std::to_string(ld) + " < " + std::to_string(cols) + " columns");
  int64_t last = 0;
  if (__builtin_mul_overflow(batch - 1, stride, &last) || __builtin_add_overflow(last, off, &last)) throw_range(env, op, "extent overflows");
  int64_t r = 0;
  if (__builtin_mul_overflow(rows - 1, ld, &r) || __builtin_add_overflow(last, r, &last) ||
      __builtin_add_overflow(last, cols - 1, &last))
    throw_range(env, op, "extent overflows");
  check_span(env, op, name, b, dt, off, last);
}

// cudaGemm(dt, tA, tB, m, n, k, alpha, a, ao, lda, sa, b, bo, ldb, sb, beta, c, co, ldc, sc, batch)
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  const std::string op = "cudaGemm";
  expect_args(info, op, 21);
  Napi::Env env = info.Env();
  cuda::GemmArgsD g{};
  g.dt = dt_arg(info, 0, op, "dtype");
  if (g.dt == cuda::DT::I32) throw_type(env, op, "int32 GEMM is not supported");
  g.trans_a = info[1].ToBoolean();
  g.trans_b = info[2].ToBoolean();
  g.m = count(info, 3, op, "m");
  g.n = count(info, 4, op, "n");
  g.k = count(info, 5, op, "k");
  g.alpha = number(info, 6, op, "alpha");
  DevBuf a = dev_buffer(info, 7, op, "a");
  g.a_off = count(info, 8, op, "a offset");
  g.lda = count(info, 9, op, "lda");
  g.stride_a = count(info, 10, op, "strideA");
  DevBuf b = dev_buffer(info, 11, op, "b");
  g.b_off = count(info, 12, op, "b offset");
  g.ldb = count(info, 13, op, "ldb");
  g.stride_b = count(info, 14, op, "strideB");
  g.beta = number(info, 15, op, "beta");
  DevBuf c = dev_buffer(info, 16, op, "c");
  g.c_off = count(info, 17, op, "c offset");
  g.ldc = count(info, 18, op, "ldc");
  g.stride_c = count(info, 19, op, "strideC");
  g.batch = count(info, 20, op, "batch");
  same_device(env, op, {&a, &b, &c});
  if (g.alpha != 0 && g.k > 0) {
    check_matrix(env, op, "a", a, g.dt, g.a_off, g.trans_a ? g.k : g.m, g.trans_a ? g.m : g.k, g.lda, g.stride_a, g.batch);
    check_matrix(env, op, "b", b, g.dt, g.b_off, g.trans_b ? g.n : g.k, g.trans_b ? g.k : g.n, g.ldb, g.stride_b, g.batch);
  }
  check_matrix(env, op, "c", c, g.dt, g.c_off, g.m, g.n, g.ldc, g.stride_c, g.batch);
  // batches of C must not overlap: on a GPU they are written concurrently
  if (g.batch > 1 && g.m > 0 && g.n > 0 && g.stride_c < (g.m - 1) * g.ldc + g.n)
    throw_range(env, op, "c: strideC " + std::to_string(g.stride_c) + " makes the " + std::to_string(g.batch) +
                             " output matrices overlap (needs >= " + std::to_string((g.m - 1) * g.ldc + g.n) + ")");
  g.a = a.ptr;
  g.b = b.ptr;
  g.c = c.ptr;
  check_cuda(env, op, c.rt->ops().gemm(c.rt, g), c.rt,
             "m=" + std::to_string(g.m) + " n=" + std::to_string(g.n) + " k=" + std::to_string(g.k) +
                 " batch=" + std::to_string(g.batch) + " " + dt_name(g.dt));
  return env.Undefined();
}

}  // namespace

void register_cuda_ops(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaBinary", Napi::Function::New(env, Binary, "cudaBinary"));
  exports.Set("cudaUnary", Napi::Function::New(env, Unary, "cudaUnary"));
  exports.Set("cudaCopy", Napi::Function::New(env, Copy, "cudaCopy"));
  exports.Set("cudaFill", Napi::Function::New(env, Fill, "cudaFill"));
  exports.Set("cudaGemm", Napi::Function::New(env, Gemm, "cudaGemm"));
}

}  // namespace nl::binding

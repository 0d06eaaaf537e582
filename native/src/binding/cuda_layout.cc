// CUDA entry points of the layout family: where, assign, fillView, triangle, scan,
// cumprodBackward, prodBackward (reduce and softmax: cuda_layout_reduce.cc). Every buffer is
// looked up and every operand's extent checked with binding/cuda_args.h before a kernel is queued.
#include <napi.h>

#include "binding/cuda_args.h"
#include "binding/register.h"
#include "cuda/ops/table.h"

namespace nl::binding {

void register_cuda_layout_reduce(Napi::Env env, Napi::Object exports);

namespace {

using cuda::DT;
using cuda::Shape;
using cuda::Strides;

void check_out(Napi::Env env, const std::string& op, const char* name, const DevBuf& b, DT dt, int64_t off, int64_t n) {
  if (n > 0) check_span(env, op, name, b, dt, off, checked_add(env, op, std::string(name) + " extent", off, n - 1));
}

// cudaWhere(out, dt, shape, c, cDt, cOff, cStrides, a, aOff, aStrides, b, bOff, bStrides)
Napi::Value Where(const Napi::CallbackInfo& info) {
  const std::string op = "cudaWhere";
  expect_args(info, op, 13);
  Napi::Env env = info.Env();
  cuda::WhereArgs g{};
  DevBuf out = dev_buffer(info, 0, op, "out");
  g.dt = dt_arg(info, 1, op, "dtype");
  g.shape = shape_arg(info, 2, op, "shape");
  DevBuf c = dev_buffer(info, 3, op, "cond");
  g.c_dt = dt_arg(info, 4, op, "cond dtype");
  g.sc = strides_arg(info, 6, op, "cond", g.shape, count(info, 5, op, "cond offset"));
  DevBuf a = dev_buffer(info, 7, op, "a");
  g.sa = strides_arg(info, 9, op, "a", g.shape, count(info, 8, op, "a offset"));
  DevBuf b = dev_buffer(info, 10, op, "b");
  g.sb = strides_arg(info, 12, op, "b", g.shape, count(info, 11, op, "b offset"));
  same_device(env, op, {&out, &c, &a, &b});
  const int64_t n = g.shape.numel();
  check_out(env, op, "out", out, g.dt, 0, n);
  check_strided(env, op, "cond", c, g.c_dt, g.shape, g.sc);
  check_strided(env, op, "a", a, g.dt, g.shape, g.sa);
  check_strided(env, op, "b", b, g.dt, g.shape, g.sb);
  g.out = out.ptr;
  g.c = c.ptr;
  g.a = a.ptr;
  g.b = b.ptr;
  if (n > 0) check_cuda(env, op, out.rt->ops().where(out.rt, g), out.rt);
  return env.Undefined();
}

// cudaAssign(dst, dDt, dOff, dStrides, shape, src, sDt, sOff, sStrides)
Napi::Value Assign(const Napi::CallbackInfo& info) {
  const std::string op = "cudaAssign";
  expect_args(info, op, 9);
  Napi::Env env = info.Env();
  cuda::AssignArgs g{};
  DevBuf dst = dev_buffer(info, 0, op, "dst");
  g.d_dt = dt_arg(info, 1, op, "dst dtype");
  g.shape = shape_arg(info, 4, op, "shape");
  g.sd = strides_arg(info, 3, op, "dst", g.shape, count(info, 2, op, "dst offset"));
  DevBuf src = dev_buffer(info, 5, op, "src");
  g.s_dt = dt_arg(info, 6, op, "src dtype");
  g.ss = strides_arg(info, 8, op, "src", g.shape, count(info, 7, op, "src offset"));
  same_device(env, op, {&dst, &src});
  check_strided(env, op, "dst", dst, g.d_dt, g.shape, g.sd);
  check_strided(env, op, "src", src, g.s_dt, g.shape, g.ss);
  g.dst = dst.ptr;
  g.src = src.ptr;
  if (g.shape.numel() > 0) check_cuda(env, op, dst.rt->ops().assign(dst.rt, g), dst.rt);
  return env.Undefined();
}

// cudaFillView(dst, dt, off, strides, shape, value)
Napi::Value FillView(const Napi::CallbackInfo& info) {
  const std::string op = "cudaFillView";
  expect_args(info, op, 6);
  Napi::Env env = info.Env();
  cuda::FillViewArgs g{};
  DevBuf dst = dev_buffer(info, 0, op, "dst");
  g.dt = dt_arg(info, 1, op, "dtype");
  g.shape = shape_arg(info, 4, op, "shape");
  g.sd = strides_arg(info, 3, op, "dst", g.shape, count(info, 2, op, "offset"));
  g.value = number(info, 5, op, "value");
  check_strided(env, op, "dst", dst, g.dt, g.shape, g.sd);
  g.dst = dst.ptr;
  if (g.shape.numel() > 0) check_cuda(env, op, dst.rt->ops().fill_view(dst.rt, g), dst.rt);
  return env.Undefined();
}

// cudaTriangle(out, dt, off, batch, rows, cols, lower, k)
Napi::Value Triangle(const Napi::CallbackInfo& info) {
  const std::string op = "cudaTriangle";
  expect_args(info, op, 8);
  Napi::Env env = info.Env();
  cuda::TriangleArgs g{};
  DevBuf out = dev_buffer(info, 0, op, "out");
  g.dt = dt_arg(info, 1, op, "dtype");
  g.off = count(info, 2, op, "offset");
  const int64_t batch = count(info, 3, op, "batch");
  g.r = count(info, 4, op, "rows");
  g.c = count(info, 5, op, "cols");
  g.lower = boolean(info, 6, op, "lower");
  const double k = number(info, 7, op, "k");
  if (k != std::trunc(k)) throw_range(env, op, "k must be an integer, got " + num_text(k));
  g.k = k > 4e18 ? int64_t(4e18) : k < -4e18 ? int64_t(-4e18) : int64_t(k);
  g.n = checked_product(env, op, "batch * rows * cols", {batch, g.r, g.c});
  check_out(env, op, "out", out, g.dt, g.off, g.n);
  g.out = out.ptr;
  if (g.n > 0) check_cuda(env, op, out.rt->ops().triangle(out.rt, g), out.rt);
  return env.Undefined();
}

// cudaScan(out, dt, off, outer, n, inner, kind)  kind: 0 sum, 1 prod, 2 reverse sum
Napi::Value Scan(const Napi::CallbackInfo& info) {
  const std::string op = "cudaScan";
  expect_args(info, op, 7);
  Napi::Env env = info.Env();
  cuda::ScanArgs g{};
  DevBuf out = dev_buffer(info, 0, op, "out");
  g.dt = dt_arg(info, 1, op, "dtype");
  g.off = count(info, 2, op, "offset");
  g.outer = count(info, 3, op, "outer");
  g.n = count(info, 4, op, "n");
  g.inner = count(info, 5, op, "inner");
  const int64_t kind = count(info, 6, op, "kind");
  if (kind > 2) throw_range(env, op, "unknown scan kind " + std::to_string(kind));
  g.kind = int(kind);
  const int64_t total = checked_product(env, op, "outer * n * inner", {g.outer, g.n, g.inner});
  check_out(env, op, "out", out, g.dt, g.off, total);
  g.out = out.ptr;
  if (total > 0) check_cuda(env, op, out.rt->ops().scan(out.rt, g), out.rt);
  return env.Undefined();
}

// cudaCumprodBackward(dt, out, outOff, x, xOff, g, gOff, outer, n, inner)
Napi::Value CumprodBackward(const Napi::CallbackInfo& info) {
  const std::string op = "cudaCumprodBackward";
  expect_args(info, op, 10);
  Napi::Env env = info.Env();
  cuda::CumprodBwdArgs g{};
  g.dt = dt_arg(info, 0, op, "dtype");
  DevBuf out = dev_buffer(info, 1, op, "out");
  g.out_off = count(info, 2, op, "out offset");
  DevBuf x = dev_buffer(info, 3, op, "x");
  g.x_off = count(info, 4, op, "x offset");
  DevBuf gb = dev_buffer(info, 5, op, "g");
  g.g_off = count(info, 6, op, "g offset");
  g.outer = count(info, 7, op, "outer");
  g.n = count(info, 8, op, "n");
  g.inner = count(info, 9, op, "inner");
  same_device(env, op, {&out, &x, &gb});
  const int64_t total = checked_product(env, op, "outer * n * inner", {g.outer, g.n, g.inner});
  check_out(env, op, "out", out, g.dt, g.out_off, total);
  check_out(env, op, "x", x, g.dt, g.x_off, total);
  check_out(env, op, "g", gb, g.dt, g.g_off, total);
  g.out = out.ptr;
  g.x = x.ptr;
  g.g = gb.ptr;
  if (total > 0) check_cuda(env, op, out.rt->ops().cumprod_backward(out.rt, g), out.rt);
  return env.Undefined();
}

// cudaProdBackward(dt, out, x, xOff, xStrides, ge, gOff, gStrides, shape, dims): out contiguous.
Napi::Value ProdBackward(const Napi::CallbackInfo& info) {
  const std::string op = "cudaProdBackward";
  expect_args(info, op, 10);
  Napi::Env env = info.Env();
  cuda::ProdBwdArgs g{};
  g.dt = dt_arg(info, 0, op, "dtype");
  DevBuf out = dev_buffer(info, 1, op, "out");
  DevBuf x = dev_buffer(info, 2, op, "x");
  DevBuf ge = dev_buffer(info, 5, op, "ge");
  const Shape shape = shape_arg(info, 8, op, "shape");
  const Strides sx = strides_arg(info, 4, op, "x", shape, count(info, 3, op, "x offset"));
  const Strides sg = strides_arg(info, 7, op, "ge", shape, count(info, 6, op, "ge offset"));
  if (!info[9].IsArray()) throw_type(env, op, "dims must be an array");
  Napi::Array dl = info[9].As<Napi::Array>();
  bool reduced[cuda::kMaxRank] = {};
  for (uint32_t i = 0; i < dl.Length(); ++i) {
    Napi::Value v = dl[i];
    const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!is_count(d) || d >= shape.rank || reduced[int64_t(d)])
      throw_range(env, op, "dims must be unique and below the rank " + std::to_string(shape.rank));
    reduced[int64_t(d)] = true;
  }
  same_device(env, op, {&out, &x, &ge});
  g.n = shape.numel();
  check_out(env, op, "out", out, g.dt, 0, g.n);
  check_strided(env, op, "x", x, g.dt, shape, sx);
  check_strided(env, op, "ge", ge, g.dt, shape, sg);
  // [kept..., reduced...] strides of x, ge and the contiguous out
  g.xk.offset = sx.offset;
  g.gk.offset = sg.offset;
  int64_t so[cuda::kMaxRank] = {}, acc = 1;
  for (int d = shape.rank - 1; d >= 0; --d) {
    so[d] = acc;
    acc *= shape.dim[d];
  }
  for (int d = 0; d < shape.rank; ++d) {
    const bool r = reduced[d];
    Shape& sh = r ? g.rshape : g.kshape;
    const int i = sh.rank++;
    sh.dim[i] = shape.dim[d];
    (r ? g.xr : g.xk).s[i] = sx.s[d];
    (r ? g.gr : g.gk).s[i] = sg.s[d];
    (r ? g.orr : g.ok).s[i] = so[d];
  }
  g.inner = g.rshape.numel();
  g.x = x.ptr;
  g.ge = ge.ptr;
  g.out = out.ptr;
  if (g.n > 0) check_cuda(env, op, out.rt->ops().prod_backward(out.rt, g), out.rt);
  return env.Undefined();
}

}  // namespace

void register_cuda_layout(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "cudaWhere", Where);
  export_fn(env, exports, "cudaAssign", Assign);
  export_fn(env, exports, "cudaFillView", FillView);
  export_fn(env, exports, "cudaTriangle", Triangle);
  export_fn(env, exports, "cudaScan", Scan);
  export_fn(env, exports, "cudaCumprodBackward", CumprodBackward);
  export_fn(env, exports, "cudaProdBackward", ProdBackward);
  register_cuda_layout_reduce(env, exports);
}

}  // namespace nl::binding

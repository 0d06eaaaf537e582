// CUDA entry points of the layout family: reduce and softmax (registered by register_cuda_layout).
// Every buffer is looked up and every operand's extent checked (binding/cuda_args.h); the dims of a
// reduction must be sorted, unique and in range; output dtypes follow ops/reduce.ts.
#include <napi.h>

#include "binding/cuda_args.h"
#include "binding/register.h"
#include "cuda/ops/table.h"

namespace nl::binding {
namespace {

using cuda::DT;
using cuda::Shape;
using cuda::Strides;

const char* kRedNames[] = {"sum", "mean", "max", "min", "argmax", "argmin", "logsumexp", "var", "prod"};

// cudaReduce(op, out, outDt, a, aDt, aOff, aStrides, shape, dims, correction)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  const std::string op = "cudaReduce";
  expect_args(info, op, 10);
  Napi::Env env = info.Env();
  cuda::ReduceArgs g{};
  const int64_t code = count(info, 0, op, "op code");
  if (code >= cuda::kRedOpCount) throw_range(env, op, "unknown op code " + std::to_string(code));
  g.op = int(code);
  DevBuf out = dev_buffer(info, 1, op, "out");
  g.out_dt = dt_arg(info, 2, op, "out dtype");
  DevBuf a = dev_buffer(info, 3, op, "a");
  g.in_dt = dt_arg(info, 4, op, "a dtype");
  const Shape shape = shape_arg(info, 7, op, "shape");
  const Strides sa = strides_arg(info, 6, op, "a", shape, count(info, 5, op, "a offset"));
  if (!info[8].IsArray()) throw_type(env, op, "dims must be an array");
  Napi::Array dl = info[8].As<Napi::Array>();
  bool reduced[cuda::kMaxRank] = {};
  int64_t prev = -1;
  for (uint32_t i = 0; i < dl.Length(); ++i) {
    Napi::Value v = dl[i];
    const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!is_count(d) || d >= shape.rank || int64_t(d) <= prev)
      throw_range(env, op, "dims must be sorted, unique and below the rank " + std::to_string(shape.rank));
    prev = int64_t(d);
    reduced[prev] = true;
  }
  g.correction = number(info, 9, op, "correction");
  same_device(env, op, {&out, &a});
  if (g.out_dt != cuda::reduce_out_dt(g.op, g.in_dt))
    throw_type(env, op, std::string(kRedNames[g.op]) + " of " + dt_name(g.in_dt) + " writes " +
                            dt_name(cuda::reduce_out_dt(g.op, g.in_dt)) + ", not " + dt_name(g.out_dt));
  check_strided(env, op, "a", a, g.in_dt, shape, sa);
  // [kept..., reduced...]
  g.ks.offset = sa.offset;
  int unit_dim = -1;
  for (int d = 0; d < shape.rank; ++d) {
    Shape& sh = reduced[d] ? g.rshape : g.kshape;
    Strides& st = reduced[d] ? g.rs : g.ks;
    sh.dim[sh.rank] = shape.dim[d];
    st.s[sh.rank++] = sa.s[d];
    if (shape.dim[d] > 1 && (unit_dim < 0 || sa.s[d] < sa.s[unit_dim])) unit_dim = d;
  }
  g.n_out = g.kshape.numel();
  g.inner = g.rshape.numel();
  if (g.n_out == 0) return env.Undefined();
  check_span(env, op, "out", out, g.out_dt, 0, g.n_out - 1);
  if (g.inner == 0 && (g.op >= int(cuda::RedOp::Max) && g.op <= int(cuda::RedOp::Argmin)))
    throw_range(env, op, std::string(kRedNames[g.op]) + ": cannot reduce over an empty dimension");
  cuda::lay_collapse(g.kshape, g.ks);
  cuda::lay_collapse(g.rshape, g.rs);
  g.plan = cuda::reduce_plan(g.n_out, g.inner, unit_dim >= 0 && !reduced[unit_dim]);
  g.a = a.ptr;
  g.out = out.ptr;
  void* parts = nullptr;
  if (g.plan.chunks > 1) {
    const size_t bytes = size_t(g.n_out) * size_t(g.plan.chunks) * sizeof(cuda::RState);
    check_cuda(env, op, out.rt->alloc(bytes, false, &parts), out.rt);
    g.partials = parts;
  }
  const std::string err = out.rt->ops().reduce(out.rt, g);
  if (parts != nullptr) out.rt->free(parts);  // stream-ordered: the queued kernels still see it
  check_cuda(env, op, err, out.rt);
  return env.Undefined();
}

// cudaSoftmax(out, outDt, a, aDt, aOff, outer, n, inner, log)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  const std::string op = "cudaSoftmax";
  expect_args(info, op, 9);
  Napi::Env env = info.Env();
  cuda::SoftmaxArgs g{};
  DevBuf out = dev_buffer(info, 0, op, "out");
  g.out_dt = dt_arg(info, 1, op, "out dtype");
  DevBuf a = dev_buffer(info, 2, op, "a");
  g.in_dt = dt_arg(info, 3, op, "a dtype");
  g.a_off = count(info, 4, op, "a offset");
  g.outer = count(info, 5, op, "outer");
  g.n = count(info, 6, op, "n");
  g.inner = count(info, 7, op, "inner");
  g.log = boolean(info, 8, op, "log");
  same_device(env, op, {&out, &a});
  if (g.out_dt != (g.in_dt == DT::I32 ? DT::F32 : g.in_dt))
    throw_type(env, op, std::string("softmax of ") + dt_name(g.in_dt) + " cannot write " + dt_name(g.out_dt));
  const int64_t total = checked_product(env, op, "outer * n * inner", {g.outer, g.n, g.inner});
  if (total == 0) return env.Undefined();
  check_span(env, op, "a", a, g.in_dt, g.a_off, checked_add(env, op, "a extent", g.a_off, total - 1));
  check_span(env, op, "out", out, g.out_dt, 0, total - 1);
  g.a = a.ptr;
  g.out = out.ptr;
  check_cuda(env, op, out.rt->ops().softmax(out.rt, g), out.rt);
  return env.Undefined();
}

}  // namespace

void register_cuda_layout_reduce(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "cudaReduce", Reduce);
  export_fn(env, exports, "cudaSoftmax", Softmax);
}

}  // namespace nl::binding

// CUDA entry points: optimizer updates: SGD, AdamW, Muon (momentum, Newton-Schulz, apply), delta momentum, DMGD, M3, preconditioned momentum, grad-norm clipping. Buffers and extents checked with binding/cuda_args.h.
// cudaOptimEw runs one elementwise update of kernels/optim.h (operand dtypes per update from
// optim_slots); cudaOptimSumSq / cudaOptimFinalize reduce sums of squares in double;
// cudaOptimNsNorm is Newton–Schulz's normalise-and-transpose. Every operand is a live buffer of
// the same device and every element an update touches lies inside its buffer.
#include <napi.h>

#include <string>

#include "binding/cuda_args.h"
#include "binding/register.h"
#include "cuda/ops/table.h"

namespace nl::binding {
namespace {

bool absent(const Napi::Value& v) {
  return v.IsNull() || v.IsUndefined() || (v.IsNumber() && v.As<Napi::Number>().DoubleValue() == 0);
}

int64_t count_of(Napi::Env env, const Napi::Value& v, const std::string& op, const std::string& name) {
  if (!v.IsNumber() || !is_count(v.As<Napi::Number>().DoubleValue()))
    throw_range(env, op, name + " must be a non-negative integer");
  return int64_t(v.As<Napi::Number>().DoubleValue());
}


// Checks and fills g.t (every operand a live buffer of one device, n elements in range) and g.h.
void fill_operands(Napi::Env env, const std::string& op, cuda::OptimEwArgs& g, const Napi::Value& ptrs_v,
                   const Napi::Value& offs_v, const Napi::Value& h_v, cuda::Runtime*& rt, const std::string& where) {
  if (!ptrs_v.IsArray() || !offs_v.IsArray()) throw_type(env, op, where + "ptrs and offs must be arrays");
  Napi::Array ptrs = ptrs_v.As<Napi::Array>(), offs = offs_v.As<Napi::Array>();
  const std::string slots = cuda::optim_slots(cuda::OptimEw(g.kind));
  if (ptrs.Length() != slots.size() || offs.Length() != slots.size())
    throw_range(env, op, where + "update " + std::to_string(g.kind) + " takes " + std::to_string(slots.size()) + " operands");
  auto same = [&](const DevBuf& b) {
    if (rt != nullptr && b.rt != rt) throw_range(env, op, "operands are on different CUDA devices");
    rt = b.rt;
  };
  for (uint32_t i = 0; i < slots.size(); ++i) {
    const std::string name = where + "operand " + std::to_string(i);
    const char c = slots[i];
    Napi::Value v = ptrs[i];
    if (absent(v)) {
      if (c == 'T' || c == 'D') throw_type(env, op, name + " is required");
      continue;
    }
    DevBuf b = dev_buffer_value(env, v, op, name);
    same(b);
    const cuda::DT dt = (c == 'T' || c == 't') ? g.dt : cuda::DT::F64;
    g.t[i] = span_at(env, op, name, b, dt, count_of(env, offs[i], op, name + " offset"), g.n);
  }
  if (!h_v.IsArray() || h_v.As<Napi::Array>().Length() > 8)
    throw_type(env, op, where + "h must be an array of at most 8 numbers");
  Napi::Array h = h_v.As<Napi::Array>();
  for (uint32_t i = 0; i < h.Length(); ++i) {
    Napi::Value v = h[i];
    if (!v.IsNumber()) throw_type(env, op, where + "h[" + std::to_string(i) + "] must be a number");
    g.h[i] = v.As<Napi::Number>().DoubleValue();
  }
}

// The device scalar of an update (slot 'S' required, 's' optional, '-' unused).
const double* scalar_of(Napi::Env env, const std::string& op, int kind, const Napi::Value& v, const Napi::Value& off,
                        cuda::Runtime*& rt) {
  const char sc = cuda::optim_scalar(cuda::OptimEw(kind));
  if (!absent(v) && sc != '-') {
    DevBuf b = dev_buffer_value(env, v, op, "scalar");
    if (rt != nullptr && b.rt != rt) throw_range(env, op, "operands are on different CUDA devices");
    rt = b.rt;
    return static_cast<const double*>(span_at(env, op, "scalar", b, cuda::DT::F64, count_of(env, off, op, "scalar offset"), 1));
  }
  if (sc == 'S') throw_type(env, op, "update " + std::to_string(kind) + " needs its device scalar");
  return nullptr;
}

int update_kind(const Napi::CallbackInfo& info, size_t i, const std::string& op) {
  const int64_t kind = count(info, i, op, "update code");
  if (kind >= cuda::kOptimEwCount) throw_range(info.Env(), op, "unknown update code " + std::to_string(kind));
  return int(kind);
}

// cudaOptimEw(kind, dt, n, ptrs, offs, scalar, scalarOff, h, flags)
Napi::Value Ew(const Napi::CallbackInfo& info) {
  const std::string op = "cudaOptimEw";
  expect_args(info, op, 9);
  Napi::Env env = info.Env();
  cuda::OptimEwArgs g{};
  g.kind = update_kind(info, 0, op);
  g.dt = float_dt_arg(info, 1, op);
  g.n = count(info, 2, op, "n");
  cuda::Runtime* rt = nullptr;
  fill_operands(env, op, g, info[3], info[4], info[7], rt, "");
  g.s = scalar_of(env, op, g.kind, info[5], info[6], rt);
  g.flags = int(count(info, 8, op, "flags"));
  if (g.n > 0 && rt != nullptr) check_cuda(env, op, rt->ops().optim_ew(rt, g), rt);
  return env.Undefined();
}

// cudaOptimEwMulti(kind, dt, flags, scalar, scalarOff, parts: [{ ptrs, offs, n, h }, ...]): one
// launch for up to 16 tensors (multi-tensor apply).
Napi::Value EwMulti(const Napi::CallbackInfo& info) {
  const std::string op = "cudaOptimEwMulti";
  expect_args(info, op, 6);
  Napi::Env env = info.Env();
  cuda::OptimEwMultiArgs g{};
  const int kind = update_kind(info, 0, op);
  const cuda::DT dt = float_dt_arg(info, 1, op);
  const int flags = int(count(info, 2, op, "flags"));
  if (!info[5].IsArray()) throw_type(env, op, "parts must be an array");
  Napi::Array parts = info[5].As<Napi::Array>();
  if (parts.Length() == 0 || parts.Length() > uint32_t(cuda::kOptimMultiTensors))
    throw_range(env, op, "parts must hold 1.." + std::to_string(cuda::kOptimMultiTensors) + " tensors, got " +
                             std::to_string(parts.Length()));
  cuda::Runtime* rt = nullptr;
  const double* scalar = scalar_of(env, op, kind, info[3], info[4], rt);
  g.count = int(parts.Length());
  for (uint32_t j = 0; j < parts.Length(); ++j) {
    const std::string where = "parts[" + std::to_string(j) + "]: ";
    Napi::Value pv = parts[j];
    if (!pv.IsObject()) throw_type(env, op, where + "must be an object { ptrs, offs, n, h }");
    Napi::Object part = pv.As<Napi::Object>();
    cuda::OptimEwArgs& a = g.part[j];
    a.kind = kind;
    a.dt = dt;
    a.flags = flags;
    a.s = scalar;
    a.n = count_of(env, part.Get("n"), op, where + "n");
    fill_operands(env, op, a, part.Get("ptrs"), part.Get("offs"), part.Get("h"), rt, where);
  }
  if (rt != nullptr) check_cuda(env, op, rt->ops().optim_ew_multi(rt, g), rt, std::to_string(g.count) + " tensors");
  return env.Undefined();
}

// cudaOptimSumSq(dt, a, aOff, n, partial, partialOff, blocks)
Napi::Value SumSq(const Napi::CallbackInfo& info) {
  const std::string op = "cudaOptimSumSq";
  expect_args(info, op, 7);
  Napi::Env env = info.Env();
  cuda::OptimSumSqArgs g{};
  g.dt = float_dt_arg(info, 0, op);
  DevBuf a = dev_buffer(info, 1, op, "a");
  const int64_t a_off = count(info, 2, op, "a offset");
  g.n = count(info, 3, op, "n");
  DevBuf p = dev_buffer(info, 4, op, "partial");
  const int64_t p_off = count(info, 5, op, "partial offset");
  g.blocks = count(info, 6, op, "blocks");
  if (g.blocks > (1 << 20)) throw_range(env, op, "at most 2^20 blocks");
  same_device(env, op, {&a, &p});
  g.a = span_at(env, op, "a", a, g.dt, a_off, g.n);
  g.partial = static_cast<double*>(span_at(env, op, "partial", p, cuda::DT::F64, p_off, g.blocks));
  if (g.blocks > 0) check_cuda(env, op, a.rt->ops().optim_sumsq(a.rt, g), a.rt);
  return env.Undefined();
}

// cudaOptimFinalize(partial, partialOff, count, out, outOff, takeSqrt, mul)
Napi::Value Finalize(const Napi::CallbackInfo& info) {
  const std::string op = "cudaOptimFinalize";
  expect_args(info, op, 7);
  Napi::Env env = info.Env();
  cuda::OptimFinalizeArgs g{};
  DevBuf p = dev_buffer(info, 0, op, "partial");
  const int64_t p_off = count(info, 1, op, "partial offset");
  g.count = count(info, 2, op, "count");
  DevBuf out = dev_buffer(info, 3, op, "out");
  const int64_t out_off = count(info, 4, op, "out offset");
  g.take_sqrt = info[5].ToBoolean();
  g.mul = number(info, 6, op, "mul");
  same_device(env, op, {&p, &out});
  g.partial = static_cast<const double*>(span_at(env, op, "partial", p, cuda::DT::F64, p_off, g.count));
  g.out = static_cast<double*>(span_at(env, op, "out", out, cuda::DT::F64, out_off, 1));
  check_cuda(env, op, out.rt->ops().optim_finalize(out.rt, g), out.rt);
  return env.Undefined();
}

// cudaOptimNsNorm(dt, src, srcOff, dst, dstOff, batch, rows, cols)
Napi::Value NsNorm(const Napi::CallbackInfo& info) {
  const std::string op = "cudaOptimNsNorm";
  expect_args(info, op, 8);
  Napi::Env env = info.Env();
  cuda::OptimNsNormArgs g{};
  g.dt = float_dt_arg(info, 0, op);
  DevBuf src = dev_buffer(info, 1, op, "src");
  const int64_t s_off = count(info, 2, op, "src offset");
  DevBuf dst = dev_buffer(info, 3, op, "dst");
  const int64_t d_off = count(info, 4, op, "dst offset");
  g.batch = count(info, 5, op, "batch");
  g.rows = count(info, 6, op, "rows");
  g.cols = count(info, 7, op, "cols");
  if (g.batch > 0x7fffffff) throw_range(env, op, "batch exceeds 2^31 - 1");
  same_device(env, op, {&src, &dst});
  const int64_t n = checked_product(env, op, "batch*rows*cols", {g.batch, g.rows, g.cols});
  g.src = span_at(env, op, "src", src, g.dt, s_off, n);
  g.dst = span_at(env, op, "dst", dst, g.dt, d_off, n);
  if (n > 0) check_cuda(env, op, dst.rt->ops().optim_ns_norm(dst.rt, g), dst.rt);
  return env.Undefined();
}

}  // namespace

void register_cuda_optim(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaOptimEw", Napi::Function::New(env, Ew, "cudaOptimEw"));
  exports.Set("cudaOptimEwMulti", Napi::Function::New(env, EwMulti, "cudaOptimEwMulti"));
  exports.Set("cudaOptimSumSq", Napi::Function::New(env, SumSq, "cudaOptimSumSq"));
  exports.Set("cudaOptimFinalize", Napi::Function::New(env, Finalize, "cudaOptimFinalize"));
  exports.Set("cudaOptimNsNorm", Napi::Function::New(env, NsNorm, "cudaOptimNsNorm"));
}

}  // namespace nl::binding

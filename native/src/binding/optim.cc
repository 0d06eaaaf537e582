// optimAdamStep(params[], grads[], expAvgs[], expAvgSqs[], maxExpAvgSqs[] | null, steps[],
//               lr, beta1, beta2, eps, weightDecay, decoupled, amsgrad, maximize)
// One call per parameter group: a fused Adam/AdamW step over every tensor of the group
// (cpu/optim_adamw.h). Tensor i uses steps[i] (1-based, after increment).
// optimNewtonSchulz(g, out, batch, rows, cols, steps): batched quintic Newton–Schulz
// (cpu/newton_schulz.h); g and out [batch, rows, cols] of one dtype, out may be g.
#include <napi.h>

#include <string>
#include <vector>

#include "binding/args.h"
#include "binding/register.h"
#include "cpu/newton_schulz.h"
#include "cpu/optim_adamw.h"

namespace nl::binding {
namespace {

constexpr const char* kOp = "optimAdamStep";
constexpr int64_t kMaxNewtonSchulzSteps = 10000;

std::vector<ArrayView> array_list(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsArray()) throw_type(info.Env(), kOp, std::string(name) + " must be an array of typed arrays");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<ArrayView> out;
  out.reserve(a.Length());
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value e = a.Get(k);
    if (!e.IsTypedArray()) throw_type(info.Env(), kOp, std::string(name) + "[" + std::to_string(k) + "] must be a typed array");
    Napi::TypedArray ta = e.As<Napi::TypedArray>();
    ArrayView av;
    switch (ta.TypedArrayType()) {
      case napi_float32_array: av.dtype = DType::F32; break;
      case napi_float64_array: av.dtype = DType::F64; break;
      default: throw_type(info.Env(), kOp, std::string(name) + "[" + std::to_string(k) + "] must be a Float32Array or Float64Array");
    }
    av.length = static_cast<int64_t>(ta.ElementLength());
    av.data = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    out.push_back(av);
  }
  return out;
}

Napi::Value OptimAdamStep(const Napi::CallbackInfo& info) {
  expect_args(info, kOp, 14);
  auto params = array_list(info, 0, "params");
  auto grads = array_list(info, 1, "grads");
  auto ms = array_list(info, 2, "expAvgs");
  auto vs = array_list(info, 3, "expAvgSqs");
  const bool amsgrad = boolean(info, 12, kOp, "amsgrad");
  std::vector<ArrayView> vmaxs;
  if (amsgrad) vmaxs = array_list(info, 4, "maxExpAvgSqs");
  if (!info[5].IsArray()) throw_type(info.Env(), kOp, "steps must be an array of numbers");
  Napi::Array steps = info[5].As<Napi::Array>();
  AdamHyper h{};
  h.lr = number(info, 6, kOp, "lr");
  h.beta1 = number(info, 7, kOp, "beta1");
  h.beta2 = number(info, 8, kOp, "beta2");
  h.eps = number(info, 9, kOp, "eps");
  h.weight_decay = number(info, 10, kOp, "weightDecay");
  h.decoupled = boolean(info, 11, kOp, "decoupled");
  h.amsgrad = amsgrad;
  h.maximize = boolean(info, 13, kOp, "maximize");
  const size_t n = params.size();
  if (grads.size() != n || ms.size() != n || vs.size() != n || steps.Length() != n || (amsgrad && vmaxs.size() != n)) {
    throw_range(info.Env(), kOp, "params, grads, expAvgs, expAvgSqs, steps (and maxExpAvgSqs with amsgrad) must have the same count");
  }
  for (size_t k = 0; k < n; k++) {
    const ArrayView& p = params[k];
    for (const ArrayView* o : {&grads[k], &ms[k], &vs[k], amsgrad ? &vmaxs[k] : &vs[k]}) {
      if (o->dtype != p.dtype || o->length != p.length) {
        throw_range(info.Env(), kOp, "tensor " + std::to_string(k) + ": grad and state arrays must match the param's dtype and length (" +
                                         std::to_string(p.length) + " " + dtype_name(p.dtype) + ")");
      }
    }
  }
  for (size_t k = 0; k < n; k++) {
    Napi::Value s = steps.Get(static_cast<uint32_t>(k));
    if (!s.IsNumber() || !(s.As<Napi::Number>().DoubleValue() >= 1)) throw_range(info.Env(), kOp, "steps[" + std::to_string(k) + "] must be a number >= 1");
    h.step = s.As<Napi::Number>().DoubleValue();
    const ArrayView& p = params[k];
    if (p.dtype == DType::F32) {
      adam_step_f32(p.length, p.as<float>(), grads[k].as<float>(), ms[k].as<float>(), vs[k].as<float>(), amsgrad ? vmaxs[k].as<float>() : nullptr, h);
    } else {
      adam_step_f64(p.length, p.as<double>(), grads[k].as<double>(), ms[k].as<double>(), vs[k].as<double>(), amsgrad ? vmaxs[k].as<double>() : nullptr, h);
    }
  }
  return info.Env().Undefined();
}

Napi::Value OptimNewtonSchulz(const Napi::CallbackInfo& info) {
  const char* op = "optimNewtonSchulz";
  expect_args(info, op, 6);
  ArrayView g = typed_array(info, 0, op, "g");
  ArrayView out = typed_array(info, 1, op, "out");
  const int64_t batch = count(info, 2, op, "batch"), rows = count(info, 3, op, "rows"), cols = count(info, 4, op, "cols");
  const int64_t steps = count(info, 5, op, "steps");
  if (g.dtype != out.dtype || (g.dtype != DType::F32 && g.dtype != DType::F64)) {
    throw_type(info.Env(), op, std::string("g and out must both be Float32Array or both Float64Array, got ") + dtype_name(g.dtype) + " and " + dtype_name(out.dtype));
  }
  if (batch < 1 || rows < 1 || cols < 1) throw_range(info.Env(), op, "batch, rows and cols must be >= 1");
  // Bounds the run time: legitimate callers use ~5 (Muon); 2^31 steps on a 1x1 matrix would hang.
  if (steps > kMaxNewtonSchulzSteps) {
    throw_range(info.Env(), op, "steps must be at most " + std::to_string(kMaxNewtonSchulzSteps) + ", got " + std::to_string(steps));
  }
  const int64_t numel = checked_product(info.Env(), op, "batch * rows * cols", {batch, rows, cols});
  if (g.length != numel || out.length != g.length) {
    throw_range(info.Env(), op, "g and out must have batch*rows*cols = " + std::to_string(numel) + " elements, got " +
                                     std::to_string(g.length) + " and " + std::to_string(out.length));
  }
  if (g.dtype == DType::F32) newton_schulz_f32(g.as<float>(), out.as<float>(), batch, rows, cols, steps);
  else newton_schulz_f64(g.as<double>(), out.as<double>(), batch, rows, cols, steps);
  return info.Env().Undefined();
}

}  // namespace

void register_optim(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "optimAdamStep", OptimAdamStep);
  export_fn(env, exports, "optimNewtonSchulz", OptimNewtonSchulz);
}

}  // namespace nl::binding

// decodeTitansBlock: the fused batch-1 decode step of a TitansLM block (cpu/decode_titans.h).
//
//   decodeTitansBlock({ x, norm1, wQkv, conv, wTheta, bTheta, wEta, bEta, wAlpha, bAlpha, outNorm,
//                       wGateOut, wOut, norm2, wGate, wUp, wDown, convCache, memory },
//                     { tokens, d, heads, hidden, memoryHidden, window, chunkSize, position, eps,
//                       thetaMax, etaMax, alphaMax })
//
// x [n, D] (updated in place); wQkv [3D, D]; conv [3D, K]; wTheta, wEta, wAlpha [H, D]; bTheta,
// bEta, bAlpha [H]; outNorm [D/H]; wGateOut, wOut [D, D]; norms [D]; wGate, wUp [F, D]; wDown
// [D, F]; convCache [K-1, 3D]; memory [6, H, D/H·M], the memory state w1, w2, s1, s2, a1, a2 stacked
// (w1, s1, a1 [H, D/H, M]; w2, s2, a2 [H, M, D/H]), updated in place like x and convCache. Field
// names and types: native/lib/decode.ts.
//
// The common call is read on the raw N-API (lean_fields.h: one typed-array query per field,
// one key count); anything irregular is re-read with memory::Fields, which names the bad field.
#include <napi.h>

#include <string>
#include <vector>

#include "binding/decode_args.h"
#include "binding/lean_fields.h"
#include "binding/memory_common.h"
#include "binding/register.h"
#include "cpu/decode_titans.h"

namespace nl::binding {
namespace {

using memory::Fields;

// The operand arrays in call order: name, shape label, dims (rank <= 3).
constexpr int kArrays = 19;
struct Spec {
  const char* name;
  const char* label;
  int rank;
  int64_t dims[3];
};

void specs(const TitansDecodeDims& d, Spec* s) {
  const int64_t D = d.d, H = d.heads, Dh = D / H, F = d.hidden, n = d.tokens, K = d.window, M = d.memory_hidden;
  const Spec all[kArrays] = {
      {"x", "[n, D]", 2, {n, D}},
      {"norm1", "[D]", 1, {D}},
      {"wQkv", "[3D, D]", 2, {3 * D, D}},
      {"conv", "[3D, K]", 2, {3 * D, K}},
      {"wTheta", "[H, D]", 2, {H, D}},
      {"bTheta", "[H]", 1, {H}},
      {"wEta", "[H, D]", 2, {H, D}},
      {"bEta", "[H]", 1, {H}},
      {"wAlpha", "[H, D]", 2, {H, D}},
      {"bAlpha", "[H]", 1, {H}},
      {"outNorm", "[D/H]", 1, {Dh}},
      {"wGateOut", "[D, D]", 2, {D, D}},
      {"wOut", "[D, D]", 2, {D, D}},
      {"norm2", "[D]", 1, {D}},
      {"wGate", "[F, D]", 2, {F, D}},
      {"wUp", "[F, D]", 2, {F, D}},
      {"wDown", "[D, F]", 2, {D, F}},
      {"convCache", "[K-1, 3D]", 2, {K - 1, 3 * D}},
      {"memory", "[6, H, D/H·M]", 3, {6, H, Dh * M}},
  };
  for (int i = 0; i < kArrays; ++i) s[i] = all[i];
}

// The dims through either reader (LeanFields or memory::Fields: the same getters).
template <typename Reader>
void read_dims(Reader& f, TitansDecodeDims& d) {
  d.tokens = f.integer("tokens", 1);
  d.d = f.integer("d", 1);
  d.heads = f.integer("heads", 1);
  d.hidden = f.integer("hidden", 1);
  d.memory_hidden = f.integer("memoryHidden", 1);
  d.window = f.integer("window", 1);
  d.chunk = f.integer("chunkSize", 1);
  d.position = f.integer("position", 0);
  d.eps = f.finite("eps");
  d.theta_max = f.finite("thetaMax");
  d.eta_max = f.finite("etaMax");
  d.alpha_max = f.finite("alphaMax");
}

struct Operands {
  TitansDecodeDims d;
  bool f64 = false;
  void* a[kArrays] = {};
};

// The common call on the raw N-API; false: re-read with `checked`.
bool lean(const Napi::CallbackInfo& info, Operands& o) {
  if (info.Length() < 2) return false;
  LeanFields f(info.Env(), info[1]);
  TitansDecodeDims& d = o.d;
  read_dims(f, d);
  if (!f.done() || !(d.eps > 0) || !(d.theta_max > 0) || !(d.eta_max > 0) || !(d.alpha_max > 0) ||
      d.d % d.heads != 0)
    return false;
  Spec s[kArrays];
  specs(d, s);
  LeanFields a(info.Env(), info[0]);
  napi_typedarray_type dt = napi_int8_array;
  for (int i = 0; i < kArrays; ++i) {
    int64_t n = 1;
    for (int r = 0; r < s[i].rank; ++r)
      if (__builtin_mul_overflow(n, s[i].dims[r], &n)) return false;
    o.a[i] = a.array(s[i].name, n, false, &dt).data;
  }
  if (!a.done()) return false;
  o.f64 = dt == napi_float64_array;
  return true;
}

// Every field read through memory::Fields: throws naming the first bad one.
void checked(const Napi::CallbackInfo& info, Operands& o) {
  const char* op = "decodeTitansBlock";
  expect_args(info, op, 2);
  Napi::Env env = info.Env();
  Fields f(info, 1, op, "dims");
  TitansDecodeDims& d = o.d;
  read_dims(f, d);
  const double* positive[] = {&d.eps, &d.theta_max, &d.eta_max, &d.alpha_max};
  const char* names[] = {"eps", "thetaMax", "etaMax", "alphaMax"};
  for (int i = 0; i < 4; ++i) {
    if (!(*positive[i] > 0))
      throw_range(env, op, std::string("dims.") + names[i] + " must be > 0, got " + std::to_string(*positive[i]));
  }
  f.done();
  check_heads(env, op, d.d, d.heads);
  Spec s[kArrays];
  specs(d, s);
  Fields a(info, 0, op, "arrays");
  DType dt = DType::Other;
  for (int i = 0; i < kArrays; ++i) {
    const std::vector<int64_t> dims(s[i].dims, s[i].dims + s[i].rank);
    o.a[i] = a.array(s[i].name, dims, s[i].label, false, &dt).data;
  }
  a.done();
  o.f64 = dt == DType::F64;
}

template <typename T>
void run(const Operands& o) {
  auto c = [&](int i) { return static_cast<const T*>(o.a[i]); };
  const TitansBlockWeights<T> w{c(1),  c(2),  c(3),  c(4),  c(5),  c(6),  c(7),  c(8),
                                c(9),  c(10), c(11), c(12), c(13), c(14), c(15), c(16)};
  T* mem = static_cast<T*>(o.a[18]);
  const int64_t part = o.d.d * o.d.memory_hidden;  // H · D/H · M
  const TitansMemoryState<T> m{mem, mem + part, mem + 2 * part, mem + 3 * part, mem + 4 * part, mem + 5 * part};
  titans_block_decode<T>(o.d, w, static_cast<T*>(o.a[0]), static_cast<T*>(o.a[17]), m);
}

Napi::Value TitansBlock(const Napi::CallbackInfo& info) {
  Operands o;
  if (!lean(info, o)) {
    o = Operands{};
    checked(info, o);
  }
  Spec s[kArrays];
  specs(o.d, s);
  OperandSpan spans[kArrays];
  for (int i = 0; i < kArrays; ++i) {
    int64_t n = 1;
    for (int r = 0; r < s[i].rank; ++r) n *= s[i].dims[r];  // checked by the read
    spans[i] = {s[i].name, o.a[i], n, i == 0 || i >= 17};  // x, convCache, memory
  }
  check_disjoint(info.Env(), "decodeTitansBlock", spans, kArrays, o.f64 ? 8 : 4);
  if (o.f64) run<double>(o);
  else run<float>(o);
  return info.Env().Undefined();
}

}  // namespace

void register_decode_titans(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "decodeTitansBlock", TitansBlock);
}

}  // namespace nl::binding

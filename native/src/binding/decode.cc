// decodeAttentionBlock / decodeHead: the fused batch-1 decode steps of @nl/hope (cpu/decode.h).
//
//   decodeAttentionBlock({ x, norm1, wq, wk, wv, wo, norm2, wGate, wUp, wDown, kCache, vCache },
//                        { tokens, d, heads, hidden, position, capacity, eps, ropeBase })
//   decodeHead({ x, norm, head, logits }, { tokens, d, vocab, eps })
//   decodeDeltaNetBlock({ x, norm1, wQkv, conv, wAlpha, wBeta, aLog, dtBias, outNorm, wGateOut, wOut,
//                         norm2, wGate, wUp, wDown, convCache, memory }, { tokens, d, heads, hidden, window, eps })
//
// x [n, D] (decodeAttentionBlock updates it in place); wq.. wo [D, D]; wGate, wUp [F, D]; wDown
// [D, F]; norms [D]; kCache, vCache [H, capacity, D/H] (rows position.. position+n-1 are written);
// head [V, D]; logits [n, V]; wQkv [3D, D], conv [3D, K], wAlpha, wBeta [H, D], aLog, dtBias [H],
// outNorm [D/H], wGateOut, wOut [D, D], convCache [K-1, 3D] and memory [H, D/H, D/H] (updated in
// place). Field names and types: native/lib/decode.ts.
#include <napi.h>

#include <string>

#include "binding/decode_args.h"
#include "binding/memory_common.h"
#include "binding/register.h"
#include "cpu/decode.h"

namespace nl::binding {
namespace {

using memory::Fields;
using memory::mut;
using memory::ptr;

double positive(Napi::Env env, const char* op, Fields& f, const char* name) {
  const double v = f.finite(name);
  if (!(v > 0)) throw_range(env, op, std::string("dims.") + name + " must be > 0, got " + std::to_string(v));
  return v;
}

Napi::Value AttentionBlock(const Napi::CallbackInfo& info) {
  const char* op = "decodeAttentionBlock";
  expect_args(info, op, 2);
  Napi::Env env = info.Env();
  Fields f(info, 1, op, "dims");
  AttnDecodeDims d;
  d.tokens = f.integer("tokens", 1);
  d.d = f.integer("d", 1);
  d.heads = f.integer("heads", 1);
  d.hidden = f.integer("hidden", 1);
  d.position = f.integer("position", 0);
  d.capacity = f.integer("capacity", 1);
  d.eps = positive(env, op, f, "eps");
  d.rope_base = positive(env, op, f, "ropeBase");
  f.done();
  check_heads(env, op, d.d, d.heads);
  const int64_t D = d.d, H = d.heads, Dh = D / H, F = d.hidden, n = d.tokens;
  if (Dh % 2 != 0) throw_range(env, op, "head dim d/heads (" + std::to_string(Dh) + ") must be even for RoPE");
  if (d.position + n > d.capacity)
    throw_range(env, op, "the cache is full: dims.position + dims.tokens (" + std::to_string(d.position + n) +
                             ") exceeds dims.capacity (" + std::to_string(d.capacity) + ")");
  Fields a(info, 0, op, "arrays");
  DType dt = DType::Other;
  const char* kDD = "[D, D]";
  ArrayView x = a.array("x", {n, D}, "[n, D]", false, &dt);
  ArrayView norm1 = a.array("norm1", {D}, "[D]", false, &dt);
  ArrayView wq = a.array("wq", {D, D}, kDD, false, &dt);
  ArrayView wk = a.array("wk", {D, D}, kDD, false, &dt);
  ArrayView wv = a.array("wv", {D, D}, kDD, false, &dt);
  ArrayView wo = a.array("wo", {D, D}, kDD, false, &dt);
  ArrayView norm2 = a.array("norm2", {D}, "[D]", false, &dt);
  ArrayView gate = a.array("wGate", {F, D}, "[F, D]", false, &dt);
  ArrayView up = a.array("wUp", {F, D}, "[F, D]", false, &dt);
  ArrayView down = a.array("wDown", {D, F}, "[D, F]", false, &dt);
  ArrayView kc = a.array("kCache", {H, d.capacity, Dh}, "[H, capacity, D/H]", false, &dt);
  ArrayView vc = a.array("vCache", {H, d.capacity, Dh}, "[H, capacity, D/H]", false, &dt);
  a.done();
  const OperandSpan spans[] = {
      {"x", x.data, x.length, true},          {"norm1", norm1.data, norm1.length, false},
      {"wq", wq.data, wq.length, false},      {"wk", wk.data, wk.length, false},
      {"wv", wv.data, wv.length, false},      {"wo", wo.data, wo.length, false},
      {"norm2", norm2.data, norm2.length, false}, {"wGate", gate.data, gate.length, false},
      {"wUp", up.data, up.length, false},     {"wDown", down.data, down.length, false},
      {"kCache", kc.data, kc.length, true},   {"vCache", vc.data, vc.length, true},
  };
  check_disjoint(env, op, spans, 12, dt == DType::F64 ? 8 : 4);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const AttnBlockWeights<T> w{ptr<T>(norm1), ptr<T>(wq), ptr<T>(wk), ptr<T>(wv),  ptr<T>(wo),
                                ptr<T>(norm2), ptr<T>(gate), ptr<T>(up), ptr<T>(down)};
    attention_block_decode<T>(d, w, mut<T>(x), mut<T>(kc), mut<T>(vc));
  };
  if (dt == DType::F32) run(float{});
  else run(double{});
  return env.Undefined();
}

Napi::Value Head(const Napi::CallbackInfo& info) {
  const char* op = "decodeHead";
  expect_args(info, op, 2);
  Napi::Env env = info.Env();
  Fields f(info, 1, op, "dims");
  const int64_t n = f.integer("tokens", 1), D = f.integer("d", 1), V = f.integer("vocab", 1);
  const double eps = positive(env, op, f, "eps");
  f.done();
  Fields a(info, 0, op, "arrays");
  DType dt = DType::Other;
  ArrayView x = a.array("x", {n, D}, "[n, D]", false, &dt);
  ArrayView norm = a.array("norm", {D}, "[D]", false, &dt);
  ArrayView head = a.array("head", {V, D}, "[V, D]", false, &dt);
  ArrayView logits = a.array("logits", {n, V}, "[n, V]", false, &dt);
  a.done();
  const OperandSpan spans[] = {{"x", x.data, x.length, false},
                               {"norm", norm.data, norm.length, false},
                               {"head", head.data, head.length, false},
                               {"logits", logits.data, logits.length, true}};
  check_disjoint(env, op, spans, 4, dt == DType::F64 ? 8 : 4);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    head_decode<T>(n, D, V, eps, ptr<T>(x), ptr<T>(norm), ptr<T>(head), mut<T>(logits));
  };
  if (dt == DType::F32) run(float{});
  else run(double{});
  return env.Undefined();
}

Napi::Value DeltaNetBlock(const Napi::CallbackInfo& info) {
  const char* op = "decodeDeltaNetBlock";
  expect_args(info, op, 2);
  Napi::Env env = info.Env();
  Fields f(info, 1, op, "dims");
  DeltaDecodeDims d;
  d.tokens = f.integer("tokens", 1);
  d.d = f.integer("d", 1);
  d.heads = f.integer("heads", 1);
  d.hidden = f.integer("hidden", 1);
  d.window = f.integer("window", 1);
  d.eps = positive(env, op, f, "eps");
  f.done();
  check_heads(env, op, d.d, d.heads);
  const int64_t D = d.d, H = d.heads, Dh = D / H, F = d.hidden, n = d.tokens, K = d.window;
  Fields a(info, 0, op, "arrays");
  DType dt = DType::Other;
  const char* kDD = "[D, D]";
  ArrayView x = a.array("x", {n, D}, "[n, D]", false, &dt);
  ArrayView norm1 = a.array("norm1", {D}, "[D]", false, &dt);
  ArrayView qkv = a.array("wQkv", {3 * D, D}, "[3D, D]", false, &dt);
  ArrayView conv = a.array("conv", {3 * D, K}, "[3D, K]", false, &dt);
  ArrayView wa = a.array("wAlpha", {H, D}, "[H, D]", false, &dt);
  ArrayView wb = a.array("wBeta", {H, D}, "[H, D]", false, &dt);
  ArrayView alog = a.array("aLog", {H}, "[H]", false, &dt);
  ArrayView dtb = a.array("dtBias", {H}, "[H]", false, &dt);
  ArrayView onorm = a.array("outNorm", {Dh}, "[D/H]", false, &dt);
  ArrayView gout = a.array("wGateOut", {D, D}, kDD, false, &dt);
  ArrayView wout = a.array("wOut", {D, D}, kDD, false, &dt);
  ArrayView norm2 = a.array("norm2", {D}, "[D]", false, &dt);
  ArrayView gate = a.array("wGate", {F, D}, "[F, D]", false, &dt);
  ArrayView up = a.array("wUp", {F, D}, "[F, D]", false, &dt);
  ArrayView down = a.array("wDown", {D, F}, "[D, F]", false, &dt);
  ArrayView cache = a.array("convCache", {K - 1, 3 * D}, "[K-1, 3D]", false, &dt);
  ArrayView mem = a.array("memory", {H, Dh, Dh}, "[H, D/H, D/H]", false, &dt);
  a.done();
  const OperandSpan spans[] = {
      {"x", x.data, x.length, true},           {"norm1", norm1.data, norm1.length, false},
      {"wQkv", qkv.data, qkv.length, false},   {"conv", conv.data, conv.length, false},
      {"wAlpha", wa.data, wa.length, false},   {"wBeta", wb.data, wb.length, false},
      {"aLog", alog.data, alog.length, false}, {"dtBias", dtb.data, dtb.length, false},
      {"outNorm", onorm.data, onorm.length, false}, {"wGateOut", gout.data, gout.length, false},
      {"wOut", wout.data, wout.length, false}, {"norm2", norm2.data, norm2.length, false},
      {"wGate", gate.data, gate.length, false}, {"wUp", up.data, up.length, false},
      {"wDown", down.data, down.length, false}, {"convCache", cache.data, cache.length, true},
      {"memory", mem.data, mem.length, true},
  };
  check_disjoint(env, op, spans, 17, dt == DType::F64 ? 8 : 4);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const DeltaBlockWeights<T> w{ptr<T>(norm1), ptr<T>(qkv),  ptr<T>(conv),  ptr<T>(wa),   ptr<T>(wb),
                                 ptr<T>(alog),  ptr<T>(dtb),  ptr<T>(onorm), ptr<T>(gout), ptr<T>(wout),
                                 ptr<T>(norm2), ptr<T>(gate), ptr<T>(up),    ptr<T>(down)};
    deltanet_block_decode<T>(d, w, mut<T>(x), mut<T>(cache), mut<T>(mem));
  };
  if (dt == DType::F32) run(float{});
  else run(double{});
  return env.Undefined();
}

}  // namespace

void register_decode(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "decodeAttentionBlock", AttentionBlock);
  export_fn(env, exports, "decodeHead", Head);
  export_fn(env, exports, "decodeDeltaNetBlock", DeltaNetBlock);
}

}  // namespace nl::binding

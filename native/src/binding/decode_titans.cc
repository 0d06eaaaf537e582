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
#include <napi.h>

#include <string>

#include "binding/memory_common.h"
#include "binding/register.h"
#include "cpu/decode_titans.h"

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

Napi::Value TitansBlock(const Napi::CallbackInfo& info) {
  const char* op = "decodeTitansBlock";
  expect_args(info, op, 2);
  Napi::Env env = info.Env();
  Fields f(info, 1, op, "dims");
  TitansDecodeDims d;
  d.tokens = f.integer("tokens", 1);
  d.d = f.integer("d", 1);
  d.heads = f.integer("heads", 1);
  d.hidden = f.integer("hidden", 1);
  d.memory_hidden = f.integer("memoryHidden", 1);
  d.window = f.integer("window", 1);
  d.chunk = f.integer("chunkSize", 1);
  d.position = f.integer("position", 0);
  d.eps = positive(env, op, f, "eps");
  d.theta_max = positive(env, op, f, "thetaMax");
  d.eta_max = positive(env, op, f, "etaMax");
  d.alpha_max = positive(env, op, f, "alphaMax");
  f.done();
  if (d.d % d.heads != 0)
    throw_range(env, op, "dims.d (" + std::to_string(d.d) + ") must divide by dims.heads (" +
                             std::to_string(d.heads) + ")");
  const int64_t D = d.d, H = d.heads, Dh = D / H, F = d.hidden, n = d.tokens, K = d.window, M = d.memory_hidden;
  Fields a(info, 0, op, "arrays");
  DType dt = DType::Other;
  const char* kDD = "[D, D]";
  const char* kHD = "[H, D]";
  const char* kH = "[H]";
  ArrayView x = a.array("x", {n, D}, "[n, D]", false, &dt);
  ArrayView norm1 = a.array("norm1", {D}, "[D]", false, &dt);
  ArrayView qkv = a.array("wQkv", {3 * D, D}, "[3D, D]", false, &dt);
  ArrayView conv = a.array("conv", {3 * D, K}, "[3D, K]", false, &dt);
  ArrayView wth = a.array("wTheta", {H, D}, kHD, false, &dt);
  ArrayView bth = a.array("bTheta", {H}, kH, false, &dt);
  ArrayView wet = a.array("wEta", {H, D}, kHD, false, &dt);
  ArrayView bet = a.array("bEta", {H}, kH, false, &dt);
  ArrayView wal = a.array("wAlpha", {H, D}, kHD, false, &dt);
  ArrayView bal = a.array("bAlpha", {H}, kH, false, &dt);
  ArrayView onorm = a.array("outNorm", {Dh}, "[D/H]", false, &dt);
  ArrayView gout = a.array("wGateOut", {D, D}, kDD, false, &dt);
  ArrayView wout = a.array("wOut", {D, D}, kDD, false, &dt);
  ArrayView norm2 = a.array("norm2", {D}, "[D]", false, &dt);
  ArrayView gate = a.array("wGate", {F, D}, "[F, D]", false, &dt);
  ArrayView up = a.array("wUp", {F, D}, "[F, D]", false, &dt);
  ArrayView down = a.array("wDown", {D, F}, "[D, F]", false, &dt);
  ArrayView cache = a.array("convCache", {K - 1, 3 * D}, "[K-1, 3D]", false, &dt);
  ArrayView mem = a.array("memory", {6, H, Dh * M}, "[6, H, D/H·M]", false, &dt);
  a.done();
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const TitansBlockWeights<T> w{ptr<T>(norm1), ptr<T>(qkv),  ptr<T>(conv),  ptr<T>(wth),  ptr<T>(bth),  ptr<T>(wet),
                                  ptr<T>(bet),   ptr<T>(wal),  ptr<T>(bal),   ptr<T>(onorm), ptr<T>(gout), ptr<T>(wout),
                                  ptr<T>(norm2), ptr<T>(gate), ptr<T>(up),    ptr<T>(down)};
    T* all = mut<T>(mem);
    const int64_t part = H * Dh * M;
    const TitansMemoryState<T> m{all, all + part, all + 2 * part, all + 3 * part, all + 4 * part, all + 5 * part};
    titans_block_decode<T>(d, w, mut<T>(x), mut<T>(cache), m);
  };
  if (dt == DType::F32) run(float{});
  else run(double{});
  return env.Undefined();
}

}  // namespace

void register_decode_titans(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "decodeTitansBlock", TitansBlock);
}

}  // namespace nl::binding

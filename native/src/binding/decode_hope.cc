// decodeHopeBlock: the fused batch-1 decode step of a HopeLM block (cpu/decode_hope.h).
//
//   decodeHopeBlock({ x, norm1, conv, convBias?, wq, outNorm, wg, wo, norm2,
//                     cmsW1_ℓ, cmsD1_ℓ?, cmsW2_ℓ, cmsD2_ℓ? (ℓ = 0 .. levels-1), convCache, mems },
//                   { tokens, d, heads, memHidden, cmsHidden, levels, window, position, chunkMem,
//                     chunkOther, momentum, alphaBias, etaBias, eps, frozen?, refresh? })
//
// x [n, D]; norms [D]; conv [D, K]; convBias [D]; wq, wg, wo [D, D]; outNorm [D/H]; cmsW1_ℓ,
// cmsD1_ℓ [Hc, D]; cmsW2_ℓ, cmsD2_ℓ [D, Hc] (an absent Δ is zero); convCache [K-1, D];
// mems [5, 8, H, D/H · Dm] (cpu/decode_hope.h). x, convCache and mems are updated in place. Types: native/lib/decode-hope.ts.
#include <napi.h>

#include <string>

#include "binding/memory_common.h"
#include "binding/register.h"
#include "cpu/decode_hope.h"

namespace nl::binding {
namespace {

using memory::Fields;
using memory::mut;
using memory::ptr;

Napi::Value HopeBlock(const Napi::CallbackInfo& info) {
  const char* op = "decodeHopeBlock";
  expect_args(info, op, 2);
  Napi::Env env = info.Env();
  Fields f(info, 1, op, "dims");
  HopeDecodeDims d;
  d.tokens = f.integer("tokens", 1);
  d.d = f.integer("d", 1);
  d.heads = f.integer("heads", 1);
  d.mem_hidden = f.integer("memHidden", 1);
  d.cms_hidden = f.integer("cmsHidden", 1);
  d.levels = f.integer("levels", 0);
  d.window = f.integer("window", 1);
  d.position = f.integer("position", 0);
  d.chunk_mem = f.integer("chunkMem", 1);
  d.chunk_other = f.integer("chunkOther", 1);
  d.momentum = f.finite("momentum");
  d.alpha_bias = f.finite("alphaBias");
  d.eta_bias = f.finite("etaBias");
  d.eps = f.finite("eps");
  d.frozen = f.flag("frozen", 0);
  d.refresh = f.flag("refresh", 0);
  f.done();
  if (!(d.eps > 0)) throw_range(env, op, "dims.eps must be > 0, got " + std::to_string(d.eps));
  if (d.d % d.heads != 0)
    throw_range(env, op, "dims.d (" + std::to_string(d.d) + ") must divide by dims.heads (" +
                             std::to_string(d.heads) + ")");
  if (d.levels > 64) throw_range(env, op, "dims.levels must be <= 64, got " + std::to_string(d.levels));
  const int64_t D = d.d, H = d.heads, Dd = D / H, Dm = d.mem_hidden, Hc = d.cms_hidden, n = d.tokens,
                K = d.window;
  Fields a(info, 0, op, "arrays");
  DType dt = DType::Other;
  const char* kDD = "[D, D]";
  ArrayView x = a.array("x", {n, D}, "[n, D]", false, &dt);
  ArrayView norm1 = a.array("norm1", {D}, "[D]", false, &dt);
  ArrayView conv = a.array("conv", {D, K}, "[D, K]", false, &dt);
  ArrayView bias = a.array("convBias", {D}, "[D]", true, &dt);
  ArrayView wq = a.array("wq", {D, D}, kDD, false, &dt);
  ArrayView onorm = a.array("outNorm", {Dd}, "[D/H]", false, &dt);
  ArrayView wg = a.array("wg", {D, D}, kDD, false, &dt);
  ArrayView wo = a.array("wo", {D, D}, kDD, false, &dt);
  ArrayView norm2 = a.array("norm2", {D}, "[D]", false, &dt);
  std::vector<ArrayView> w1(d.levels), d1(d.levels), w2(d.levels), d2(d.levels);
  for (int64_t l = 0; l < d.levels; ++l) {
    const std::string s = std::to_string(l);
    w1[l] = a.array(("cmsW1_" + s).c_str(), {Hc, D}, "[Hc, D]", false, &dt);
    d1[l] = a.array(("cmsD1_" + s).c_str(), {Hc, D}, "[Hc, D]", true, &dt);
    w2[l] = a.array(("cmsW2_" + s).c_str(), {D, Hc}, "[D, Hc]", false, &dt);
    d2[l] = a.array(("cmsD2_" + s).c_str(), {D, Hc}, "[D, Hc]", true, &dt);
  }
  ArrayView cache = a.array("convCache", {K - 1, D}, "[K-1, D]", false, &dt);
  ArrayView mems = a.array("mems", {kHopeMemories, kHopePacked, H, Dd * Dm}, "[5, 8, H, D/H·Dm]", false, &dt);
  a.done();
  auto run = [&](auto tag) {
    using T = decltype(tag);
    HopeBlockWeights<T> w{ptr<T>(norm1), ptr<T>(conv), bias.data ? ptr<T>(bias) : nullptr,
                          ptr<T>(wq),    ptr<T>(onorm), ptr<T>(wg), ptr<T>(wo), ptr<T>(norm2), {}, {}, {}, {}};
    for (int64_t l = 0; l < d.levels; ++l) {
      w.cms_w1.push_back(ptr<T>(w1[l]));
      w.cms_d1.push_back(d1[l].data ? ptr<T>(d1[l]) : nullptr);
      w.cms_w2.push_back(ptr<T>(w2[l]));
      w.cms_d2.push_back(d2[l].data ? ptr<T>(d2[l]) : nullptr);
    }
    hope_block_decode<T>(d, w, mut<T>(x), mut<T>(cache), mut<T>(mems));
  };
  if (dt == DType::F32) run(float{});
  else run(double{});
  return env.Undefined();
}

}  // namespace

void register_decode_hope(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "decodeHopeBlock", HopeBlock);
}

}  // namespace nl::binding

// decodeHopeBlock: the fused batch-1 decode step of a HopeLM block (cpu/decode_hope.h).
//
//   decodeHopeBlock({ x, norm1, conv, convBias?, wq, outNorm, wg, wo, norm2,
//                     cmsW1_ℓ, cmsD1_ℓ?, cmsW2_ℓ, cmsD2_ℓ? (ℓ = 0 .. levels-1), convCache, mems },
//                   { tokens, d, heads, memHidden, cmsHidden, levels, window, position, chunkMem,
//                     chunkOther, momentum, alphaBias, etaBias, eps, innerGradClip? = 0, frozen?, refresh? })
//
// x [n, D]; norms [D]; conv [D, K]; convBias [D]; wq, wg, wo [D, D]; outNorm [D/H]; cmsW1_ℓ,
// cmsD1_ℓ [Hc, D]; cmsW2_ℓ, cmsD2_ℓ [D, Hc] (an absent Δ is zero); convCache [K-1, D];
// mems [5, 8, H, D/H · Dm] (cpu/decode_hope.h). x, convCache and mems are updated in place (no other
// operand may share their memory: decode_args.h). Types: native/lib/decode-hope.ts.
// The common call is read on the raw N-API (lean_fields.h); anything irregular is re-read
// with memory::Fields, whose errors name the field.
#include <napi.h>

#include <string>
#include <vector>

#include "binding/decode_args.h"
#include "binding/lean_fields.h"
#include "binding/memory_common.h"
#include "binding/register.h"
#include "cpu/decode_hope.h"

namespace nl::binding {
namespace {

using memory::Fields;

// The operands of one call, read by either reader.
struct Operands {
  HopeDecodeDims d;
  bool f64 = false;
  const void *norm1 = nullptr, *conv = nullptr, *bias = nullptr, *wq = nullptr, *onorm = nullptr, *wg = nullptr,
             *wo = nullptr, *norm2 = nullptr;
  std::vector<const void*> w1, d1, w2, d2;
  void *x = nullptr, *cache = nullptr, *mems = nullptr;
};

constexpr int64_t kMaxLevels = 64;

// The dims through either reader (LeanFields or memory::Fields: the same getters).
template <typename Reader>
void read_dims(Reader& f, HopeDecodeDims& d) {
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
  d.clip = f.nonnegative("innerGradClip", 0);
  d.frozen = f.flag("frozen", false);
  d.refresh = f.flag("refresh", false);
}

// The common call on the raw N-API (lean_fields.h); false: re-read with `checked`.
bool lean(const Napi::CallbackInfo& info, Operands& o) {
  if (info.Length() < 2) return false;
  LeanFields f(info.Env(), info[1]);
  HopeDecodeDims& d = o.d;
  read_dims(f, d);
  if (!f.done() || !(d.eps > 0) || d.d % d.heads != 0 || d.levels > kMaxLevels) return false;
  const int64_t D = d.d, H = d.heads, Dd = D / H, Hc = d.cms_hidden, n = d.tokens, K = d.window;
  int64_t mem_size = 0, rows = 0, dd = 0, hcd = 0, dk = 0;
  if (__builtin_mul_overflow(Dd, d.mem_hidden, &mem_size) ||
      __builtin_mul_overflow(mem_size, kHopeMemories * kHopePacked * H, &mem_size) ||
      __builtin_mul_overflow(n, D, &rows) || __builtin_mul_overflow(D, D, &dd) ||
      __builtin_mul_overflow(Hc, D, &hcd) || __builtin_mul_overflow(D, K, &dk))
    return false;
  LeanFields a(info.Env(), info[0]);
  napi_typedarray_type dt = napi_int8_array;
  o.x = a.array("x", rows, false, &dt).data;
  o.norm1 = a.array("norm1", D, false, &dt).data;
  o.conv = a.array("conv", dk, false, &dt).data;
  o.bias = a.array("convBias", D, true, &dt).data;
  o.wq = a.array("wq", dd, false, &dt).data;
  o.onorm = a.array("outNorm", Dd, false, &dt).data;
  o.wg = a.array("wg", dd, false, &dt).data;
  o.wo = a.array("wo", dd, false, &dt).data;
  o.norm2 = a.array("norm2", D, false, &dt).data;
  for (int64_t l = 0; l < d.levels; ++l) {
    const std::string s = std::to_string(l);
    o.w1.push_back(a.array(("cmsW1_" + s).c_str(), hcd, false, &dt).data);
    o.d1.push_back(a.array(("cmsD1_" + s).c_str(), hcd, true, &dt).data);
    o.w2.push_back(a.array(("cmsW2_" + s).c_str(), hcd, false, &dt).data);
    o.d2.push_back(a.array(("cmsD2_" + s).c_str(), hcd, true, &dt).data);
  }
  o.cache = a.array("convCache", dk - D, false, &dt).data;
  o.mems = a.array("mems", mem_size, false, &dt).data;
  o.f64 = dt == napi_float64_array;
  return a.done();
}

// The same operands through memory::Fields: throws naming the op, the struct and the field.
void checked(const Napi::CallbackInfo& info, Operands& o) {
  const char* op = "decodeHopeBlock";
  expect_args(info, op, 2);
  Napi::Env env = info.Env();
  Fields f(info, 1, op, "dims");
  HopeDecodeDims& d = o.d;
  d = HopeDecodeDims{};
  read_dims(f, d);
  f.done();
  if (!(d.eps > 0)) throw_range(env, op, "dims.eps must be > 0, got " + std::to_string(d.eps));
  check_heads(env, op, d.d, d.heads);
  if (d.levels > kMaxLevels)
    throw_range(env, op, "dims.levels must be <= 64, got " + std::to_string(d.levels));
  const int64_t D = d.d, H = d.heads, Dd = D / H, Dm = d.mem_hidden, Hc = d.cms_hidden, n = d.tokens,
                K = d.window;
  Fields a(info, 0, op, "arrays");
  DType dt = DType::Other;
  const char* kDD = "[D, D]";
  o.x = a.array("x", {n, D}, "[n, D]", false, &dt).data;
  o.norm1 = a.array("norm1", {D}, "[D]", false, &dt).data;
  o.conv = a.array("conv", {D, K}, "[D, K]", false, &dt).data;
  o.bias = a.array("convBias", {D}, "[D]", true, &dt).data;
  o.wq = a.array("wq", {D, D}, kDD, false, &dt).data;
  o.onorm = a.array("outNorm", {Dd}, "[D/H]", false, &dt).data;
  o.wg = a.array("wg", {D, D}, kDD, false, &dt).data;
  o.wo = a.array("wo", {D, D}, kDD, false, &dt).data;
  o.norm2 = a.array("norm2", {D}, "[D]", false, &dt).data;
  o.w1.clear();
  o.d1.clear();
  o.w2.clear();
  o.d2.clear();
  for (int64_t l = 0; l < d.levels; ++l) {
    const std::string s = std::to_string(l);
    o.w1.push_back(a.array(("cmsW1_" + s).c_str(), {Hc, D}, "[Hc, D]", false, &dt).data);
    o.d1.push_back(a.array(("cmsD1_" + s).c_str(), {Hc, D}, "[Hc, D]", true, &dt).data);
    o.w2.push_back(a.array(("cmsW2_" + s).c_str(), {D, Hc}, "[D, Hc]", false, &dt).data);
    o.d2.push_back(a.array(("cmsD2_" + s).c_str(), {D, Hc}, "[D, Hc]", true, &dt).data);
  }
  o.cache = a.array("convCache", {K - 1, D}, "[K-1, D]", false, &dt).data;
  o.mems = a.array("mems", {kHopeMemories, kHopePacked, H, Dd * Dm}, "[5, 8, H, D/H·Dm]", false, &dt).data;
  a.done();
  o.f64 = dt == DType::F64;
}

template <typename T>
void run(Operands& o) {
  auto c = [](const void* p) { return static_cast<const T*>(p); };
  HopeBlockWeights<T> w{c(o.norm1), c(o.conv), c(o.bias), c(o.wq), c(o.onorm), c(o.wg), c(o.wo), c(o.norm2),
                        {},         {},        {},        {}};
  for (int64_t l = 0; l < o.d.levels; ++l) {
    w.cms_w1.push_back(c(o.w1[l]));
    w.cms_d1.push_back(c(o.d1[l]));
    w.cms_w2.push_back(c(o.w2[l]));
    w.cms_d2.push_back(c(o.d2[l]));
  }
  hope_block_decode<T>(o.d, w, static_cast<T*>(o.x), static_cast<T*>(o.cache), static_cast<T*>(o.mems));
}

// x, convCache and mems are written in place: no operand may share their memory.
void disjoint(Napi::Env env, const Operands& o) {
  const HopeDecodeDims& d = o.d;
  const int64_t D = d.d, Dd = D / d.heads, hcd = d.cms_hidden * D;
  const int64_t mems = kHopeMemories * kHopePacked * d.heads * Dd * d.mem_hidden;  // sizes checked by the read
  std::vector<OperandSpan> s = {
      {"x", o.x, d.tokens * D, true},           {"norm1", o.norm1, D, false},
      {"conv", o.conv, D * d.window, false},    {"convBias", o.bias, D, false},
      {"wq", o.wq, D * D, false},               {"outNorm", o.onorm, Dd, false},
      {"wg", o.wg, D * D, false},               {"wo", o.wo, D * D, false},
      {"norm2", o.norm2, D, false},             {"convCache", o.cache, (d.window - 1) * D, true},
      {"mems", o.mems, mems, true},
  };
  std::vector<std::string> names;  // cmsW1_ℓ .. cmsD2_ℓ
  names.reserve(static_cast<size_t>(4 * d.levels));
  for (int64_t l = 0; l < d.levels; ++l) {
    const std::string at = "_" + std::to_string(l);
    const void* ps[4] = {o.w1[l], o.d1[l], o.w2[l], o.d2[l]};
    const char* kinds[4] = {"cmsW1", "cmsD1", "cmsW2", "cmsD2"};
    for (int k = 0; k < 4; ++k) {
      names.push_back(kinds[k] + at);
      s.push_back({names.back().c_str(), ps[k], hcd, false});
    }
  }
  check_disjoint(env, "decodeHopeBlock", s.data(), static_cast<int>(s.size()), o.f64 ? 8 : 4);
}

Napi::Value HopeBlock(const Napi::CallbackInfo& info) {
  Operands o;
  if (!lean(info, o)) {
    o = Operands{};
    checked(info, o);
  }
  disjoint(info.Env(), o);
  if (o.f64) run<double>(o);
  else run<float>(o);
  return info.Env().Undefined();
}

}  // namespace

void register_decode_hope(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "decodeHopeBlock", HopeBlock);
}

}  // namespace nl::binding

// cmsForward / cmsBackward / cmsObserve: the Continuum Memory System kernels of @nl/memory (cpu/cms.h).
//
//   cmsForward({ x, w1_ℓ, d1_ℓ, w2_ℓ, d2_ℓ (ℓ < L), agg?, probe?, y, xs?, hs, ss, w1e, w2e }, dims)
//   cmsBackward({ x, xs?, hs, ss, w1e, w2e, agg?, probe?, dy, dx, dw1, dw2, dagg?, dprobe? }, dims)
//   cmsObserve({ x?, xs?, hs, ss, w2e, err, inc1?, inc2?, d1_ℓ, d2_ℓ, g1_ℓ, g2_ℓ, d1Out_ℓ, d2Out_ℓ, g1Out_ℓ, g2Out_ℓ },
//              dims)
//   dims = { batch, seqLen, d, hidden, levels, independent }
//          + for cmsObserve { nested, chunkSize_ℓ, pending_ℓ, lr_ℓ }
// x, y, dy, dx [B, T, D]; xs, probe, err [L, B, T, D]; hs, ss [L, B, T, Dh]; w1_ℓ, d1_ℓ [Dh, D];
// w2_ℓ, d2_ℓ [D, Dh]; w1e, dw1 [L, Dh, D]; w2e, dw2 [L, D, Dh]; agg, dagg [L]. xs is required for
// the chain variants and absent for independent (which needs agg, dagg, and x in cmsObserve).
// Field names and types: native/lib/memory-cms.ts.
#include <napi.h>

#include <cstring>
#include <string>
#include <vector>

#include "binding/memory_common.h"
#include "binding/register.h"
#include "cpu/cms.h"

namespace nl::binding {
namespace {

using memory::Fields;
using memory::mut;
using memory::ptr;

constexpr const char* kSeq = "[B, T, D]";
constexpr const char* kLevSeq = "[L, B, T, D]";
constexpr const char* kLevHid = "[L, B, T, Dh]";
constexpr const char* kW1 = "[Dh, D]";
constexpr const char* kW2 = "[D, Dh]";

CmsDims read_dims(Fields& f) {
  CmsDims d;
  d.batch = f.integer("batch", 0);
  d.seq = f.integer("seqLen", 0);
  d.d = f.integer("d", 1);
  d.hidden = f.integer("hidden", 1);
  d.levels = f.integer("levels", 1);
  d.independent = f.flag("independent");
  return d;
}

std::string at(const char* name, int64_t l) { return std::string(name) + "_" + std::to_string(l); }

// The per-level arrays name_0 .. name_{L-1}.
std::vector<ArrayView> level_arrays(Fields& a, const char* name, const std::vector<int64_t>& dims, const char* labels,
                                    int64_t L, DType* dt) {
  std::vector<ArrayView> out;
  for (int64_t l = 0; l < L; ++l) out.push_back(a.array(at(name, l).c_str(), dims, labels, false, dt));
  return out;
}

template <typename F>
std::vector<const F*> cptrs(const std::vector<ArrayView>& v) {
  std::vector<const F*> out;
  for (const ArrayView& a : v) out.push_back(ptr<F>(a));
  return out;
}
template <typename F>
std::vector<F*> mptrs(const std::vector<ArrayView>& v) {
  std::vector<F*> out;
  for (const ArrayView& a : v) out.push_back(mut<F>(a));
  return out;
}

Napi::Value Forward(const Napi::CallbackInfo& info) {
  const char* op = "cmsForward";
  expect_args(info, op, 2);
  Fields f(info, 1, op, "dims");
  const CmsDims d = read_dims(f);
  f.done();
  const int64_t B = d.batch, T = d.seq, D = d.d, Dh = d.hidden, L = d.levels;
  Fields a(info, 0, op, "arrays");
  DType dt = DType::Other;
  ArrayView x = a.array("x", {B, T, D}, kSeq, false, &dt);
  auto w1 = level_arrays(a, "w1", {Dh, D}, kW1, L, &dt);
  auto d1 = level_arrays(a, "d1", {Dh, D}, kW1, L, &dt);
  auto w2 = level_arrays(a, "w2", {D, Dh}, kW2, L, &dt);
  auto d2 = level_arrays(a, "d2", {D, Dh}, kW2, L, &dt);
  ArrayView agg = a.array("agg", {L}, "[L]", !d.independent, &dt);
  ArrayView probe = a.array("probe", {L, B, T, D}, kLevSeq, true, &dt);
  ArrayView y = a.array("y", {B, T, D}, kSeq, false, &dt);
  ArrayView xs = a.array("xs", {L, B, T, D}, kLevSeq, d.independent, &dt);
  ArrayView hs = a.array("hs", {L, B, T, Dh}, kLevHid, false, &dt);
  ArrayView ss = a.array("ss", {L, B, T, Dh}, kLevHid, false, &dt);
  ArrayView w1e = a.array("w1e", {L, Dh, D}, "[L, Dh, D]", false, &dt);
  ArrayView w2e = a.array("w2e", {L, D, Dh}, "[L, D, Dh]", false, &dt);
  a.done();
  auto run = [&](auto tag) {
    using F = decltype(tag);
    cms_forward<F>(d, ptr<F>(x), cptrs<F>(w1).data(), cptrs<F>(d1).data(), cptrs<F>(w2).data(), cptrs<F>(d2).data(),
                   d.independent ? ptr<F>(agg) : nullptr, ptr<F>(probe), mut<F>(y),
                   d.independent ? nullptr : mut<F>(xs), mut<F>(hs), mut<F>(ss), mut<F>(w1e), mut<F>(w2e));
  };
  if (dt == DType::F32) run(float{});
  else run(double{});
  return info.Env().Undefined();
}

Napi::Value Backward(const Napi::CallbackInfo& info) {
  const char* op = "cmsBackward";
  expect_args(info, op, 2);
  Fields f(info, 1, op, "dims");
  const CmsDims d = read_dims(f);
  f.done();
  const int64_t B = d.batch, T = d.seq, D = d.d, Dh = d.hidden, L = d.levels;
  Fields a(info, 0, op, "arrays");
  DType dt = DType::Other;
  ArrayView x = a.array("x", {B, T, D}, kSeq, false, &dt);
  ArrayView xs = a.array("xs", {L, B, T, D}, kLevSeq, d.independent, &dt);
  ArrayView hs = a.array("hs", {L, B, T, Dh}, kLevHid, false, &dt);
  ArrayView ss = a.array("ss", {L, B, T, Dh}, kLevHid, false, &dt);
  ArrayView w1e = a.array("w1e", {L, Dh, D}, "[L, Dh, D]", false, &dt);
  ArrayView w2e = a.array("w2e", {L, D, Dh}, "[L, D, Dh]", false, &dt);
  ArrayView agg = a.array("agg", {L}, "[L]", !d.independent, &dt);
  ArrayView probe = a.array("probe", {L, B, T, D}, kLevSeq, true, &dt);
  ArrayView dy = a.array("dy", {B, T, D}, kSeq, false, &dt);
  ArrayView dx = a.array("dx", {B, T, D}, kSeq, false, &dt);
  ArrayView dw1 = a.array("dw1", {L, Dh, D}, "[L, Dh, D]", false, &dt);
  ArrayView dw2 = a.array("dw2", {L, D, Dh}, "[L, D, Dh]", false, &dt);
  ArrayView dagg = a.array("dagg", {L}, "[L]", !d.independent, &dt);
  ArrayView dprobe = a.array("dprobe", {L, B, T, D}, kLevSeq, true, &dt);
  a.done();
  auto run = [&](auto tag) {
    using F = decltype(tag);
    cms_backward<F>(d, ptr<F>(x), d.independent ? nullptr : ptr<F>(xs), ptr<F>(hs), ptr<F>(ss), ptr<F>(w1e), ptr<F>(w2e),
                    d.independent ? ptr<F>(agg) : nullptr, ptr<F>(probe), ptr<F>(dy), mut<F>(dx), mut<F>(dw1),
                    mut<F>(dw2), d.independent ? mut<F>(dagg) : nullptr, mut<F>(dprobe));
  };
  if (dt == DType::F32) run(float{});
  else run(double{});
  return info.Env().Undefined();
}

Napi::Value Observe(const Napi::CallbackInfo& info) {
  const char* op = "cmsObserve";
  expect_args(info, op, 2);
  Fields f(info, 1, op, "dims");
  const CmsDims d = read_dims(f);
  const int64_t B = d.batch, T = d.seq, D = d.d, Dh = d.hidden, L = d.levels;
  CmsSchedule s;
  s.nested = f.flag("nested");
  for (int64_t l = 0; l < L; ++l) {
    s.chunk.push_back(f.integer(at("chunkSize", l).c_str(), 1));
    s.pending.push_back(f.integer(at("pending", l).c_str(), 0));
    s.lr.push_back(f.finite(at("lr", l).c_str()));
    if (s.pending[l] >= s.chunk[l]) {
      throw_range(info.Env(), op, "dims." + at("pending", l) + " (" + std::to_string(s.pending[l]) +
                                      ") must be below dims." + at("chunkSize", l) + " (" +
                                      std::to_string(s.chunk[l]) + ")");
    }
  }
  f.done();
  Fields a(info, 0, op, "arrays");
  DType dt = DType::Other;
  ArrayView x = a.array("x", {B, T, D}, kSeq, !d.independent, &dt);
  ArrayView xs = a.array("xs", {L, B, T, D}, kLevSeq, d.independent, &dt);
  ArrayView hs = a.array("hs", {L, B, T, Dh}, kLevHid, false, &dt);
  ArrayView ss = a.array("ss", {L, B, T, Dh}, kLevHid, false, &dt);
  ArrayView w2e = a.array("w2e", {L, D, Dh}, "[L, D, Dh]", false, &dt);
  ArrayView err = a.array("err", {L, B, T, D}, kLevSeq, false, &dt);
  ArrayView inc1 = a.array("inc1", {L, Dh, D}, "[L, Dh, D]", true, &dt);
  ArrayView inc2 = a.array("inc2", {L, D, Dh}, "[L, D, Dh]", true, &dt);
  if ((inc1.data == nullptr) != (inc2.data == nullptr)) throw_type(info.Env(), op, "arrays.inc1 and arrays.inc2 go together");
  auto d1 = level_arrays(a, "d1", {Dh, D}, kW1, L, &dt);
  auto d2 = level_arrays(a, "d2", {D, Dh}, kW2, L, &dt);
  auto g1 = level_arrays(a, "g1", {Dh, D}, kW1, L, &dt);
  auto g2 = level_arrays(a, "g2", {D, Dh}, kW2, L, &dt);
  auto d1o = level_arrays(a, "d1Out", {Dh, D}, kW1, L, &dt);
  auto d2o = level_arrays(a, "d2Out", {D, Dh}, kW2, L, &dt);
  auto g1o = level_arrays(a, "g1Out", {Dh, D}, kW1, L, &dt);
  auto g2o = level_arrays(a, "g2Out", {D, Dh}, kW2, L, &dt);
  a.done();
  const size_t bytes = static_cast<size_t>(Dh * D) * (dt == DType::F32 ? 4 : 8);
  for (int64_t l = 0; l < L; ++l) {  // the kernel updates the outputs in place
    std::memmove(d1o[l].data, d1[l].data, bytes);
    std::memmove(d2o[l].data, d2[l].data, bytes);
    std::memmove(g1o[l].data, g1[l].data, bytes);
    std::memmove(g2o[l].data, g2[l].data, bytes);
  }
  auto run = [&](auto tag) {
    using F = decltype(tag);
    cms_observe<F>(d, s, d.independent ? ptr<F>(x) : nullptr, d.independent ? nullptr : ptr<F>(xs), ptr<F>(hs),
                   ptr<F>(ss), ptr<F>(w2e), ptr<F>(err), mptrs<F>(d1o).data(), mptrs<F>(d2o).data(), mptrs<F>(g1o).data(),
                   mptrs<F>(g2o).data(), ptr<F>(inc1), ptr<F>(inc2));
  };
  if (dt == DType::F32) run(float{});
  else run(double{});
  return info.Env().Undefined();
}

}  // namespace

void register_memory_cms(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "cmsForward", Forward);
  export_fn(env, exports, "cmsBackward", Backward);
  export_fn(env, exports, "cmsObserve", Observe);
}

}  // namespace nl::binding

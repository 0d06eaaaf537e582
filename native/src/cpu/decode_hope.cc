// hope_block_decode (cpu/decode_hope.h): the fused batch-1 decode step of a HopeLM block. The
// projections and the CMS levels are row dots for a few rows, GEMMs (gemm_f32/f64) for more; the conv, the ℓ2
// norms and the self-modifying memories (decode_hope_selfmod.h) run token by token.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/decode_hope.h"
#include "cpu/decode_hope_selfmod.h"
#include "cpu/decode_parts.h"
#include "cpu/delta_rule_vec.h"
#include "cpu/nn_ops.h"

namespace nl {
namespace {

using decode_parts::silu;

// Rows up to which a projection is row dots on the calling thread (no packing, no pool hand-off:
// at batch 1 the GEMM's setup costs more than the product).
constexpr int64_t kDotRows = 4;

// Σ_c (w[c] + Δ[c]) x[c] with independent lane sums (vectorised like memvec::dot).
template <typename T>
T dot_sum(const T* w, const T* dl, const T* x, int64_t n) {
  constexpr int W = 16;
  T acc[W] = {};
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    for (int l = 0; l < W; ++l) acc[l] += (w[i + l] + dl[i + l]) * x[i + l];
  }
  T s = 0;
  for (; i < n; ++i) s += (w[i] + dl[i]) * x[i];
  for (int l = 0; l < W; ++l) s += acc[l];
  return s;
}

// y [n, out] (= or +=) x [n, in] · (W + Δ)^T, W and Δ [out, in] row-major (Δ null: zero); eff
// [out, in] scratch for W + Δ on the GEMM path.
template <typename T>
void linear(int64_t n, int64_t in, int64_t out, const T* x, const T* w, const T* dlt, T* y, bool accumulate,
            T* eff = nullptr) {
  if (n <= kDotRows) {
    for (int64_t t = 0; t < n; ++t) {
      const T* xt = x + t * in;
      T* yt = y + t * out;
      for (int64_t r = 0; r < out; ++r) {  // row dots: the rows' chains overlap out of order
        const T v = dlt ? dot_sum(w + r * in, dlt + r * in, xt, in) : memvec::dot(w + r * in, xt, in);
        yt[r] = accumulate ? yt[r] + v : v;
      }
    }
    return;
  }
  if (dlt) {
    for (int64_t i = 0; i < out * in; ++i) eff[i] = w[i] + dlt[i];
    w = eff;
  }
  decode_parts::linear(n, in, out, x, w, y, accumulate);
}

// y = z / (‖z‖ + 1e-6) over dd elements (hope-block.ts l2).
template <typename T>
void l2_unit(const T* z, int64_t dd, T* y) {
  T ss = 0;
  for (int64_t i = 0; i < dd; ++i) ss += z[i] * z[i];
  const T den = std::sqrt(ss) + T(1e-6);
  for (int64_t i = 0; i < dd; ++i) y[i] = z[i] / den;
}

// The CMS chain on m [n, D] into z [n, D]: z_{ℓ+1} = z_ℓ + W2e silu(W1e z_ℓ), We = W + Δ.
template <typename T>
void cms_read(const HopeDecodeDims& d, const HopeBlockWeights<T>& w, const T* m, T* z, T* hid, T* eff) {
  const int64_t n = d.tokens, D = d.d, Hc = d.cms_hidden;
  std::copy(m, m + n * D, z);
  for (int64_t l = 0; l < d.levels; ++l) {
    linear(n, D, Hc, z, w.cms_w1[l], w.cms_d1[l], hid, false, eff);
    for (int64_t i = 0; i < n * Hc; ++i) hid[i] = silu(hid[i]);
    linear(n, Hc, D, hid, w.cms_w2[l], w.cms_d2[l], z, true, eff);
  }
}

}  // namespace

template <typename T>
void hope_block_decode(const HopeDecodeDims& d, const HopeBlockWeights<T>& w, T* x, T* conv_cache, T* mems) {
  const int64_t n = d.tokens, D = d.d, H = d.heads, Dd = D / H, K = d.window, Hc = d.cms_hidden;
  thread_local std::vector<T> buf;
  thread_local std::vector<double> rstd;
  // h [n, D]; zin [K-1+n, D]; u, qr, o, g [n, D]; xs, qs [Dd]; z [n, D]; hid [n, Hc]; eff [Hc·D]
  buf.resize(static_cast<size_t>(n * D + (K - 1 + n) * D + 4 * n * D + 2 * Dd + n * D + n * Hc + Hc * D));
  rstd.resize(static_cast<size_t>(n * std::max<int64_t>(H, 1)));
  T* h = buf.data();
  T* zin = h + n * D;
  T* u = zin + (K - 1 + n) * D;
  T* qr = u + n * D;
  T* o = qr + n * D;
  T* g = o + n * D;
  T* xs = g + n * D;
  T* qs = xs + Dd;
  T* z = qs + Dd;
  T* hid = z + n * D;
  T* eff = hid + n * Hc;

  rms_norm_forward<T>(x, w.norm1, n, D, d.eps, h, rstd.data());
  std::copy(conv_cache, conv_cache + (K - 1) * D, zin);  // [cache; h]
  std::copy(h, h + n * D, zin + (K - 1) * D);
  decode_parts::causal_conv<T>(n, D, K, w.conv, w.conv_bias, zin, u, conv_cache);  // u = bias + conv
  linear<T>(n, D, D, u, w.wq, nullptr, qr, false);
  hope_decode_detail::HeadStep<T> step(d, mems);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t hh = 0; hh < H; ++hh) {
      const int64_t off = i * D + hh * Dd;
      l2_unit(u + off, Dd, xs);
      l2_unit(qr + off, Dd, qs);
      step.run(hh, d.position + i, xs, qs, o + off, d.refresh && i == 0);
    }
  }
  rms_norm_forward<T>(o, w.out_norm, n * H, Dd, d.eps, o, rstd.data());  // per-head norm, in place
  linear<T>(n, D, D, h, w.wg, nullptr, g, false);
  for (int64_t i = 0; i < n * D; ++i) g[i] = silu(g[i]) * o[i];
  linear<T>(n, D, D, g, w.wo, nullptr, x, true);  // x += gated W_o^T
  rms_norm_forward<T>(x, w.norm2, n, D, d.eps, h, rstd.data());           // m (in h)
  cms_read(d, w, h, z, hid, eff);
  for (int64_t i = 0; i < n * D; ++i) x[i] += z[i] - h[i];
}

#define NL_DECODE_HOPE_INSTANTIATE(T) \
  template void hope_block_decode<T>(const HopeDecodeDims&, const HopeBlockWeights<T>&, T*, T*, T*);
NL_DECODE_HOPE_INSTANTIATE(float)
NL_DECODE_HOPE_INSTANTIATE(double)
#undef NL_DECODE_HOPE_INSTANTIATE

}  // namespace nl

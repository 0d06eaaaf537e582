// hope_block_decode (cpu/decode_hope.h): the fused batch-1 decode step of a HopeLM block. The
// projections and the CMS levels are GEMMs over the step's n rows (gemm_f32/f64); the conv, the ℓ2
// norms and the self-modifying memories (decode_hope_selfmod.h) run token by token.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/decode_hope.h"
#include "cpu/decode_hope_selfmod.h"
#include "cpu/decode_parts.h"
#include "cpu/nn_ops.h"

namespace nl {
namespace {

using decode_parts::linear;
using decode_parts::silu;

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
  const int64_t n = d.tokens, D = d.d, Hc = d.cms_hidden, nw = Hc * D;
  std::copy(m, m + n * D, z);
  for (int64_t l = 0; l < d.levels; ++l) {
    const T* w1 = w.cms_w1[l];
    const T* w2 = w.cms_w2[l];
    if (w.cms_d1[l]) {
      for (int64_t i = 0; i < nw; ++i) eff[i] = w1[i] + w.cms_d1[l][i];
      w1 = eff;
    }
    linear(n, D, Hc, z, w1, hid, false);
    for (int64_t i = 0; i < n * Hc; ++i) hid[i] = silu(hid[i]);
    if (w.cms_d2[l]) {
      for (int64_t i = 0; i < nw; ++i) eff[i] = w2[i] + w.cms_d2[l][i];
      w2 = eff;
    }
    linear(n, Hc, D, hid, w2, z, true);
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
  for (int64_t i = 0; i < n; ++i) {  // u[i, c] = bias[c] + Σ_j conv[c, j] zin[i + j, c]
    for (int64_t c = 0; c < D; ++c) {
      T acc = w.conv_bias ? w.conv_bias[c] : T(0);
      for (int64_t j = 0; j < K; ++j) acc += w.conv[c * K + j] * zin[(i + j) * D + c];
      u[i * D + c] = acc;
    }
  }
  std::copy(zin + n * D, zin + (K - 1 + n) * D, conv_cache);  // the last K-1 rows
  linear(n, D, D, u, w.wq, qr, false);
  hope_decode_detail::HeadStep<T> step(d, mems);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t hh = 0; hh < H; ++hh) {
      const int64_t off = i * D + hh * Dd;
      l2_unit(u + off, Dd, xs);
      l2_unit(qr + off, Dd, qs);
      step.run(hh, d.position + i, xs, qs, o + off);
    }
  }
  rms_norm_forward<T>(o, w.out_norm, n * H, Dd, d.eps, o, rstd.data());  // per-head norm, in place
  linear(n, D, D, h, w.wg, g, false);
  for (int64_t i = 0; i < n * D; ++i) g[i] = silu(g[i]) * o[i];
  linear(n, D, D, g, w.wo, x, true);                                      // x += gated W_o^T
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

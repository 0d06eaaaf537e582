// deltanet_block_decode (cpu/decode.h): the fused batch-1 decode step of a gated-DeltaNet block.
// Projections are GEMMs with m = n tokens (gemm_f32/f64); the conv, gates, ℓ2 norms, the rank-1
// memory update per (token, head) and the output norm are plain loops over the step's rows.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/decode.h"
#include "cpu/decode_parts.h"

namespace nl {
namespace {

using decode_parts::l2_scale;
using decode_parts::linear;
using decode_parts::silu;

}  // namespace

template <typename T>
void deltanet_block_decode(const DeltaDecodeDims& d, const DeltaBlockWeights<T>& w, T* x, T* conv_cache, T* memory) {
  const int64_t n = d.tokens, D = d.d, H = d.heads, Dh = D / H, F = d.hidden, K = d.window, C = 3 * D;
  thread_local std::vector<T> buf;
  thread_local std::vector<double> rstd;
  // h [n, D]; zin [K-1+n, 3D]; c [n, 3D]; ab [n, 2H]; o, g [n, D]; mk [Dh]; f1, f2 [n, F]
  buf.resize(static_cast<size_t>(n * D + (K - 1 + n) * C + n * C + 2 * n * H + 2 * n * D + Dh + 2 * n * F));
  rstd.resize(static_cast<size_t>(n * std::max<int64_t>(H, 1)));
  T* h = buf.data();
  T* zin = h + n * D;
  T* c = zin + (K - 1 + n) * C;
  T* ab = c + n * C;
  T* o = ab + 2 * n * H;
  T* g = o + n * D;
  T* mk = g + n * D;
  T* f1 = mk + Dh;
  T* f2 = f1 + n * F;

  rms_norm_forward<T>(x, w.norm1, n, D, d.eps, h, rstd.data());
  std::copy(conv_cache, conv_cache + (K - 1) * C, zin);  // [cache; z]
  linear(n, D, C, h, w.w_qkv, zin + (K - 1) * C, false);
  decode_parts::causal_conv<T>(n, C, K, w.conv, nullptr, zin, c, conv_cache);  // c = SiLU(conv)
  for (int64_t i = 0; i < n * C; ++i) c[i] = silu(c[i]);
  linear(n, D, H, h, w.w_alpha, ab, false);                    // [n, H] pre-gates
  linear(n, D, H, h, w.w_beta, ab + n * H, false);
  const double qscale = 1.0 / std::sqrt(static_cast<double>(Dh));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t hh = 0; hh < H; ++hh) {
      T* q = c + i * C + hh * Dh;
      T* k = q + D;
      const T* v = k + D;
      l2_scale(q, Dh, qscale);
      l2_scale(k, Dh, 1.0);
      const T za = ab[i * H + hh] + w.dt_bias[hh];
      const T sp = za > T(20) ? za : std::log1p(std::exp(za));
      const T alpha = std::exp(-(sp * std::exp(w.a_log[hh])));
      const T beta = T(1) / (T(1) + std::exp(-ab[n * H + i * H + hh]));
      T* M = memory + hh * Dh * Dh;  // [Dv, Dk]
      for (int64_t r = 0; r < Dh; ++r) {
        T acc = 0;
        for (int64_t e = 0; e < Dh; ++e) acc += M[r * Dh + e] * k[e];
        mk[r] = acc;
      }
      T* oi = o + i * D + hh * Dh;
      for (int64_t r = 0; r < Dh; ++r) {  // M ← α M + (β v − αβ M k) kᵀ;  o = M q
        const T u = beta * v[r] - alpha * beta * mk[r];
        T* row = M + r * Dh;
        T acc = 0;
        for (int64_t e = 0; e < Dh; ++e) {
          row[e] = alpha * row[e] + u * k[e];
          acc += row[e] * q[e];
        }
        oi[r] = acc;
      }
    }
  }
  decode_parts::gated_out_swiglu(n, D, H, F, d.eps, w.out_norm, w.w_gate_out, w.w_out, w.norm2, w.w_gate, w.w_up,
                                 w.w_down, [](T v) { return silu(v); }, o, h, g, x, f1, f2, rstd.data());
}

#define NL_DECODE_DELTA_INSTANTIATE(T) \
  template void deltanet_block_decode<T>(const DeltaDecodeDims&, const DeltaBlockWeights<T>&, T*, T*, T*);
NL_DECODE_DELTA_INSTANTIATE(float)
NL_DECODE_DELTA_INSTANTIATE(double)
#undef NL_DECODE_DELTA_INSTANTIATE

}  // namespace nl

// attention_block_decode and head_decode (cpu/decode.h): the fused batch-1 decode step of a
// Transformer++ block. Projections are GEMMs with m = n tokens (gemm_f32/f64's matrix-vector path
// at n = 1), and so are q K^T and p V per (token, head); RoPE, the cache append, the softmax and
// SwiGLU are plain loops over the few rows of the step. Scratch is per thread and only grows.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/decode.h"
#include "cpu/decode_parts.h"

namespace nl {
namespace {

using decode_parts::gemm_t;
using decode_parts::linear;

// Per-thread scratch per (dtype, slot): slots keep one buffer from moving while another grows.
template <typename T, int Slot>
T* scratch(size_t n) {
  thread_local std::vector<T> s;
  if (s.size() < n) s.resize(n);
  return s.data();
}

// Rotates the n rows of q and k [n, H, Dh] in place; row i is at position pos + i.
template <typename T>
void rope(T* q, T* k, int64_t n, int64_t heads, int64_t dh, int64_t pos, double base) {
  const int64_t half = dh / 2;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < half; ++j) {
      // float64 angles, as the reference's tables (models/rope.ts)
      const double angle = static_cast<double>(pos + i) * std::pow(base, (-2.0 * static_cast<double>(j)) / dh);
      const T c = static_cast<T>(std::cos(angle)), s = static_cast<T>(std::sin(angle));
      for (T* x : {q, k}) {
        for (int64_t h = 0; h < heads; ++h) {
          T* r = x + (i * heads + h) * dh;
          const T x1 = r[j], x2 = r[j + half];
          r[j] = x1 * c - x2 * s;
          r[j + half] = x2 * c + x1 * s;
        }
      }
    }
  }
}

// out_i [H, Dh] = causal attention of q_i over cache rows [0, pos + i] (cache [H, capacity, Dh]):
// per (token, head) two matrix-vector GEMMs, scores = q K^T and out = softmax(scores) V.
template <typename T>
void attend(const AttnDecodeDims& d, const T* q, const T* kc, const T* vc, T* out) {
  const int64_t H = d.heads, Dh = d.d / d.heads, S = d.position + d.tokens;
  const T scale = static_cast<T>(1.0 / std::sqrt(static_cast<double>(Dh)));
  T* scores = scratch<T, 1>(static_cast<size_t>(S));
  for (int64_t i = 0; i < d.tokens; ++i) {
    const int64_t len = d.position + i + 1;  // keys this query sees
    for (int64_t h = 0; h < H; ++h) {
      const T* qi = q + (i * H + h) * Dh;
      const T* kh = kc + h * d.capacity * Dh;  // [len, Dh] rows of head h
      const T* vh = vc + h * d.capacity * Dh;
      GemmArgs g;  // scores [1, len] = q_i [1, Dh] · K_h^T
      g.trans_b = true;
      g.m = 1;
      g.n = len;
      g.k = Dh;
      g.lda = Dh;
      g.ldb = Dh;
      g.ldc = len;
      gemm_t(g, T(0), qi, kh, scores);
      T mx = -INFINITY;
      for (int64_t s = 0; s < len; ++s) mx = std::max(mx, scores[s] *= scale);
      T sum = 0;
      for (int64_t s = 0; s < len; ++s) sum += (scores[s] = std::exp(scores[s] - mx));
      const T inv = T(1) / sum;
      for (int64_t s = 0; s < len; ++s) scores[s] *= inv;
      GemmArgs p;  // out [1, Dh] = p [1, len] · V_h [len, Dh]
      p.m = 1;
      p.n = Dh;
      p.k = len;
      p.lda = len;
      p.ldb = Dh;
      p.ldc = Dh;
      gemm_t(p, T(0), scores, vh, out + (i * H + h) * Dh);
    }
  }
}

}  // namespace

template <typename T>
void attention_block_decode(const AttnDecodeDims& d, const AttnBlockWeights<T>& w, T* x, T* k_cache, T* v_cache) {
  const int64_t n = d.tokens, D = d.d, H = d.heads, Dh = D / H, F = d.hidden;
  // scratch: h, q, k, v, a [n, D]; g, u [n, F]; rstd [n]
  T* h = scratch<T, 0>(static_cast<size_t>(5 * n * D + 2 * n * F));
  T *q = h + n * D, *k = q + n * D, *v = k + n * D, *a = v + n * D, *g = a + n * D, *u = g + n * F;
  thread_local std::vector<double> rstd;
  rstd.resize(static_cast<size_t>(n));

  rms_norm_forward<T>(x, w.norm1, n, D, d.eps, h, rstd.data());  // h [n, D]
  linear(n, D, D, h, w.wq, q, false);                             // [n, H, Dh]
  linear(n, D, D, h, w.wk, k, false);
  linear(n, D, D, h, w.wv, v, false);
  rope(q, k, n, H, Dh, d.position, d.rope_base);
  for (int64_t i = 0; i < n; ++i) {  // append: cache[h, pos + i] ← k_i[h], v_i[h]
    for (int64_t hh = 0; hh < H; ++hh) {
      const int64_t row = (hh * d.capacity + d.position + i) * Dh;
      std::copy(k + (i * H + hh) * Dh, k + (i * H + hh + 1) * Dh, k_cache + row);
      std::copy(v + (i * H + hh) * Dh, v + (i * H + hh + 1) * Dh, v_cache + row);
    }
  }
  attend(d, q, k_cache, v_cache, a);    // a [n, H, Dh] = [n, D]
  linear(n, D, D, a, w.wo, x, true);    // x += a W_o^T
  decode_parts::swiglu_residual(n, D, F, d.eps, w.norm2, w.w_gate, w.w_up, w.w_down, x, h, g, u, rstd.data());
}

template <typename T>
void head_decode(int64_t n, int64_t d, int64_t vocab, double eps, const T* x, const T* norm, const T* head,
                 T* logits) {
  T* h = scratch<T, 0>(static_cast<size_t>(n * d));
  thread_local std::vector<double> rstd;
  rstd.resize(static_cast<size_t>(n));
  rms_norm_forward<T>(x, norm, n, d, eps, h, rstd.data());
  linear(n, d, vocab, h, head, logits, false);
}

#define NL_DECODE_INSTANTIATE(T)                                                                            \
  template void attention_block_decode<T>(const AttnDecodeDims&, const AttnBlockWeights<T>&, T*, T*, T*); \
  template void head_decode<T>(int64_t, int64_t, int64_t, double, const T*, const T*, const T*, T*);
NL_DECODE_INSTANTIATE(float)
NL_DECODE_INSTANTIATE(double)
#undef NL_DECODE_INSTANTIATE

}  // namespace nl

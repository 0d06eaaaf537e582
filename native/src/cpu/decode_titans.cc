// titans_block_decode (cpu/decode_titans.h): the fused batch-1 decode step of a TitansLM block.
// Projections are GEMMs with m = n tokens (decode_parts.h); the conv, gates, ℓ2 norms, the memory
// MLP's one-token step per (token, head) — three passes over the anchors and the weights, each
// row touched once — and the output norm are plain loops over the step's rows.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/decode_parts.h"
#include "cpu/decode_titans.h"
#include "cpu/decode_vec.h"

namespace nl {
namespace {

using decode_parts::l2_scale;
using decode_parts::linear;
using decode_vec::sigmoid;
using decode_vec::silu;

// Σ a[j] b[j] over n elements with 8 partial sums (a strict-order reduction would not vectorise).
template <typename T>
inline T dot(const T* a, const T* b, int64_t n) {
  T part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int u = 0; u < 8; ++u) part[u] += a[j + u] * b[j + u];
  for (; j < n; ++j) part[0] += a[j] * b[j];
  return ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7]));
}

// Per-head scratch of the memory step: act, ds, ga, z [M]; e [Dh].
template <typename T>
struct MemScratch {
  T *act, *ds, *ga, *z, *e;
};

// One token's write and read of one head's memory (see the header): q, k, v [Dh] → o [Dh].
template <typename T>
void memory_token(int64_t Dh, int64_t M, T theta, T eta, T keep, const T* q, const T* k, const T* v, T* w1, T* w2,
                  T* s1, T* s2, const T* a1, const T* a2, const MemScratch<T>& s, T* o) {
  for (int64_t m = 0; m < M; ++m) s.act[m] = dot(a2 + m * Dh, k, Dh);  // p = A2 k
  for (int64_t m = 0; m < M; ++m) {                                      // σ(p), σ'(p)
    const T p = s.act[m];
    const T sg = sigmoid(p);
    s.act[m] = p * sg;
    s.ds[m] = sg * (T(1) + p * (T(1) - sg));
    s.ga[m] = 0;
  }
  for (int64_t r = 0; r < Dh; ++r) {  // e = k + A1 σ(p) − v;  ga = A1ᵀ e
    const T* row = a1 + r * M;
    const T er = k[r] + dot(row, s.act, M) - v[r];
    s.e[r] = er;
    for (int64_t m = 0; m < M; ++m) s.ga[m] += row[m] * er;
  }
  for (int64_t m = 0; m < M; ++m) {  // S2 ← η S2 − θ g kᵀ;  W2 ← keep W2 + S2;  z = σ(W2 q)
    const T gm = s.ga[m] * s.ds[m];
    T* rs = s2 + m * Dh;
    T* rw = w2 + m * Dh;
    for (int64_t j = 0; j < Dh; ++j) {
      const T sn = eta * rs[j] - theta * (gm * k[j]);
      rs[j] = sn;
      rw[j] = keep * rw[j] + sn;
    }
    s.z[m] = dot(rw, q, Dh);
  }
  for (int64_t m = 0; m < M; ++m) s.z[m] = silu(s.z[m]);
  for (int64_t r = 0; r < Dh; ++r) {  // S1 ← η S1 − θ e σ(p)ᵀ;  W1 ← keep W1 + S1;  o = q + W1 z
    const T er = s.e[r];
    T* rs = s1 + r * M;
    T* rw = w1 + r * M;
    for (int64_t m = 0; m < M; ++m) {
      const T sn = eta * rs[m] - theta * (er * s.act[m]);
      rs[m] = sn;
      rw[m] = keep * rw[m] + sn;
    }
    o[r] = q[r] + dot(rw, s.z, M);
  }
}

}  // namespace

template <typename T>
void titans_block_decode(const TitansDecodeDims& d, const TitansBlockWeights<T>& w, T* x, T* conv_cache,
                         const TitansMemoryState<T>& mem) {
  const int64_t n = d.tokens, D = d.d, H = d.heads, Dh = D / H, F = d.hidden, K = d.window, C = 3 * D;
  const int64_t M = d.memory_hidden, per_head = Dh * M;
  thread_local std::vector<T> buf;
  thread_local std::vector<double> rstd;
  // h [n, D]; zin [K-1+n, 3D]; c [n, 3D]; gates [3, n, H]; o, g [n, D]; act, ds, ga, z [M]; e [Dh];
  // f1, f2 [n, F]
  buf.resize(static_cast<size_t>(n * D + (K - 1 + n) * C + n * C + 3 * n * H + 2 * n * D + 4 * M + Dh + 2 * n * F));
  rstd.resize(static_cast<size_t>(n * H));
  T* h = buf.data();
  T* zin = h + n * D;
  T* c = zin + (K - 1 + n) * C;
  T* gates = c + n * C;
  T* o = gates + 3 * n * H;
  T* g = o + n * D;
  const MemScratch<T> ms{g + n * D, g + n * D + M, g + n * D + 2 * M, g + n * D + 3 * M, g + n * D + 4 * M};
  T* f1 = ms.e + Dh;
  T* f2 = f1 + n * F;

  rms_norm_forward<T>(x, w.norm1, n, D, d.eps, h, rstd.data());
  std::copy(conv_cache, conv_cache + (K - 1) * C, zin);  // [cache; z]
  linear(n, D, C, h, w.w_qkv, zin + (K - 1) * C, false);
  decode_parts::causal_conv<T>(n, C, K, w.conv, nullptr, zin, c, conv_cache);  // c = SiLU(conv)
  for (int64_t i = 0; i < n * C; ++i) c[i] = silu(c[i]);
  const T* gw[3] = {w.w_theta, w.w_eta, w.w_alpha};
  const T* gb[3] = {w.b_theta, w.b_eta, w.b_alpha};
  const T gmax[3] = {static_cast<T>(d.theta_max), static_cast<T>(d.eta_max), static_cast<T>(d.alpha_max)};
  for (int gi = 0; gi < 3; ++gi) {  // gates [gi, n, H] = max · sigmoid(h W^T + b)
    T* gt = gates + gi * n * H;
    linear(n, D, H, h, gw[gi], gt, false);
    for (int64_t i = 0; i < n * H; ++i) gt[i] = gmax[gi] * sigmoid(gt[i] + gb[gi][i % H]);
  }
  const int64_t state = H * per_head;
  for (int64_t i = 0; i < n; ++i) {
    if ((d.position + i) % d.chunk == 0) {  // chunk start: the anchors take the current weights
      std::copy(mem.w1, mem.w1 + state, mem.a1);
      std::copy(mem.w2, mem.w2 + state, mem.a2);
    }
    for (int64_t hh = 0; hh < H; ++hh) {
      T* q = c + i * C + hh * Dh;
      T* k = q + D;
      const T* v = k + D;
      l2_scale(q, Dh, 1.0);
      l2_scale(k, Dh, 1.0);
      const T theta = gates[i * H + hh], eta = gates[n * H + i * H + hh];
      const T keep = T(1) - gates[2 * n * H + i * H + hh];
      const int64_t at = hh * per_head;
      memory_token(Dh, M, theta, eta, keep, q, k, v, mem.w1 + at, mem.w2 + at, mem.s1 + at, mem.s2 + at,
                   mem.a1 + at, mem.a2 + at, ms, o + i * D + hh * Dh);
    }
  }
  decode_parts::gated_out_swiglu(n, D, H, F, d.eps, w.out_norm, w.w_gate_out, w.w_out, w.norm2, w.w_gate, w.w_up,
                                 w.w_down, [](T v) { return silu(v); }, o, h, g, x, f1, f2, rstd.data());
}

#define NL_DECODE_TITANS_INSTANTIATE(T)                                                                \
  template void titans_block_decode<T>(const TitansDecodeDims&, const TitansBlockWeights<T>&, T*, T*, \
                                       const TitansMemoryState<T>&);
NL_DECODE_TITANS_INSTANTIATE(float)
NL_DECODE_TITANS_INSTANTIATE(double)
#undef NL_DECODE_TITANS_INSTANTIATE

}  // namespace nl

// Titans MLP memory (2-layer residual, SiLU), mini-batch chunks: fused CPU forward and backward.
//
// Per (batch, head): M(x) = x + W1 silu(W2 x), W1 [D, Dh], W2 [Dh, D] (row-major), momenta S1, S2.
// Inner gradients of 1/2 |M(k) - v|^2 at the chunk-start weights W' (t' = chunk start):
//   p = W2' k, a = silu(p), e = k + W1' a - v, c = W1'^T e, g = c * silu'(p)
//   S1 <- eta S1 - theta e a^T,  S2 <- eta S2 - theta g k^T,  W_l <- (1 - alpha) W_l + S_l
//   o = q + W1 silu(W2 q) with the weights after (read_after) or before the token's write.
// Layouts: q, k, v, o [B, T, H, D]; gates [B, T, H]; W1, S1 [B, H, D, Dh]; W2, S2 [B, H, Dh, D].
// Forward (titans_mlp_chunk.cc): chunk (dual) form, batched products, per-token weights never formed.
// Backward (titans_mlp_backward.cc): the four matrices are recomputed at chunk boundaries, then each
// chunk is reversed in the same dual form (incl. silu'' through g). Threaded over (batch, head).
#pragma once
#include <cstdint>

namespace nl {

struct TitansMlpDims {
  int64_t batch = 0, seq = 0, heads = 0, d = 0, hidden = 0, chunk = 64;
  bool read_after = true;
};

// s1, s2 may be null (zeros). Writes o and the final w1, w2, s1, s2.
template <typename F>
void titans_mlp_forward(const TitansMlpDims& d, const F* q, const F* k, const F* v, const F* theta, const F* eta,
                        const F* alpha, const F* w1, const F* w2, const F* s1, const F* s2, F* o, F* w1_out,
                        F* w2_out, F* s1_out, F* s2_out);

// s1, s2 and the final-state gradients d_w1.. may be null (zeros). Overwrites every gradient.
template <typename F>
void titans_mlp_backward(const TitansMlpDims& d, const F* q, const F* k, const F* v, const F* theta, const F* eta,
                         const F* alpha, const F* w1, const F* w2, const F* s1, const F* s2, const F* d_o,
                         const F* d_w1, const F* d_w2, const F* d_s1, const F* d_s2, F* dq, F* dk, F* dv,
                         F* dtheta, F* deta, F* dalpha, F* dw1, F* dw2, F* ds1, F* ds2);

namespace titans_mlp_detail {
// One chunk [t0, t0+L) of (b, h) in dual form, states only (W1, W2, S1, S2 updated in place).
template <typename F>
void chunk_step(const TitansMlpDims& d, int64_t b, int64_t h, int64_t t0, int64_t L, const F* q, const F* k,
                const F* v, const F* theta, const F* eta, const F* alpha, F* W1, F* W2, F* S1, F* S2);
}  // namespace titans_mlp_detail

}  // namespace nl

// The fused batch-1 decode step of a TitansLM block (packages/hope/src/models/titans-lm.ts), the
// sibling of deltanet_block_decode in cpu/decode.h. The plain references are TitansBlock's
// tensor-op `stream` path (TitansMemory's loop, packages/memory/src/modules/titans.ts) and the
// one-token ONNX step graph (packages/hope/src/export/onnx-titans.ts); the tests in
// packages/hope/test/decode-fused-titans*.test.ts diff every logit against them and `forward`.
//
//   titans_block_decode: one block over n new tokens at positions pos..pos+n-1, continuing the conv
//     cache [K-1, 3D] and per head the memory MLP M(x) = x + W1 σ(W2 x) (σ = SiLU) with momenta
//     S1, S2 and chunk-start anchors A1, A2 (W1, S1, A1 [H, Dh, M]; W2, S2, A2 [H, M, Dh]):
//       h = RMSNorm1(x);  z = h W_qkv^T [n, 3D];  c = SiLU(causal depthwise conv_K([cache; z]))
//       q, k, v = c split in three, per head;  q ← ℓ2(q),  k ← ℓ2(k)               (ℓ2 eps 1e-6)
//       θ, η, α = max_{θ,η,α} · sigmoid(h W_{θ,η,α}^T + b_{θ,η,α})                          [n, H]
//       per token t (position pos+t) and head:
//         if (pos+t) % C == 0:  A1 ← W1,  A2 ← W2         (every inner gradient of a chunk is
//                                                          taken at the chunk-start weights)
//         p = A2 k,  e = k + A1 σ(p) − v,  g = (A1ᵀ e) ⊙ σ'(p),  σ'(p) = s (1 + p (1 − s)), s = sigmoid(p)
//         S1 ← η S1 − θ e σ(p)ᵀ,  S2 ← η S2 − θ g kᵀ;   W ← (1 − α) W + S  (both layers)
//         o = q + W1 σ(W2 q)                               (read after the write)
//       x ← x + (RMSNorm_head(o) ⊙ SiLU(h W_g^T)) W_o^T;  x ← x + SwiGLU(RMSNorm2(x))
#pragma once
#include <cstdint>

namespace nl {

struct TitansDecodeDims {
  int64_t tokens = 1, d = 0, heads = 1, hidden = 0;
  int64_t memory_hidden = 0;  // M, the memory MLP's hidden width per head
  int64_t window = 4;         // conv window K (the cache holds K-1 rows)
  int64_t chunk = 16;         // memory mini-batch chunk size C
  int64_t position = 0;       // tokens consumed so far (chunk phase of the first new token)
  double eps = 1e-6;          // RMSNorm epsilon (block norms and the per-head output norm)
  double theta_max = 0.1, eta_max = 0.9, alpha_max = 0.1;
};

template <typename T>
struct TitansBlockWeights {
  const T *norm1, *w_qkv, *conv, *w_theta, *b_theta, *w_eta, *b_eta, *w_alpha, *b_alpha, *out_norm, *w_gate_out,
      *w_out, *norm2, *w_gate, *w_up, *w_down;
};

template <typename T>
struct TitansMemoryState {
  T *w1, *w2, *s1, *s2, *a1, *a2;
};

// Runs x [n, D] through the block; updates conv_cache [K-1, 3D] and the memory state in place.
// Weights: w_qkv [3D, D], conv [3D, K], w_theta/eta/alpha [H, D], b_* [H], out_norm [Dh],
// w_gate_out, w_out [D, D], MLP as attention_block_decode (cpu/decode.h).
template <typename T>
void titans_block_decode(const TitansDecodeDims& d, const TitansBlockWeights<T>& w, T* x, T* conv_cache,
                         const TitansMemoryState<T>& m);

}  // namespace nl

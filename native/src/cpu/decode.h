// Fused batch-1 decode steps (the streaming decoders of @nl/hope's block LMs): a whole residual
// block per call, so a token costs a few native calls instead of dozens of tensor ops. The plain
// references are the models' tensor-op `stream` paths (packages/hope/src/models/*.ts); the tests in
// packages/hope/test/decode-fused*.test.ts diff every logit against them and against `forward`.
//
//   attention_block_decode: one pre-norm Transformer++ block over n new tokens at positions
//     pos..pos+n-1, continuing a KV cache (packages/hope/src/models/transformer.ts):
//       h = RMSNorm1(x);  q, k, v = h W_q^T, h W_k^T, h W_v^T  split into H heads of Dh
//       q, k ← RoPE(q, k) at their positions (rotate-half, ω_i = base^(-2i/Dh))
//       K[:, pos+i] ← k_i,  V[:, pos+i] ← v_i                       (cache [H, capacity, Dh])
//       a_i = softmax(q_i K[:, :pos+i+1]^T / √Dh) V[:, :pos+i+1]     (causal over the cache)
//       x ← x + a W_o^T;   x ← x + (silu(g) ⊙ u) W_down^T,  g, u = RMSNorm2(x) W_gate^T, W_up^T
//   head_decode: logits = RMSNorm(x) W_head^T                      (the final norm + LM head)
//   deltanet_block_decode: one gated-DeltaNet block (packages/hope/src/models/deltanet.ts) over
//     n new tokens, continuing the conv cache [K-1, 3D] and the memory M [H, Dh, Dh] (M = S^T):
//       h = RMSNorm1(x);  z = h W_qkv^T [n, 3D];  c = SiLU(causal depthwise conv_K([cache; z]))
//       q, k, v = c split in three, per head;  q ← ℓ2(q)/√Dh,  k ← ℓ2(k)     (ℓ2 eps 1e-6)
//       β = sigmoid(h W_β^T),  α = exp(−exp(A_log) · softplus(h W_α^T + dt_bias))       [n, H]
//       per token: M ← α (M − β (M k) kᵀ) + β v kᵀ,  o = M q
//       x ← x + (RMSNorm_head(o) ⊙ SiLU(h W_g^T)) W_o^T;  x ← x + SwiGLU(RMSNorm2(x)) (as above)
//
// Shapes: x [n, D] (updated in place); W_q.. W_o [D, D]; W_gate, W_up [Dh_mlp, D]; W_down
// [D, Dh_mlp]; norms [D]; W_head [V, D]; logits [n, V]. Projections use gemm_f32/gemm_f64.
#pragma once
#include <cstdint>

namespace nl {

struct AttnDecodeDims {
  int64_t tokens = 1;    // n new tokens
  int64_t d = 0;         // model width D
  int64_t heads = 1;     // H (D = H · Dh)
  int64_t hidden = 0;    // SwiGLU width
  int64_t position = 0;  // tokens already in the cache
  int64_t capacity = 0;  // cache rows per head (>= position + tokens)
  double eps = 1e-6;     // RMSNorm epsilon
  double rope_base = 10000;
};

template <typename T>
struct AttnBlockWeights {
  const T *norm1, *wq, *wk, *wv, *wo, *norm2, *w_gate, *w_up, *w_down;
};

// Runs x [n, D] through the block; appends the n keys/values to k_cache, v_cache [H, capacity, Dh].
template <typename T>
void attention_block_decode(const AttnDecodeDims& d, const AttnBlockWeights<T>& w, T* x, T* k_cache, T* v_cache);

struct DeltaDecodeDims {
  int64_t tokens = 1, d = 0, heads = 1, hidden = 0;
  int64_t window = 4;  // conv window K (the cache holds K-1 rows)
  double eps = 1e-6;   // RMSNorm epsilon (block norms and the per-head output norm)
};

template <typename T>
struct DeltaBlockWeights {
  const T *norm1, *w_qkv, *conv, *w_alpha, *w_beta, *a_log, *dt_bias, *out_norm, *w_gate_out, *w_out, *norm2, *w_gate,
      *w_up, *w_down;
};

// Runs x [n, D] through the block; updates conv_cache [K-1, 3D] and memory [H, Dh, Dh] in place.
// Weights: w_qkv [3D, D], conv [3D, K], w_alpha, w_beta [H, D], a_log, dt_bias [H], out_norm [Dh],
// w_gate_out, w_out [D, D], MLP as attention_block_decode.
template <typename T>
void deltanet_block_decode(const DeltaDecodeDims& d, const DeltaBlockWeights<T>& w, T* x, T* conv_cache, T* memory);

// logits [n, V] = RMSNorm(x [n, D]; norm, eps) · head^T (head [V, D]).
template <typename T>
void head_decode(int64_t n, int64_t d, int64_t vocab, double eps, const T* x, const T* norm, const T* head,
                 T* logits);

}  // namespace nl

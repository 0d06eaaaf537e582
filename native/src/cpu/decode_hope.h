// Fused batch-1 decode step of one HopeLM block (packages/hope/src/models/hope-block.ts is the plain
// reference; packages/hope/test/decode-fused-hope.test.ts diffs every logit and the fast state
// against it and against HopeLM.forward). Plain decoding: the CMS is static (read with θ0 + Δ).
//
//   h  = RMSNorm1(x)                                          x [n, D] (updated in place)
//   u  = bias + causal depthwise conv_K([cache; h])           cache [K-1, D] (updated)
//   qr = u W_q^T;   per head:  xs = ℓ2(u),  qs = ℓ2(qr)       ℓ2(z) = z / (‖z‖ + 1e-6)
//   o  = SelfModifyingTitans one token at a time (below), per head [Dd]
//   x ← x + (SiLU(h W_g^T) ⊙ RMSNorm_head(o)) W_o^T
//   m  = RMSNorm2(x);  z_0 = m,  z_{ℓ+1} = z_ℓ + (W2_ℓ + Δ2_ℓ) SiLU((W1_ℓ + Δ1_ℓ) z_ℓ);  x ← x + (z_L − m)
//
// SelfModifyingTitans step at token position pos (packages/memory/src/modules/self-modifying.ts,
// impl 'loop'), per head, memories k, v, eta, alpha, mem (M(z) = z + W1 silu(W2 z), W1 [Dd, Dm],
// W2 [Dm, Dd]; A1, A2 the chunk-start snapshots, S1, S2 the momenta):
//   snapshots: A ← W of every memory whose chunk (chunk_mem for mem, chunk_other else) starts at pos
//   k = ℓ2(M_k,A(xs)),  v = M_v,A(xs),  α = σ(mean M_α,A(xs) + alpha_bias),  η = α σ(mean M_η,A(xs) + eta_bias)
//   per memory: p = A2 k, a = silu(p), e = k + A1 a − M_A(v), g = (A1^T e) ⊙ silu'(p),
//     S1 ← β S1 − η e a^T,  W1 ← α W1 + S1,  S2 ← β S2 − η g k^T,  W2 ← α W2 − η (W2 k) k^T + S2
//   o = qs + W1 silu(W2 qs) of mem after the write.
// `frozen`: no snapshots, no writes, o read from the current W of mem (SelfModifyingTitans.freeze).
// The memories live in one array in place: mems [5 memories][8 states][H][Dd·Dm], states w1, w2,
// s1, s2, a1, a2 (w1, s1, a1 per head [Dd, Dm]; w2, s2, a2 [Dm, Dd]: the tensors of SelfModSnapshot,
// batch 1) and the snapshots' transposes a1^T [Dm, Dd], a2^T [Dd, Dm], kept by the step (taken with
// each snapshot; `refresh` recomputes them first, e.g. after the caller wrote a1, a2).
#pragma once
#include <cstdint>
#include <vector>

namespace nl {

struct HopeDecodeDims {
  int64_t tokens = 1;       // n new tokens
  int64_t d = 0;            // model width D
  int64_t heads = 1;        // H (Dd = D / H)
  int64_t mem_hidden = 0;   // Dm, the memories' hidden width
  int64_t cms_hidden = 0;   // Hc, the CMS levels' hidden width
  int64_t levels = 0;       // CMS levels L
  int64_t window = 4;       // conv window K
  int64_t position = 0;     // the memories' token count before the first new token
  int64_t chunk_mem = 16, chunk_other = 8;
  double momentum = 0.9, alpha_bias = 4, eta_bias = -2;
  double eps = 1e-6;        // RMSNorm epsilon (norm1, the per-head out norm, norm2)
  double clip = 0;          // inner-gradient clip c (0: off): each write's (e a^T, g k^T) scaled to norm <= c
  bool frozen = false;
  bool refresh = false;     // recompute the snapshot transposes in mems before the first token
};

constexpr int64_t kHopeMemories = 5;  // k, v, eta, alpha, mem
constexpr int64_t kHopeStates = 6;    // w1, w2, s1, s2, a1, a2
constexpr int64_t kHopePacked = 8;    // + a1^T, a2^T

template <typename T>
struct HopeBlockWeights {
  const T *norm1, *conv, *conv_bias /* null: none */, *wq, *out_norm, *wg, *wo, *norm2;
  // per CMS level: w1 [Hc, D], w2 [D, Hc], their Δ (d1, d2; null = zero)
  std::vector<const T*> cms_w1, cms_d1, cms_w2, cms_d2;
};

// Runs x [n, D] through the block; updates conv_cache [K-1, D] and mems in place.
template <typename T>
void hope_block_decode(const HopeDecodeDims& d, const HopeBlockWeights<T>& w, T* x, T* conv_cache, T* mems);

}  // namespace nl

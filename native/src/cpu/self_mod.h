// SelfModifyingTitans (Hope's sequence memory, nested-learning.md §4): fused CPU forward and backward.
//
// Per (batch, head), memories m in order k, v, eta, alpha, mem (+ q with adaptive_q), each a residual
// MLP M(z) = z + W1 silu(W2 z), W1 [D, Dh], W2 [Dh, D], momenta S1, S2 and chunk-start snapshots
// A1, A2 (taken when the token position is a multiple of chunk_mem for mem, chunk_other otherwise).
// Per token (position pos = tokens + t), after the snapshots:
//   k = l2norm(M_k,A(x)), v = M_v,A(x), alpha = sigmoid(mean M_alpha,A(x) + alpha_bias),
//   eta = alpha sigmoid(mean M_eta,A(x) + eta_bias), q = M_q,A(x) (adaptive_q) or the given q;
//   per memory: p = A2 k, a = silu(p), e = k + A1 a - M_A(v), g = (A1^T e) . silu'(p),
//     S1 <- beta S1 - eta e a^T,  S2 <- beta S2 - eta g k^T,
//     W2 <- alpha W2 - eta (W2 k) k^T + S2,  W1 <- alpha W1 + S1;
//   o = q + W1 silu(W2 q) of mem after the write (A1, A2 with read_snapshot).
// Inner-gradient clip (dims.clip = c > 0): per token and memory, right after e and g come from the
// snapshot and before any use (momentum, W updates, the chunk-form corrections, mem's reads),
//   e <- s e, g <- s g,  s = c / max(n, c),  n^2 = |e|^2 |a|^2 + |g|^2 |k|^2
// (the pair (e a^T, g k^T) scaled to Frobenius norm <= c; packages/memory/src/modules/self-modifying-clip.ts).
// The backward goes through s (Worker::clip_back). c = 0 leaves every kernel as without it.
// Optional value input xv [B, T, H, D] (null: none): generator v reads xv instead of x (v = M_v,A(xv));
// its gradient goes to dxv, and x's gradient then has no share of generator v.
// Layouts: x, q, o [B, T, H, D]; states w1, s1, a1 [B, M, H, D, Dh]; w2, s2, a2 [B, M, H, Dh, D].
// Forward (self_mod_forward.cc): per segment (snapshots fixed) the snapshot-only quantities of every
// token and memory come from small GEMMs; then the W/S recurrence, either in chunk ("dual") form
// (dims.dual, the default: self_mod_dual.h, GEMMs per piece and a forward substitution for the
// delta-rule corrections; only piece-end states materialised) or token by token in cache.
// Backward (self_mod_backward.cc): states at block starts (every `block` tokens) are recomputed, then
// each block is recomputed and reversed by hand: per piece in chunk form with dims.dual
// (self_mod_dual_backward.h: GEMMs, a transposed substitution for the u_t adjoints, the decay
// coefficients reversed through alpha and eta), else token by token from per-token weights.
// Threaded over (b, h).
#pragma once
#include <cstdint>

namespace nl {

struct SelfModDims {
  int64_t batch = 0, seq = 0, heads = 0, d = 0, hidden = 0, mems = 5;
  int64_t tokens = 0;  // position of the call's first token
  int64_t chunk_mem = 16, chunk_other = 8, block = 32;  // block: see self_mod_auto_block
  double momentum = 0.9, alpha_bias = 4, eta_bias = -2;
  bool adaptive_q = false, read_snapshot = false;
  bool dual = true;  // forward and backward in chunk ("dual") form, else token by token; same results
  double clip = 0;   // inner-gradient clip c (0: off): see above
};

// Backward block when none is given: balances the block-start states ((T / block) of them, six
// matrices per memory) against one block of per-token weights (block x two matrices per memory):
// about sqrt(3 T), a multiple of 8, at least 16.
inline int64_t self_mod_auto_block(int64_t seq) {
  int64_t b = 16;
  while (b * b < 3 * seq) b += 8;
  return b;
}

// Index of each state array: w1, w2, s1, s2, a1, a2.
constexpr int kSelfModStates = 6;

// Elements of the block-start states the forward can keep for the backward (opaque layout):
// B H ceil(T / block) 6 M D Dh.
inline int64_t self_mod_ckpt_size(const SelfModDims& d) {
  return d.batch * d.heads * ((d.seq + d.block - 1) / d.block) * kSelfModStates * d.mems * d.d * d.hidden;
}

// Writes o and the final states (out[i] for state i); ckpt (null: not kept) receives the
// block-start states (self_mod_ckpt_size elements); xv: the value input (null: none).
template <typename F>
void self_mod_forward(const SelfModDims& d, const F* x, const F* q, const F* const* state, F* o, F* const* out,
                      F* ckpt = nullptr, const F* xv = nullptr);

// d_state[i] (gradients of the final states) may be null (zeros). Overwrites dx, dq and d_init[i]
// (gradients of the initial states). dq is zero with adaptive_q. ckpt: the forward's block-start
// states (same dims), or null to recompute them. With xv (the forward's value input) the backward
// overwrites dxv (required then) with its gradient.
template <typename F>
void self_mod_backward(const SelfModDims& d, const F* x, const F* q, const F* const* state, const F* d_o,
                       const F* const* d_state, F* dx, F* dq, F* const* d_init, const F* ckpt = nullptr,
                       const F* xv = nullptr, F* dxv = nullptr);

}  // namespace nl

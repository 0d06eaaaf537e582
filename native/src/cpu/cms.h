// Continuum Memory System (nested-learning.md §5, A11–A14): fused CPU forward, backward and
// error-signal update of a stack of residual MLP levels (packages/memory/src/modules/cms.ts is the
// plain reference; packages/memory/src/modules/cms-fused.ts registers these as `memory.cms`).
//
// Level ℓ (weights W1 = θ0₁ + Δ₁ [Dh, D], W2 = θ0₂ + Δ₂ [D, Dh], row-major), rows r of [B, T]:
//   h = x W1ᵀ [N, Dh],  a = silu(h),  y = x + a W2ᵀ (+ probe_ℓ, an all-zero marker whose gradient
//   is the error signal δ_ℓ = ∂L/∂y_ℓ)
// Chain variants ('sequential', 'nested'): x_0 = x, x_{ℓ+1} = y_ℓ, out = y_{L−1}.
// 'independent': every level reads x, out = Σ_ℓ agg_ℓ y_ℓ.
// Each level is two GEMMs with an elementwise epilogue (silu; residual + probe), the same
// algorithm a CUDA version runs with the epilogues fused into the GEMM tiles.
//
// Backward (first order, A11: Δ gets no gradient, θ0 gets the gradient of W), per level, g = ∂L/∂y_ℓ:
//   dW2 = gᵀ a,  gh = (g W2) ⊙ silu'(h),  dW1 = ghᵀ x_ℓ,  ∂L/∂x_ℓ = g + gh W1 (chain: the next g);
//   independent: g_ℓ = agg_ℓ ∂L/∂out, dagg_ℓ = ⟨y_ℓ, ∂L/∂out⟩ = ⟨x + probe_ℓ, ∂L/∂out⟩ + ⟨a, ∂L/∂out W2⟩.
//
// Observe (no gradient): with the weights and level inputs of the last forward and δ_ℓ [B, T, D],
//   G ← G + Σ_tokens [∇W1 = ghᵀ x, ∇W2 = δᵀ a] and, every C_ℓ tokens counted across calls
//   (`pending` tokens already accumulated), Δ ← Δ − η_ℓ G, G ← 0; 'nested': a level that fires
//   resets every level with a smaller C to Δ = 0. Events at one token position run in level order,
//   as in the reference. Each level's accumulation is one GEMM per run of tokens between its own
//   boundaries (over every batch row: the rows are gathered in run order when runs split sequences).
#pragma once
#include <cstdint>
#include <vector>

namespace nl {

struct CmsDims {
  int64_t batch = 0, seq = 0, d = 0, hidden = 0, levels = 0;
  bool independent = false;
};

// Per-level schedule of one observe call (host integers): chunk sizes, tokens pending, rates.
struct CmsSchedule {
  std::vector<int64_t> chunk, pending;
  std::vector<double> lr;
  bool nested = false;
};

// x [B, T, D]; w1[ℓ], d1[ℓ] [Dh, D]; w2[ℓ], d2[ℓ] [D, Dh]; agg [L] (independent only, else null);
// probe [L, B, T, D] or null. Writes y [B, T, D], xs [L, B, T, D] (level inputs; null for
// independent), hs [L, B, T, Dh] (pre-activations h), ss [L, B, T, Dh] (sigmoid(h): the backward and
// observe form silu and silu' from h and s without another exp), w1e [L, Dh, D], w2e [L, D, Dh] (θ0 + Δ).
template <typename F>
void cms_forward(const CmsDims& dm, const F* x, const F* const* w1, const F* const* d1, const F* const* w2,
                 const F* const* d2, const F* agg, const F* probe, F* y, F* xs, F* hs, F* ss, F* w1e, F* w2e);

// The forward's x, xs, hs, ss, w1e, w2e, agg, probe and dy [B, T, D]. Writes dx [B, T, D], dw1 [L, Dh, D],
// dw2 [L, D, Dh], dagg [L] (independent only, else null) and dprobe [L, B, T, D] (may be null).
template <typename F>
void cms_backward(const CmsDims& dm, const F* x, const F* xs, const F* hs, const F* ss, const F* w1e, const F* w2e,
                  const F* agg,
                  const F* probe, const F* dy, F* dx, F* dw1, F* dw2, F* dagg, F* dprobe);

// The forward's x (independent) or xs (chain), hs, ss, w2e; err [L, B, T, D]. d1/d2/g1/g2 [ℓ] are the
// level states, updated in place (callers pass fresh copies). Schedule as above. inc1 [L, Dh, D],
// inc2 [L, D, Dh] (may be null): the backward's weight gradients when err are exactly its error
// signals; a level with no fire inside the call then adds them to G instead of recomputing them.
template <typename F>
void cms_observe(const CmsDims& dm, const CmsSchedule& s, const F* x, const F* xs, const F* hs, const F* ss, const F* w2e,
                 const F* err, F* const* d1, F* const* d2, F* const* g1, F* const* g2, const F* inc1,
                 const F* inc2);

}  // namespace nl

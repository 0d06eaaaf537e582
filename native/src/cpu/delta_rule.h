// Gated delta rule (exact tiling), fused chunked CPU kernels.
//
//   S_t = a_t (I - b_t k_t k_t^T) S_{t-1} + b_t k_t v_t^T,   o_t = S_t^T q_t     (fla convention)
//   (with d.snapshot: v_t - a_t S_xi^T k_t in place of v_t, S_xi = state at the chunk start)
// Layouts (row-major): q, k [B, T, H, Dk]; v, o [B, T, H, Dv]; alpha, beta [B, T, H];
// states [B, H, Dk, Dv]. Gates are the decay a and write strength b themselves (not log a).
//
// Forward: per (batch, head), chunks of C tokens in the WY/UT form (delta_rule.cc); the output
// does not depend on C (exact tiling). Backward (delta_rule_backward.cc): chunk-boundary states are
// recomputed by the chunked forward, then each chunk is recomputed token by token from its
// boundary state and reversed; only one chunk of per-token states lives at a time.
// Both are threaded over (batch, head) with nl::parallel_for. Callers check sizes.
#pragma once
#include <cstdint>

namespace nl {

struct DeltaRuleDims {
  int64_t batch = 0, seq = 0, heads = 0, dk = 0, dv = 0, chunk = 64;
  // Snapshot correction (Hope's l2 rule at the chunk-start state, nested-learning.md §4.3): each
  // value becomes v_t - a_t S_xi^T k_t with S_xi the state at the start of t's chunk. The result
  // then depends on `chunk` (mini-batch semantics) instead of being an exact tiling.
  bool snapshot = false;
  // erase = false drops the delta rule's erase term: S_t = a_t S_{t-1} + b_t k_t v_t^T, i.e. gated
  // (decayed Hebbian) linear attention; a = b = 1 is plain linear attention. Exact tiling.
  bool erase = true;
};

// s0 may be null (zeros). o: [B, T, H, Dv], state_out: [B, H, Dk, Dv].
template <typename F>
void delta_rule_forward(const DeltaRuleDims& d, const F* q, const F* k, const F* v, const F* alpha, const F* beta,
                        const F* s0, F* o, F* state_out);

// s0 and d_state (dL/dS_T) may be null (zeros). Writes every gradient (overwrites).
template <typename F>
void delta_rule_backward(const DeltaRuleDims& d, const F* q, const F* k, const F* v, const F* alpha, const F* beta,
                         const F* s0, const F* d_o, const F* d_state, F* dq, F* dk, F* dv, F* dalpha, F* dbeta,
                         F* ds0);

namespace delta_rule_detail {
// Runs the chunked forward for one (batch b, head h) starting from S ([Dk, Dv], updated in place
// to S_T). When o is non-null the outputs are written; when boundary is non-null the state at the
// start of chunk n is written to boundary + n*Dk*Dv for every chunk n. scratch: see scratch_size.
template <typename F>
void forward_one(const DeltaRuleDims& d, int64_t b, int64_t h, const F* q, const F* k, const F* v, const F* alpha,
                 const F* beta, F* S, F* o, F* boundary, F* scratch);
// Elements of scratch forward_one needs.
int64_t scratch_size(const DeltaRuleDims& d);
}  // namespace delta_rule_detail

}  // namespace nl

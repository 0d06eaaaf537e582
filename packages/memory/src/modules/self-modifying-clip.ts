/**
 * Inner-gradient clipping of the self-modifying memories (SelfModifyingConfig.innerGradClip; issue
 * 16): each token's inner gradient of each memory, (∇W1, ∇W2) = (e aᵀ, g kᵀ), is scaled by
 *   s = c / max(‖(∇W1, ∇W2)‖_F, c),   ‖(∇W1, ∇W2)‖_F² = ‖e‖²‖a‖² + ‖g‖²‖k‖²
 * (both are outer products), so no token writes more than c. With η ≤ α ≤ 1 and ‖k‖ ≤ 1 the
 * preconditioned decay W2 (αI − η k kᵀ) and αW1 do not expand, so a memory's fast weights can grow
 * at most linearly in the tokens, ‖W_t‖_F ≤ ‖W_0‖_F + t · c / (1 − β), instead of exponentially.
 * Shared by the token loop and the chunked form; the outer gradient flows through s.
 */
import { add, div, maximum, mul, sqrt, sum, type Tensor } from '@nl/tensor';

/** Σ over the last dim, kept: [.., N] → [.., 1]. */
const sq = (t: Tensor): Tensor => sum(mul(t, t), -1, true);

/**
 * The factor s [.., 1] of each token's gradient: e [.., D], a [.., Dh], g [.., Dh], k [.., D]
 * (any shared leading dims). Squared norms are compared, so there is no √0 at a zero gradient.
 */
export function innerGradScale(e: Tensor, a: Tensor, g: Tensor, k: Tensor, clip: number): Tensor {
  const n2 = add(mul(sq(e), sq(a)), mul(sq(g), sq(k))); // [.., 1]
  return div(clip, sqrt(maximum(n2, clip * clip)));
}

/** Checks a config's `innerGradClip`: undefined / 0 (off) or a finite number > 0. */
export function checkInnerGradClip(where: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new Error(
      `${where}: innerGradClip must be a finite number >= 0 (0 = off), got ${JSON.stringify(v)}`,
    );
  return v;
}

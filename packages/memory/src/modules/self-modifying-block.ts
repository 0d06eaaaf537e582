/**
 * The backward block the fused SelfModifyingTitans op gives its kernels ('cpu' in
 * ./self-modifying-fused.ts, 'cuda' in ./self-modifying-cuda.ts), so both cut a call into the same
 * blocks and pieces.
 */

/**
 * Longest backward block of the chunk form. Its recompute keeps only each piece's start states (no
 * per-token weights, unlike the token form's √(3T) blocks), so the op takes the whole call as one
 * block up to this length: no block-start states to keep or recompute.
 */
export const DUAL_BLOCK_MAX = 256;

/** attrs.block if set; else min(T, DUAL_BLOCK_MAX) in chunk form, 0 (the kernels' √(3T)) in token form. */
export function selfModOpBlock(seqLen: number, a: { block?: number; dual?: boolean }): number {
  return a.block || (a.dual === false ? 0 : Math.max(1, Math.min(seqLen, DUAL_BLOCK_MAX)));
}

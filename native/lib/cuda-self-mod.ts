/** CUDA entry points: the fused SelfModifyingTitans memory, forward and backward (native/src/binding/cuda_self_mod.cc). */
import type { CudaPtr, CudaDType } from './cuda.js';
import type { SelfModDims } from './memory.js';

export interface CudaSelfModBinding {
  /**
   * Forward over contiguous operands at element offsets `offs[i]` (dims as selfModForward's;
   * block is unused): ptrs = [x, q, w1, w2, s1, s2, a1, a2, o, w1Out, w2Out, s1Out, s2Out, a1Out,
   * a2Out]. x, q, o [B, T, H, D]; w1, s1, a1 [B, M, H, D, Dh]; w2, s2, a2 [B, M, H, Dh, D].
   */
  cudaSelfModForward(
    dt: CudaDType,
    dims: SelfModDims,
    ptrs: readonly (CudaPtr | null)[],
    offs: readonly number[],
  ): void;
  /**
   * Its backward (recomputes the forward from block-boundary states every `dims.block` tokens,
   * 0 = automatic): ptrs = [x, q, w1, w2, s1, s2, a1, a2, dO | null, dW1 | null, dW2 | null,
   * dS1 | null, dS2 | null, dA1 | null, dA2 | null, dx, dq, gW1, gW2, gS1, gS2, gA1, gA2]; the
   * gradients (dx, dq: zero with adaptiveQ; g*: of the initial states) are overwritten.
   */
  cudaSelfModBackward(
    dt: CudaDType,
    dims: SelfModDims,
    ptrs: readonly (CudaPtr | null)[],
    offs: readonly number[],
  ): void;
}

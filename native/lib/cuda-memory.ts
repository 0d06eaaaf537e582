/** CUDA entry points: the fused gated delta rule, forward and backward (native/src/binding/cuda_memory.cc). */
import type { CudaPtr, CudaDType } from './cuda.js';

export interface CudaMemoryBinding {
  /**
   * Gated delta rule forward (fla convention; `erase: false` is gated linear attention) over
   * contiguous operands at element offsets `offs[i]`; dims = [B, T, H, Dk, Dv].
   * ptrs = [q, k, v, alpha, beta, s0 | null, o, state]: q, k [B, T, H, Dk]; v, o [B, T, H, Dv];
   * alpha, beta [B, T, H]; s0, state (= S_T) [B, H, Dk, Dv].
   */
  cudaDeltaRuleForward(
    dt: CudaDType,
    dims: readonly number[],
    erase: boolean,
    ptrs: readonly (CudaPtr | null)[],
    offs: readonly number[],
  ): void;
  /**
   * Its backward (recomputes the forward, chunk-boundary states every `chunk` tokens):
   * ptrs = [q, k, v, alpha, beta, s0 | null, dO | null, dS_T | null, dq, dk, dv, dAlpha, dBeta, dS0];
   * every gradient is overwritten.
   */
  cudaDeltaRuleBackward(
    dt: CudaDType,
    dims: readonly number[],
    erase: boolean,
    chunk: number,
    ptrs: readonly (CudaPtr | null)[],
    offs: readonly number[],
  ): void;
}

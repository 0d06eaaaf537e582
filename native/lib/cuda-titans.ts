/** CUDA entry points: the fused Titans MLP memory, forward and backward (native/src/binding/cuda_titans.cc). */
import type { CudaPtr, CudaDType } from './cuda.js';

export interface CudaTitansBinding {
  /**
   * Titans MLP memory forward (mini-batch chunks of `chunk` tokens, inner gradients at each
   * chunk's start weights) over contiguous operands at element offsets `offs[i]`;
   * dims = [B, T, H, D, Dh]. ptrs = [q, k, v, theta, eta, alpha, w1, w2, s1 | null, s2 | null,
   * o, w1Out, w2Out, s1Out, s2Out]: q, k, v, o [B, T, H, D]; gates [B, T, H]; w1, s1 [B, H, D, Dh];
   * w2, s2 [B, H, Dh, D]. `readAfterWrite`: o reads the weights after the token's write.
   */
  cudaTitansMlpForward(
    dt: CudaDType,
    dims: readonly number[],
    chunk: number,
    readAfterWrite: boolean,
    ptrs: readonly (CudaPtr | null)[],
    offs: readonly number[],
  ): void;
  /**
   * Its backward (recomputes the forward from chunk-boundary states): ptrs = the forward's ten
   * inputs, then dO, dW1, dW2, dS1, dS2 (each `null` = zeros), then the ten gradients
   * dq, dk, dv, dTheta, dEta, dAlpha, dW1_0, dW2_0, dS1_0, dS2_0 (overwritten).
   */
  cudaTitansMlpBackward(
    dt: CudaDType,
    dims: readonly number[],
    chunk: number,
    readAfterWrite: boolean,
    ptrs: readonly (CudaPtr | null)[],
    offs: readonly number[],
  ): void;
}

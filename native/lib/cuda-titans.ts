/**
 * CUDA entry points: the fused Titans MLP and linear memories, forward and backward
 * (native/src/binding/cuda_titans.cc, cuda_titans_linear.cc).
 */
import type { CudaPtr, CudaDType } from './cuda.js';

/**
 * Signature of the four entry points: dtype, dims, chunk (tokens per mini-batch, > 0),
 * readAfterWrite, then the contiguous operands as device pointers (`null` = absent, where allowed)
 * and their element offsets.
 */
export type CudaTitansCall = (
  dt: CudaDType,
  dims: readonly number[],
  chunk: number,
  readAfterWrite: boolean,
  ptrs: readonly (CudaPtr | null)[],
  offs: readonly number[],
) => void;

export interface CudaTitansBinding extends CudaTitansLinearBinding {
  /**
   * Titans MLP memory forward (mini-batch chunks of `chunk` tokens, inner gradients at each
   * chunk's start weights) over contiguous operands at element offsets `offs[i]`;
   * dims = [B, T, H, D, Dh]. ptrs = [q, k, v, theta, eta, alpha, w1, w2, s1 | null, s2 | null,
   * o, w1Out, w2Out, s1Out, s2Out]: q, k, v, o [B, T, H, D]; gates [B, T, H]; w1, s1 [B, H, D, Dh];
   * w2, s2 [B, H, Dh, D]. `readAfterWrite`: o reads the weights after the token's write.
   */
  cudaTitansMlpForward: CudaTitansCall;
  /**
   * Its backward (recomputes the forward from chunk-boundary states): ptrs = the forward's ten
   * inputs, then dO, dW1, dW2, dS1, dS2 (each `null` = zeros), then the ten gradients
   * dq, dk, dv, dTheta, dEta, dAlpha, dW1_0, dW2_0, dS1_0, dS2_0 (overwritten).
   */
  cudaTitansMlpBackward: CudaTitansCall;
}

export interface CudaTitansLinearBinding {
  /**
   * Titans linear memory forward (M, S [Dv, Dk] per head; mini-batch chunks of `chunk` tokens, inner
   * gradients at each chunk's start state); dims = [B, T, H, Dk, Dv]. ptrs = [q, k, v, theta, eta,
   * alpha, m0 | null, s0 | null, o, mOut, sOut]: q, k [B, T, H, Dk]; v, o [B, T, H, Dv];
   * gates [B, T, H]; m0, s0, mOut, sOut [B, H, Dv, Dk].
   */
  cudaTitansLinearForward: CudaTitansCall;
  /**
   * Its backward: ptrs = the forward's eight inputs, then dO, dM, dS (each `null` = zeros), then the
   * eight gradients dq, dk, dv, dTheta, dEta, dAlpha, dM0, dS0 (overwritten).
   */
  cudaTitansLinearBackward: CudaTitansCall;
}

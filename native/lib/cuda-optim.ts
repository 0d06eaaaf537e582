/** CUDA entry points: optimizer updates: SGD, AdamW, Muon (momentum, Newton-Schulz, apply), delta momentum, DMGD, M3, preconditioned momentum, grad-norm clipping (native/src/binding/cuda_optim.cc). */
import type { CudaPtr, CudaDType } from './cuda.js';

export interface CudaOptimBinding {
  /** (placeholder so the interface is not empty; remove when the first op is added) */
  readonly __cudaOptim?: [CudaPtr, CudaDType];
}

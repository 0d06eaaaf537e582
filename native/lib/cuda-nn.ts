/** CUDA entry points: RMSNorm, LayerNorm, embedding, dropout, causal conv1d, cross-entropy (forward and backward) (native/src/binding/cuda_nn.cc). */
import type { CudaPtr, CudaDType } from './cuda.js';

export interface CudaNnBinding {
  /** (placeholder so the interface is not empty; remove when the first op is added) */
  readonly __cudaNn?: [CudaPtr, CudaDType];
}

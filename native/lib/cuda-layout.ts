/** CUDA entry points: reductions, softmax, scans, triangle, where, assign, fillView, prodBackward (native/src/binding/cuda_layout.cc). */
import type { CudaPtr, CudaDType } from './cuda.js';

export interface CudaLayoutBinding {
  /** (placeholder so the interface is not empty; remove when the first op is added) */
  readonly __cudaLayout?: [CudaPtr, CudaDType];
}

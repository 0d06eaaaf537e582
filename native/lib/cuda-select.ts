/** CUDA entry points: indexSelect, indexAdd, gather, scatterAdd, scatterSpread, topk, multinomial, checkIds (native/src/binding/cuda_select.cc). */
import type { CudaPtr, CudaDType } from './cuda.js';

export interface CudaSelectBinding {
  /** (placeholder so the interface is not empty; remove when the first op is added) */
  readonly __cudaSelect?: [CudaPtr, CudaDType];
}

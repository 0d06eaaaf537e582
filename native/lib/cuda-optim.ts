/** CUDA entry points: optimizer updates: SGD, AdamW, Muon (momentum, Newton-Schulz, apply), delta momentum, DMGD, M3, preconditioned momentum, grad-norm clipping (native/src/binding/cuda_optim.cc). */
import type { CudaPtr, CudaDType } from './cuda.js';

export interface CudaOptimBinding {
  /**
   * One elementwise optimizer update over n elements (codes and operands:
   * native/src/cuda/kernels/optim.h). `ptrs[i]` (0 or null where an optional
   * operand is absent) at element `offs[i]`; operands are of dtype `dt` or float64 as the update
   * says; `scalar` a float64 device scalar (a sum of squares) at element `scalarOff`, or 0.
   */
  cudaOptimEw(
    kind: number,
    dt: CudaDType,
    n: number,
    ptrs: readonly (CudaPtr | null)[],
    offs: readonly number[],
    scalar: CudaPtr | null,
    scalarOff: number,
    h: readonly number[],
    flags: number,
  ): void;
  /**
   * One launch of update `kind` over up to 16 tensors (multi-tensor apply): each part has its own
   * operands (as cudaOptimEw), length and hyperparameters; kind, dtype, flags and scalar are shared.
   */
  cudaOptimEwMulti(
    kind: number,
    dt: CudaDType,
    flags: number,
    scalar: CudaPtr | null,
    scalarOff: number,
    parts: readonly {
      ptrs: readonly (CudaPtr | null)[];
      offs: readonly number[];
      n: number;
      h: readonly number[];
    }[],
  ): void;
  /** partial[partialOff + b] = block b's sum of squares of a[aOff ..+n), b < blocks (float64). */
  cudaOptimSumSq(
    dt: CudaDType,
    a: CudaPtr,
    aOff: number,
    n: number,
    partial: CudaPtr,
    partialOff: number,
    blocks: number,
  ): void;
  /** out[outOff] = takeSqrt ? sqrt(Σ partial) : mul·Σ partial over partial[partialOff ..+count). */
  cudaOptimFinalize(
    partial: CudaPtr,
    partialOff: number,
    count: number,
    out: CudaPtr,
    outOff: number,
    takeSqrt: boolean,
    mul: number,
  ): void;
  /** Newton–Schulz's first step per [rows, cols] matrix: dst = src/(‖src‖_F + 1e-7), transposed when rows > cols. */
  cudaOptimNsNorm(
    dt: CudaDType,
    src: CudaPtr,
    srcOff: number,
    dst: CudaPtr,
    dstOff: number,
    batch: number,
    rows: number,
    cols: number,
  ): void;
}

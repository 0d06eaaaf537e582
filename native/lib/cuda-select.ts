/**
 * CUDA entry points of the select family (native/src/binding/cuda_select.cc). Index operands are
 * int32 buffers; offsets and strides count elements. Index values are range-checked by the
 * kernels (a bad one is skipped, never read through); `cudaCheckIndices` finds them first so the
 * caller can throw a clear error.
 */
import type { CudaPtr, CudaDType } from './cuda.js';

export interface CudaSelectBinding {
  /**
   * The first element (row-major over `shape`) of the int32 operand whose value is outside
   * [lo, hi), and that value: [position, value], or [-1, 0] when every value is inside. Waits for
   * the device (it reads back 16 bytes).
   */
  cudaCheckIndices(
    idx: CudaPtr,
    offset: number,
    shape: readonly number[],
    strides: readonly number[],
    lo: number,
    hi: number,
  ): [number, number];
  /** out (contiguous, x's shape with dim = k) = x's rows along dim at idx[idxOff + j * idxStride]. */
  cudaIndexSelect(
    out: CudaPtr,
    dt: CudaDType,
    x: CudaPtr,
    xOff: number,
    xShape: readonly number[],
    xStrides: readonly number[],
    dim: number,
    idx: CudaPtr,
    idxOff: number,
    idxStride: number,
    k: number,
  ): void;
  /** out (contiguous, outShape) += src (outShape with dim = k) rows at the k indices along dim. */
  cudaIndexAdd(
    out: CudaPtr,
    dt: CudaDType,
    outShape: readonly number[],
    dim: number,
    idx: CudaPtr,
    idxOff: number,
    idxStride: number,
    k: number,
    src: CudaPtr,
    srcOff: number,
    srcStrides: readonly number[],
  ): void;
  /** out (contiguous, idxShape) [..i..] = x[..idx[..i..]..] along dim. */
  cudaGather(
    out: CudaPtr,
    dt: CudaDType,
    x: CudaPtr,
    xOff: number,
    xShape: readonly number[],
    xStrides: readonly number[],
    dim: number,
    idx: CudaPtr,
    idxOff: number,
    idxShape: readonly number[],
    idxStrides: readonly number[],
  ): void;
  /** out (contiguous) [..idx[..i..]..] += src[..i..] along dim; src's strides walked over idxShape. */
  cudaScatterAdd(
    out: CudaPtr,
    dt: CudaDType,
    outShape: readonly number[],
    dim: number,
    idx: CudaPtr,
    idxOff: number,
    idxShape: readonly number[],
    idxStrides: readonly number[],
    src: CudaPtr,
    srcOff: number,
    srcStrides: readonly number[],
  ): void;
  /** full (contiguous, fullShape >= gShape) [..i..] = g[..i..] over gShape. */
  cudaScatterSpread(
    full: CudaPtr,
    dt: CudaDType,
    fullShape: readonly number[],
    g: CudaPtr,
    gOff: number,
    gShape: readonly number[],
    gStrides: readonly number[],
  ): void;
  /** out int32 (contiguous, x's shape with dim = k): indices of the k largest/smallest, ties by index. */
  cudaTopk(
    out: CudaPtr,
    x: CudaPtr,
    dt: CudaDType,
    xOff: number,
    xShape: readonly number[],
    xStrides: readonly number[],
    dim: number,
    k: number,
    largest: boolean,
  ): void;
  /**
   * Per row of weights [rows, n] (at wOff + r * rowStride + i * colStride): err int32 [rows] = -1
   * when valid, else the first non-finite / negative column, or n when the row sums to 0;
   * total float64 [rows] = the row's sum (in order, in double).
   */
  cudaMultinomialPrep(
    err: CudaPtr,
    total: CudaPtr,
    w: CudaPtr,
    dt: CudaDType,
    wOff: number,
    rows: number,
    n: number,
    rowStride: number,
    colStride: number,
  ): void;
  /** out int32 [rows, samples]: the first i whose running row sum > u[r, s] * total[r]. */
  cudaMultinomialSample(
    out: CudaPtr,
    w: CudaPtr,
    dt: CudaDType,
    wOff: number,
    rows: number,
    n: number,
    rowStride: number,
    colStride: number,
    err: CudaPtr,
    total: CudaPtr,
    u: CudaPtr,
    samples: number,
  ): void;
}

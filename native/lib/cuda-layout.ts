/** CUDA entry points: reductions, softmax, scans, triangle, where, assign, fillView, prodBackward (native/src/binding/cuda_layout*.cc). */
import type { CudaPtr, CudaDType } from './cuda.js';

export interface CudaLayoutBinding {
  /**
   * Reduces `dims` (sorted, unique) of the strided operand `a` of `shape` into contiguous `out`.
   * op: 0 sum, 1 mean, 2 max, 3 min, 4 argmax, 5 argmin, 6 logsumexp, 7 var, 8 prod. outDt: int32
   * for argmax/argmin, float32 for int32 mean/logsumexp/var, else aDt.
   */
  cudaReduce(
    op: number,
    out: CudaPtr,
    outDt: CudaDType,
    a: CudaPtr,
    aDt: CudaDType,
    aOff: number,
    aStrides: readonly number[],
    shape: readonly number[],
    dims: readonly number[],
    correction: number,
  ): void;
  /** softmax (log: log-softmax) of contiguous a [outer, n, inner] from aOff along n into contiguous out. */
  cudaSoftmax(
    out: CudaPtr,
    outDt: CudaDType,
    a: CudaPtr,
    aDt: CudaDType,
    aOff: number,
    outer: number,
    n: number,
    inner: number,
    log: boolean,
  ): void;
  /** out (contiguous, dt) = cond != 0 ? a : b over shape; a and b have dtype dt. */
  cudaWhere(
    out: CudaPtr,
    dt: CudaDType,
    shape: readonly number[],
    cond: CudaPtr,
    condDt: CudaDType,
    condOff: number,
    condStrides: readonly number[],
    a: CudaPtr,
    aOff: number,
    aStrides: readonly number[],
    b: CudaPtr,
    bOff: number,
    bStrides: readonly number[],
  ): void;
  /** dst[dOff + idx . dStrides] = src[sOff + idx . sStrides] over shape (dtype converted). */
  cudaAssign(
    dst: CudaPtr,
    dstDt: CudaDType,
    dOff: number,
    dStrides: readonly number[],
    shape: readonly number[],
    src: CudaPtr,
    srcDt: CudaDType,
    sOff: number,
    sStrides: readonly number[],
  ): void;
  /** dst[off + idx . strides] = value over shape. */
  cudaFillView(
    dst: CudaPtr,
    dt: CudaDType,
    off: number,
    strides: readonly number[],
    shape: readonly number[],
    value: number,
  ): void;
  /** Zeroes, in place, the entries of contiguous [batch, rows, cols] outside j - i <= k (lower) or j - i >= k. */
  cudaTriangle(
    out: CudaPtr,
    dt: CudaDType,
    off: number,
    batch: number,
    rows: number,
    cols: number,
    lower: boolean,
    k: number,
  ): void;
  /** In-place scan of contiguous [outer, n, inner] along n; kind: 0 cumsum, 1 cumprod, 2 reverse cumsum. */
  cudaScan(
    out: CudaPtr,
    dt: CudaDType,
    off: number,
    outer: number,
    n: number,
    inner: number,
    kind: number,
  ): void;
  /** dx_i = sum_{j >= i} g_j prod_{k <= j, k != i} x_k along n of contiguous [outer, n, inner] operands. */
  cudaCumprodBackward(
    dt: CudaDType,
    out: CudaPtr,
    outOff: number,
    x: CudaPtr,
    xOff: number,
    g: CudaPtr,
    gOff: number,
    outer: number,
    n: number,
    inner: number,
  ): void;
  /** out (contiguous, shape) = ge * prod of x over each element's `dims` group without the element. */
  cudaProdBackward(
    dt: CudaDType,
    out: CudaPtr,
    x: CudaPtr,
    xOff: number,
    xStrides: readonly number[],
    ge: CudaPtr,
    geOff: number,
    geStrides: readonly number[],
    shape: readonly number[],
    dims: readonly number[],
  ): void;
}

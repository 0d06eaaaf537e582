/**
 * CUDA entry points: RMSNorm, LayerNorm, embedding, dropout, causal conv1d, cross-entropy
 * (forward and backward) (native/src/binding/cuda_nn.cc, cuda_nn_more.cc). Every device operand
 * is a (buffer, element offset) pair; the addon checks the elements each spans. `null` buffers
 * are absent optional operands (no weight, no bias, gradient not wanted). Float operands share
 * `dt`; statistics (rstd, mean, losses, stats) are float64; ids / targets int32. The backward
 * calls with weight / bias gradients take an optional float64 scratch of `scratchLen` elements:
 * with min(64, ceil(rows / 256)) * columns of it the column sums split their rows into chunks
 * (more blocks); with less (or null) they use what fits, down to one block row.
 */
import type { CudaPtr, CudaDType } from './cuda.js';

type Opt = CudaPtr | null;

export interface CudaNnBinding {
  /** y = x * rstd * w per row of [rows, d]; rstd [rows] = 1/sqrt(mean(x^2) + eps). */
  cudaRmsNormForward(
    dt: CudaDType,
    x: CudaPtr, xOff: number,
    w: Opt, wOff: number,
    rows: number, d: number, eps: number,
    y: CudaPtr, yOff: number,
    rstd: CudaPtr, rstdOff: number,
  ): void; // prettier-ignore
  /** dx [rows, d]; dw [d] (column sum) when given. */
  cudaRmsNormBackward(
    dt: CudaDType,
    g: CudaPtr, gOff: number,
    x: CudaPtr, xOff: number,
    w: Opt, wOff: number,
    rstd: CudaPtr, rstdOff: number,
    rows: number, d: number,
    dx: CudaPtr, dxOff: number,
    dw: Opt, dwOff: number,
    scratch: Opt, scratchOff: number, scratchLen: number,
  ): void; // prettier-ignore
  /** y = (x - mean) * rstd * w + b per row; mean, rstd [rows]. */
  cudaLayerNormForward(
    dt: CudaDType,
    x: CudaPtr, xOff: number,
    w: Opt, wOff: number,
    b: Opt, bOff: number,
    rows: number, d: number, eps: number,
    y: CudaPtr, yOff: number,
    mean: CudaPtr, meanOff: number,
    rstd: CudaPtr, rstdOff: number,
  ): void; // prettier-ignore
  /** dx [rows, d]; dw, db [d] when given. */
  cudaLayerNormBackward(
    dt: CudaDType,
    g: CudaPtr, gOff: number,
    x: CudaPtr, xOff: number,
    w: Opt, wOff: number,
    mean: CudaPtr, meanOff: number,
    rstd: CudaPtr, rstdOff: number,
    rows: number, d: number,
    dx: CudaPtr, dxOff: number,
    dw: Opt, dwOff: number,
    db: Opt, dbOff: number,
    scratch: Opt, scratchOff: number, scratchLen: number,
  ): void; // prettier-ignore
  /** out [m, d] = w [v, d] rows at ids [m] (ids outside [0, v) give zero rows). */
  cudaEmbeddingForward(
    dt: CudaDType,
    w: CudaPtr, wOff: number, v: number, d: number,
    ids: CudaPtr, idsOff: number, m: number,
    out: CudaPtr, outOff: number,
  ): void; // prettier-ignore
  /** dw [v, d] (zeroed by the caller) += g [m, d] scattered by ids (out-of-range ids skipped). */
  cudaEmbeddingBackward(
    dt: CudaDType,
    g: CudaPtr, gOff: number,
    ids: CudaPtr, idsOff: number,
    m: number, d: number, v: number,
    dw: CudaPtr, dwOff: number,
  ): void; // prettier-ignore
  /** mask [n] in {0, 1/(1-p)} from (seed, index) as the CPU kernel; y = x * mask. */
  cudaDropoutForward(
    dt: CudaDType,
    x: CudaPtr, xOff: number, n: number,
    seed: number, p: number,
    mask: CudaPtr, maskOff: number,
    y: CudaPtr, yOff: number,
  ): void; // prettier-ignore
  /** y [b, t, c] = bias + causal depthwise conv of x [b, t, c] with w [c, k]. */
  cudaCausalConv1dForward(
    dt: CudaDType,
    x: CudaPtr, xOff: number,
    w: CudaPtr, wOff: number,
    bias: Opt, biasOff: number,
    b: number, t: number, c: number, k: number,
    y: CudaPtr, yOff: number,
  ): void; // prettier-ignore
  /** dx [b, t, c]; dw [c, k], db [c] when given. */
  cudaCausalConv1dBackward(
    dt: CudaDType,
    g: CudaPtr, gOff: number,
    x: CudaPtr, xOff: number,
    w: CudaPtr, wOff: number,
    b: number, t: number, c: number, k: number,
    dx: CudaPtr, dxOff: number,
    dw: Opt, dwOff: number,
    db: Opt, dbOff: number,
    scratch: Opt, scratchOff: number, scratchLen: number,
  ): void; // prettier-ignore
  /**
   * probs [n, c] = softmax(logits); losses [n] float64 (0 on ignored rows, NaN for targets out of
   * range); stats [2] float64 = {sum, counted rows} and out [1] = sum or mean for reduction 1 / 2
   * (0: 'none' leaves stats and out alone; out may be null).
   */
  cudaCrossEntropyForward(
    dt: CudaDType,
    logits: CudaPtr, logitsOff: number,
    targets: CudaPtr, targetsOff: number,
    n: number, c: number, ignoreIndex: number, reduction: 0 | 1 | 2,
    probs: CudaPtr, probsOff: number,
    losses: CudaPtr, lossesOff: number,
    stats: CudaPtr, statsOff: number,
    out: Opt, outOff: number,
  ): void; // prettier-ignore
  /** grad [n, c] = (probs - onehot(target)) * scale; g is [n] (reduction 0) or [1]. */
  cudaCrossEntropyBackward(
    dt: CudaDType,
    probs: CudaPtr, probsOff: number,
    targets: CudaPtr, targetsOff: number,
    n: number, c: number, ignoreIndex: number, reduction: 0 | 1 | 2,
    g: CudaPtr, gOff: number,
    stats: CudaPtr, statsOff: number,
    grad: CudaPtr, gradOff: number,
  ): void; // prettier-ignore
}

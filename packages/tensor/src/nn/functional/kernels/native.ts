/**
 * The native (C++, threaded) versions of the fused NN kernels, with the same signatures as the
 * plain TypeScript references beside them (cross-entropy.ts, norm.ts, conv1d.ts), which the
 * tests diff them against. The ops in nn/functional call these.
 */
import { native } from '@nl/native';
import type { FloatArray } from './cross-entropy.js';

/** Native RMSNorm forward (see norm.ts `rmsNormForward`). */
export function rmsNormForward(
  x: FloatArray,
  w: FloatArray | null,
  rows: number,
  d: number,
  eps: number,
  y: FloatArray,
  rstd: Float64Array,
): void {
  native.rmsNormForward(x, w, rows, d, eps, y, rstd);
}

/** Native RMSNorm backward (see norm.ts `rmsNormBackward`). */
export function rmsNormBackward(
  g: FloatArray,
  x: FloatArray,
  w: FloatArray | null,
  rstd: Float64Array,
  rows: number,
  d: number,
  dx: FloatArray,
  dw: Float64Array | null,
): void {
  native.rmsNormBackward(g, x, w, rstd, rows, d, dx, dw);
}

/** Native LayerNorm forward (see norm.ts `layerNormForward`). */
export function layerNormForward(
  x: FloatArray,
  w: FloatArray | null,
  b: FloatArray | null,
  rows: number,
  d: number,
  eps: number,
  y: FloatArray,
  mean: Float64Array,
  rstd: Float64Array,
): void {
  native.layerNormForward(x, w, b, rows, d, eps, y, mean, rstd);
}

/** Native LayerNorm backward (see norm.ts `layerNormBackward`). */
export function layerNormBackward(
  g: FloatArray,
  x: FloatArray,
  w: FloatArray | null,
  mean: Float64Array,
  rstd: Float64Array,
  rows: number,
  d: number,
  dx: FloatArray,
  dw: Float64Array | null,
  db: Float64Array | null,
): void {
  native.layerNormBackward(g, x, w, mean, rstd, rows, d, dx, dw, db);
}

/** Native cross-entropy forward (see cross-entropy.ts `crossEntropyForward`). */
export function crossEntropyForward(
  logits: FloatArray,
  targets: Int32Array,
  n: number,
  c: number,
  ignoreIndex: number,
  losses: Float64Array,
  probs: FloatArray,
): void {
  native.crossEntropyForward(logits, targets, n, c, ignoreIndex, losses, probs);
}

/** Native cross-entropy backward (see cross-entropy.ts `crossEntropyBackward`). */
export function crossEntropyBackward(
  probs: FloatArray,
  targets: Int32Array,
  n: number,
  c: number,
  ignoreIndex: number,
  rowScale: Float64Array,
  grad: FloatArray,
): void {
  native.crossEntropyBackward(probs, targets, n, c, ignoreIndex, rowScale, grad);
}

/** Native causal depthwise conv1d forward (see conv1d.ts `causalConv1dForward`). */
export function causalConv1dForward(
  x: FloatArray,
  w: FloatArray,
  bias: FloatArray | null,
  b: number,
  t: number,
  c: number,
  k: number,
  y: FloatArray,
): void {
  native.causalConv1dForward(x, w, bias, b, t, c, k, y);
}

/** Native causal depthwise conv1d backward (see conv1d.ts `causalConv1dBackward`). */
export function causalConv1dBackward(
  g: FloatArray,
  x: FloatArray,
  w: FloatArray,
  b: number,
  t: number,
  c: number,
  k: number,
  dx: FloatArray,
  dw: Float64Array | null,
  db: Float64Array | null,
): void {
  native.causalConv1dBackward(g, x, w, b, t, c, k, dx, dw, db);
}

/** Native dropout forward: same masks as dropout-mask.ts `dropoutMask`; writes mask and y = x * mask. */
export function dropoutForward(
  x: FloatArray,
  seed: number,
  p: number,
  mask: FloatArray,
  y: FloatArray,
): void {
  native.dropoutForward(x, seed, p, mask, y);
}

/** Native dropout backward: dx = g * mask. */
export function dropoutBackward(g: FloatArray, mask: FloatArray, dx: FloatArray): void {
  native.dropoutBackward(g, mask, dx);
}

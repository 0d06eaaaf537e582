/**
 * Fused RMSNorm and LayerNorm kernels over the last dim, on flat typed arrays (no Tensor).
 * Forward saves the per-row reciprocal std (and mean for LayerNorm); backward is the closed
 * form, one pass per row, float64 accumulation.
 *
 *   RMSNorm:   r = 1/sqrt(mean(x^2) + eps);        y = x r w
 *              dx = r (g w) - x r^3 mean(g w x);    dw = sum_rows g x r
 *   LayerNorm: xh = (x - mu) r, r = 1/sqrt(var + eps) (biased var);  y = xh w + b
 *              dx = r (gh - mean(gh) - xh mean(gh xh)), gh = g w;  dw = sum g xh;  db = sum g
 *
 * Shapes: x, y, g, dx [R, D] row-major (R = product of leading dims); w, b, dw, db [D];
 * rstd, mean [R]. A null weight means w = 1 (and no dw); a null bias means b = 0.
 */
import type { FloatArray } from './cross-entropy.js';

/** RMSNorm forward. Writes y [R, D] and rstd [R]. */
export function rmsNormForward(
  x: FloatArray,
  w: FloatArray | null,
  rows: number,
  d: number,
  eps: number,
  y: FloatArray,
  rstd: Float64Array,
): void {
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    let ss = 0;
    for (let j = 0; j < d; j++) ss += x[o + j] * x[o + j];
    const r = 1 / Math.sqrt(ss / d + eps);
    rstd[i] = r;
    for (let j = 0; j < d; j++) y[o + j] = x[o + j] * r * (w ? w[j] : 1);
  }
}

/** RMSNorm backward. Writes dx [R, D] and, when given, accumulates dw [D] (zeroed here). */
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
  if (dw) dw.fill(0);
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    const r = rstd[i];
    let dot = 0;
    for (let j = 0; j < d; j++) dot += g[o + j] * (w ? w[j] : 1) * x[o + j];
    const c = (r * r * r * dot) / d;
    for (let j = 0; j < d; j++) {
      dx[o + j] = r * g[o + j] * (w ? w[j] : 1) - x[o + j] * c;
      if (dw) dw[j] += g[o + j] * x[o + j] * r;
    }
  }
}

/** LayerNorm forward. Writes y [R, D], mean [R] and rstd [R]. */
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
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += x[o + j];
    const mu = s / d;
    let v = 0;
    for (let j = 0; j < d; j++) v += (x[o + j] - mu) * (x[o + j] - mu);
    const r = 1 / Math.sqrt(v / d + eps);
    mean[i] = mu;
    rstd[i] = r;
    for (let j = 0; j < d; j++) y[o + j] = (x[o + j] - mu) * r * (w ? w[j] : 1) + (b ? b[j] : 0);
  }
}

/** LayerNorm backward. Writes dx [R, D]; when given, fills dw [D] and db [D]. */
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
  if (dw) dw.fill(0);
  if (db) db.fill(0);
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    const mu = mean[i];
    const r = rstd[i];
    let sg = 0;
    let sgx = 0;
    for (let j = 0; j < d; j++) {
      const gh = g[o + j] * (w ? w[j] : 1);
      const xh = (x[o + j] - mu) * r;
      sg += gh;
      sgx += gh * xh;
      if (dw) dw[j] += g[o + j] * xh;
      if (db) db[j] += g[o + j];
    }
    sg /= d;
    sgx /= d;
    for (let j = 0; j < d; j++) {
      const xh = (x[o + j] - mu) * r;
      dx[o + j] = r * (g[o + j] * (w ? w[j] : 1) - sg - xh * sgx);
    }
  }
}

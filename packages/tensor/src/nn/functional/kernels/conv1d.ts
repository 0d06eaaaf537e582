/**
 * Causal depthwise 1-D convolution kernels on flat typed arrays, channels last.
 * Each channel c has its own K taps; output t sees inputs t-K+1 .. t (zeros before the start):
 *
 *   y[b, t, c] = bias[c] + sum_{j=0}^{K-1} w[c, j] * x[b, t - (K-1) + j, c]
 *
 * which equals PyTorch's Conv1d(C, C, K, groups=C, padding=K-1) on [B, C, T] with the last K-1
 * outputs dropped. Backward:
 *   dx[b, s, c] = sum_j w[c, j] * g[b, s + (K-1) - j, c]   (terms with that index < T)
 *   dw[c, j]    = sum_{b,t} g[b, t, c] * x[b, t - (K-1) + j, c]
 *   db[c]       = sum_{b,t} g[b, t, c]
 *
 * Shapes: x, y, g, dx [B, T, C]; w, dw [C, K]; bias, db [C].
 */
import type { FloatArray } from './cross-entropy.js';

/** Forward: writes y [B, T, C]. */
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
  for (let bi = 0; bi < b; bi++) {
    for (let ti = 0; ti < t; ti++) {
      const out = (bi * t + ti) * c;
      for (let ci = 0; ci < c; ci++) {
        let s = bias ? bias[ci] : 0;
        for (let j = 0; j < k; j++) {
          const src = ti - (k - 1) + j;
          if (src >= 0) s += w[ci * k + j] * x[(bi * t + src) * c + ci];
        }
        y[out + ci] = s;
      }
    }
  }
}

/** Backward: writes dx [B, T, C]; when given, fills dw [C, K] and db [C]. */
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
  dx.fill(0);
  if (dw) dw.fill(0);
  if (db) db.fill(0);
  for (let bi = 0; bi < b; bi++) {
    for (let ti = 0; ti < t; ti++) {
      const go = (bi * t + ti) * c;
      for (let ci = 0; ci < c; ci++) {
        const gv = g[go + ci];
        if (db) db[ci] += gv;
        for (let j = 0; j < k; j++) {
          const src = ti - (k - 1) + j;
          if (src < 0) continue;
          const xi = (bi * t + src) * c + ci;
          dx[xi] += w[ci * k + j] * gv;
          if (dw) dw[ci * k + j] += gv * x[xi];
        }
      }
    }
  }
}

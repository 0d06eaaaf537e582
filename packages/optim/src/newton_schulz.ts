/**
 * Quintic Newton–Schulz orthogonalisation (Muon's zeropower_via_newtonschulz5):
 * X = G/(||G||_F + 1e-7), transposed when rows > cols; `steps` times
 * A = X Xᵀ; B = bA + cA²; X = aX + BX, with (a, b, c) = (3.4445, −4.7750, 2.0315).
 * Two versions: `newtonSchulzRef` (plain float64 loops, the reference) and `newtonSchulz`
 * (one native call: batched, in the input's dtype, three batched GEMMs per iteration —
 * native/src/cpu/newton_schulz.cc). Without the addon `newtonSchulz` runs the reference per matrix.
 */
import { hasNative, native } from '@nl/native';
import type { FloatArray } from './param.js';

/** Muon's quintic coefficients (a, b, c). */
export const NS_COEFFS = [3.4445, -4.775, 2.0315] as const;

function checkArgs(
  where: string,
  g: FloatArray,
  rows: number,
  cols: number,
  steps: number,
  batch: number,
): void {
  for (const [k, v] of [
    ['rows', rows],
    ['cols', cols],
    ['batch', batch],
  ] as const)
    if (!Number.isInteger(v) || v < 1)
      throw new RangeError(`${where}: ${k} must be a positive integer, got ${v}`);
  if (!Number.isInteger(steps) || steps < 0)
    throw new RangeError(`${where}: steps must be an integer >= 0, got ${steps}`);
  if (g.length !== batch * rows * cols)
    throw new RangeError(
      `${where}: input has ${g.length} elements, expected batch*rows*cols = ${batch * rows * cols}`,
    );
}

/**
 * Reference Newton–Schulz in float64 loops for one matrix.
 * @param g [rows, cols] row-major
 * @returns [rows, cols] float64, approximately the orthogonal polar factor of g
 */
export function newtonSchulzRef(g: FloatArray, rows: number, cols: number, steps = 5): Float64Array {
  checkArgs('newtonSchulzRef', g, rows, cols, steps, 1);
  const [a, b, c] = NS_COEFFS;
  const tr = rows > cols;
  const r = tr ? cols : rows; // X: [r, n], r <= n
  const n = tr ? rows : cols;
  let x = new Float64Array(r * n);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) x[tr ? j * n + i : i * n + j] = g[i * cols + j]!;
  let norm = 0;
  for (const v of x) norm += v * v;
  norm = Math.sqrt(norm) + 1e-7;
  for (let i = 0; i < x.length; i++) x[i] = x[i]! / norm;
  const A = new Float64Array(r * r);
  const B = new Float64Array(r * r);
  for (let s = 0; s < steps; s++) {
    for (let i = 0; i < r; i++)
      for (let j = 0; j < r; j++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += x[i * n + k]! * x[j * n + k]!;
        A[i * r + j] = acc;
      }
    for (let i = 0; i < r; i++)
      for (let j = 0; j < r; j++) {
        let acc = 0;
        for (let k = 0; k < r; k++) acc += A[i * r + k]! * A[k * r + j]!;
        B[i * r + j] = b * A[i * r + j]! + c * acc;
      }
    const nx = new Float64Array(r * n);
    for (let i = 0; i < r; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let k = 0; k < r; k++) acc += B[i * r + k]! * x[k * n + j]!;
        nx[i * n + j] = a * x[i * n + j]! + acc;
      }
    x = nx;
  }
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) out[i * cols + j] = x[tr ? j * n + i : i * n + j]!;
  return out;
}

/** Options of the batched native Newton–Schulz. */
export interface NewtonSchulzOptions {
  /** iterations (default 5) */
  steps?: number;
  /** number of [rows, cols] matrices stacked in the input (default 1) */
  batch?: number;
  /** output array (same type and length as the input); may be the input itself */
  out?: FloatArray;
}

/**
 * Batched Newton–Schulz on the native GEMM, in the input's precision (without the addon: the
 * float64 reference per matrix, rounded into `out`).
 * @param g [batch, rows, cols] row-major
 * @returns [batch, rows, cols] (the `out` array when given)
 */
export function newtonSchulz(
  g: FloatArray,
  rows: number,
  cols: number,
  opts: NewtonSchulzOptions = {},
): FloatArray {
  const { steps = 5, batch = 1 } = opts;
  checkArgs('newtonSchulz', g, rows, cols, steps, batch);
  const Ctor = g instanceof Float32Array ? Float32Array : Float64Array;
  const out = opts.out ?? new Ctor(g.length);
  if (out.length !== g.length || out.constructor !== g.constructor)
    throw new TypeError('newtonSchulz: out must have the input type and length');
  if (hasNative()) {
    native.optimNewtonSchulz(g, out, batch, rows, cols, steps);
    return out;
  }
  const n = rows * cols;
  for (let b = 0; b < batch; b++)
    out.set(newtonSchulzRef(g.subarray(b * n, (b + 1) * n), rows, cols, steps), b * n);
  return out;
}

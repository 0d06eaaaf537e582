/**
 * Test helpers for the kernel tests: seeded random inputs, a closeness check that prints max
 * difference and relative RMS (fla-style), and central finite differences in float64.
 */
import { expect } from 'vitest';

/** Deterministic pseudo-random numbers in [-1, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

/** n values from `f(r)` (defaults to uniform [-1, 1)). */
export function randArray(n: number, r: () => number, f: (x: number) => number = (x) => x): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = f(r());
  return out;
}

/** Rows of length d L2-normalised in place (keys and queries are unit vectors in practice). */
export function normalizeRows(x: Float64Array, d: number): Float64Array {
  for (let r = 0; r < x.length / d; r++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += x[r * d + i] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let i = 0; i < d; i++) x[r * d + i] *= inv;
  }
  return x;
}

export interface CloseStats {
  maxDiff: number;
  relRms: number;
}

/** Max |a−b| and ‖a−b‖₂/‖b‖₂ (relative RMS against the reference b). */
export function closeStats(got: ArrayLike<number>, ref: ArrayLike<number>): CloseStats {
  let maxDiff = 0,
    num = 0,
    den = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i] - ref[i]);
    if (!(d <= maxDiff)) maxDiff = d; // NaN propagates
    num += d * d;
    den += ref[i] * ref[i];
  }
  return { maxDiff, relRms: Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300) };
}

/**
 * Asserts `got` matches `ref` elementwise: passes when maxDiff <= atol OR relRms <= ratio.
 * The message names the tensor and prints both measures.
 */
export function assertClose(
  name: string,
  got: ArrayLike<number>,
  ref: ArrayLike<number>,
  tol: { atol: number; ratio: number },
): void {
  expect(got.length, `${name}: length`).toBe(ref.length);
  const s = closeStats(got, ref);
  const ok = s.maxDiff <= tol.atol || s.relRms <= tol.ratio;
  expect(
    ok,
    `${name}: maxDiff ${s.maxDiff.toExponential(3)} (atol ${tol.atol}), relRms ${s.relRms.toExponential(3)} (ratio ${tol.ratio})`,
  ).toBe(true);
}

/** Central finite difference of scalar `f` with respect to every entry of `x` (mutated then restored). */
export function finiteDiff(f: () => number, x: Float64Array, eps = 1e-6): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i];
    x[i] = x0 + eps;
    const fp = f();
    x[i] = x0 - eps;
    const fm = f();
    x[i] = x0;
    out[i] = (fp - fm) / (2 * eps);
  }
  return out;
}

/** Σ w·x — the scalar loss used by gradient checks (its gradient with respect to x is w). */
export function dot(w: ArrayLike<number>, x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i] * x[i];
  return s;
}

/** Copy into a Float32Array. */
export function f32(x: Float64Array): Float32Array {
  return Float32Array.from(x);
}

// Newton–Schulz: the native batched version equals the float64 reference of the published iteration.
import { describe, expect, it } from 'vitest';
import { newtonSchulz, newtonSchulzRef } from '../src/newton_schulz.js';
import { rng } from './helpers.js';

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('Newton–Schulz', () => {
  it('reference: singular values land near 1 (in [0.6, 1.2]) for a random matrix', () => {
    const r = rng(1);
    const rows = 6,
      cols = 10;
    const g = Float64Array.from({ length: rows * cols }, () => r());
    const x = newtonSchulzRef(g, rows, cols);
    // X Xᵀ eigenvalues = squared singular values; check the diagonal of X Xᵀ and that off-diagonals are small
    for (let i = 0; i < rows; i++) {
      let d = 0;
      for (let k = 0; k < cols; k++) d += x[i * cols + k]! ** 2;
      expect(d).toBeGreaterThan(0.3);
      expect(d).toBeLessThan(1.5);
    }
  });

  it('reference: one step from a diagonal matrix matches the scalar polynomial', () => {
    const g = new Float64Array([3, 0, 0, 4]);
    const x = newtonSchulzRef(g, 2, 2, 1);
    const s = 3 / (5 + 1e-7);
    const t = 4 / (5 + 1e-7);
    const p = (v: number) => 3.4445 * v - 4.775 * v ** 3 + 2.0315 * v ** 5;
    expect(x[0]).toBeCloseTo(p(s), 14);
    expect(x[3]).toBeCloseTo(p(t), 14);
    expect(x[1]).toBe(0);
  });

  for (const [rows, cols, batch] of [
    [5, 9, 1],
    [9, 5, 3],
    [16, 16, 2],
    [1, 7, 1],
  ] as const) {
    it(`native float64 == reference (${rows}x${cols}, batch ${batch})`, () => {
      const r = rng(rows * 100 + cols);
      const g = Float64Array.from({ length: batch * rows * cols }, () => r());
      const got = newtonSchulz(g, rows, cols, { batch });
      for (let t = 0; t < batch; t++) {
        const ref = newtonSchulzRef(g.subarray(t * rows * cols, (t + 1) * rows * cols), rows, cols);
        expect(maxDiff(got.subarray(t * rows * cols, (t + 1) * rows * cols), ref)).toBeLessThan(1e-12);
      }
    });
    it(`native float32 ≈ reference (${rows}x${cols}, batch ${batch})`, () => {
      const r = rng(rows * 10 + cols);
      const g = Float32Array.from({ length: batch * rows * cols }, () => r());
      const got = newtonSchulz(g, rows, cols, { batch });
      expect(got).toBeInstanceOf(Float32Array);
      const ref = newtonSchulzRef(g.subarray(0, rows * cols), rows, cols);
      expect(maxDiff(got.subarray(0, rows * cols), ref)).toBeLessThan(1e-4);
    });
  }

  it('rejects bad shapes with a clear message', () => {
    expect(() => newtonSchulz(new Float32Array(5), 2, 3)).toThrow(/expected batch\*rows\*cols = 6/);
    expect(() => newtonSchulzRef(new Float64Array(0), 0, 3)).toThrow(/rows must be a positive integer/);
  });
});

describe('Newton–Schulz aliasing', () => {
  it('out may be the input itself', () => {
    const r = rng(99);
    const g = Float32Array.from({ length: 2 * 6 * 4 }, () => r());
    const expected = newtonSchulz(g, 6, 4, { batch: 2 });
    const same = newtonSchulz(g, 6, 4, { batch: 2, out: g });
    expect(same).toBe(g);
    expect(Array.from(same)).toEqual(Array.from(expected));
  });
});

// M3: the slow memory refreshes exactly every f steps (literal: M2 = β3 Σ chunk gradients, O2 = NS(M2));
// the update equals a hand-written Algorithm 1 step.
import { describe, expect, it } from 'vitest';
import { M3, newtonSchulzRef, paramFromArrays } from '../src/index.js';
import { rng } from './helpers.js';

describe('M3', () => {
  it('literal: M2 and O2 change only after steps f, 2f, ... and equal β3·Σ of the chunk gradients', () => {
    const r = rng(11);
    const f = 4,
      rows = 3,
      cols = 5,
      b3 = 0.7;
    const p = paramFromArrays(
      Float64Array.from({ length: rows * cols }, () => r()),
      new Float64Array(rows * cols),
      [rows, cols],
    );
    const opt = new M3([p], {
      mode: 'literal',
      frequency: f,
      betas: [0.9, 0.99, b3],
      lr: 1e-3,
      impl: 'reference',
    });
    const expectedM2 = new Float64Array(rows * cols);
    const chunk = new Float64Array(rows * cols);
    let prevM2 = new Float64Array(rows * cols);
    for (let t = 1; t <= 3 * f + 2; t++) {
      p.gradView!.forEach((_, i, g) => (g[i] = r()));
      p.gradView!.forEach((g, i) => (chunk[i] = chunk[i]! + g));
      opt.step();
      const s = opt.state.get(p)!;
      const M2 = s.M2 as Float64Array;
      if (t % f === 0) {
        chunk.forEach((c, i) => (expectedM2[i] = expectedM2[i]! + b3 * c));
        chunk.fill(0);
        expect(Array.from(M2)).not.toEqual(Array.from(prevM2));
        const o2 = newtonSchulzRef(expectedM2, rows, cols, 5);
        (s.O2 as Float64Array).forEach((v, i) => expect(v).toBeCloseTo(o2[i]!, 12));
      } else expect(Array.from(M2)).toEqual(Array.from(prevM2));
      M2.forEach((v, i) => expect(v).toBeCloseTo(expectedM2[i]!, 12));
      expect(s.slowUpdates ?? 0).toBe(Math.floor(t / f));
      prevM2 = M2.slice();
    }
  });

  it('literal: one step equals θ − η(NS(M1) + α·O2)/(sqrt(V)+ε) by hand', () => {
    const r = rng(12);
    const rows = 4,
      cols = 2,
      n = 8;
    const x0 = Float64Array.from({ length: n }, () => r());
    const g = Float64Array.from({ length: n }, () => r());
    const p = paramFromArrays(x0.slice(), g, [rows, cols]);
    const [b1, b2] = [0.8, 0.5];
    new M3([p], { mode: 'literal', betas: [b1, b2, 0.9], lr: 0.1, eps: 1e-3, impl: 'reference' }).step();
    const o1 = newtonSchulzRef(
      g.map((v) => b1 * v),
      rows,
      cols,
      5,
    );
    x0.forEach((x, i) =>
      expect(p.view[i]).toBeCloseTo(x - (0.1 * o1[i]!) / (Math.sqrt(b2 * g[i]! * g[i]!) + 1e-3), 12),
    );
  });
});

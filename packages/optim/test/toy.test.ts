// Eq. 53 toy: ψ(r,θ) = r² + k(r − θ + α sin(ωr))² from (−3.5, 2). With our constants (k 10, α 1, ω 2,
// lr 0.005, momentum 0.9, erase 0.5) delta momentum is far ahead for the first ~50 steps (no
// overshoot); plain momentum ends lower by step 100 — both directions are asserted as measured.
import { describe, expect, it } from 'vitest';
import { psi, runToy } from '../src/toy.js';

describe('Eq. 53 toy', () => {
  it('gradient of ψ matches finite differences', () => {
    const c = { k: 10, alpha: 1, omega: 2 };
    for (const [r, th] of [
      [-3.5, 2],
      [0.3, -1.2],
    ] as const) {
      const v = psi(r, th, c),
        e = 1e-6;
      expect(v.dr).toBeCloseTo((psi(r + e, th, c).f - psi(r - e, th, c).f) / (2 * e), 5);
      expect(v.dth).toBeCloseTo((psi(r, th + e, c).f - psi(r, th - e, c).f) / (2 * e), 5);
    }
  });
  it('delta momentum is lower than momentum over the first 50 steps; momentum is lower at step 200', () => {
    const m = runToy('momentum'),
      d = runToy('delta');
    for (const i of [9, 19, 49]) expect(d[i]).toBeLessThan(m[i]!);
    expect(m[199]).toBeLessThan(d[199]!);
    expect(m[199]).toBeLessThan(0.01 * m[0]!); // both actually converge
    expect(d[199]).toBeLessThan(0.01 * m[0]!);
  });
});

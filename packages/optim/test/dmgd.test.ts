// DMGD: the hand-derived inner gradient equals finite differences; the memory actually learns
// (inner loss falls on a noisy stream); zero-init W2 makes the first step plain SGD.
import { describe, expect, it } from 'vitest';
import { DMGD, memoryLossGrad, paramFromArrays } from '../src/index.js';
import { rng } from './helpers.js';

describe('DMGD memory', () => {
  it('inner gradient matches central finite differences (float64)', () => {
    const r = rng(21);
    const rows = 3,
      d = 5,
      h = 4;
    const W1 = Float64Array.from({ length: h * d }, () => r() * 0.5);
    const W2 = Float64Array.from({ length: d * h }, () => r() * 0.5);
    const k = Float64Array.from({ length: rows * d }, () => r());
    const v = Float64Array.from({ length: rows * d }, () => r());
    const g1 = new Float64Array(W1.length),
      g2 = new Float64Array(W2.length);
    memoryLossGrad(W1, W2, k, v, rows, d, h, g1, g2);
    const eps = 1e-6;
    for (const [W, G] of [
      [W1, g1],
      [W2, g2],
    ] as const)
      for (let i = 0; i < W.length; i++) {
        const x = W[i]!;
        W[i] = x + eps;
        const lp = memoryLossGrad(W1, W2, k, v, rows, d, h);
        W[i] = x - eps;
        const lm = memoryLossGrad(W1, W2, k, v, rows, d, h);
        W[i] = x;
        expect(G[i]).toBeCloseTo((lp - lm) / (2 * eps), 7);
      }
    expect(g1.some((x) => Math.abs(x) > 1e-3)).toBe(true);
  });

  it('first step is plain SGD (M = identity at start)', () => {
    const g = Float64Array.from([0.5, -1, 2, 0.25]);
    const x = Float64Array.from([1, 2, 3, 4]);
    const p = paramFromArrays(x, g, [2, 2]);
    new DMGD([p], { lr: 0.1 }).step();
    expect(Array.from(x)).toEqual([1, 2, 3, 4].map((v, i) => v - 0.1 * g[i]!));
  });

  it('the memory learns: on a noisy gradient stream its inner loss beats the identity map (momentum-free SGD)', () => {
    const r = rng(22);
    const rows = 8,
      d = 6;
    const mean = Float64Array.from({ length: rows * d }, () => r());
    const x = new Float64Array(rows * d);
    const g = new Float64Array(rows * d);
    const p = paramFromArrays(x, g, [rows, d]);
    const opt = new DMGD([p], { lr: 0, hidden: 16, innerLr: 0.05, memoryDecay: 1 });
    const norm = (a: Float64Array) => {
      const s = Math.sqrt(a.reduce((t, v) => t + v * v, 0) / a.length);
      return a.map((v) => v / s);
    };
    let prev = new Float64Array(0);
    let learned = 0,
      identity = 0;
    const zeroW1 = new Float64Array(16 * d),
      zeroW2 = new Float64Array(d * 16);
    for (let t = 0; t < 400; t++) {
      g.forEach((_, i) => (g[i] = mean[i]! + 0.8 * r()));
      opt.step();
      const cur = norm(g);
      if (t >= 300) {
        learned += opt.lastInnerLoss.get(p)!;
        identity += memoryLossGrad(zeroW1, zeroW2, prev, cur, rows, d, 16);
      }
      prev = cur;
    }
    expect(learned).toBeLessThan(0.85 * identity);
    // after training, W2 is no longer zero: the optimizer is not SGD in disguise
    expect((opt.state.get(p)!.W2 as Float64Array).some((w) => Math.abs(w) > 1e-3)).toBe(true);
  });
});

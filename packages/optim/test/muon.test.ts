// Muon: batched native path (same-shape matrices share one Newton–Schulz call) equals the
// per-parameter float64 reference; non-matrix params and `useMuon: false` groups are exactly AdamW;
// one step equals the published update written out by hand.
import { describe, expect, it } from 'vitest';
import { AdamW, Muon, newtonSchulzRef, paramFromArrays, type ArrayParam } from '../src/index.js';
import { rng } from './helpers.js';

function params(seed: number, shapes: number[][]): ArrayParam[] {
  const r = rng(seed);
  return shapes.map((s) => {
    const n = s.reduce((a, b) => a * b, 1);
    return paramFromArrays(
      Float64Array.from({ length: n }, () => r()),
      new Float64Array(n),
      s,
    );
  });
}

describe('Muon', () => {
  it('batched native == per-parameter reference over several same-shape matrices', () => {
    const shapes = [[5, 3], [5, 3], [3, 5], [5, 3], [4]];
    const a = params(1, shapes),
      b = params(1, shapes);
    const oa = new Muon(a, { impl: 'reference', lr: 0.05, weightDecay: 0.1 });
    const ob = new Muon(b, { impl: 'native', lr: 0.05, weightDecay: 0.1 });
    const r = rng(2);
    for (let t = 0; t < 6; t++) {
      a.forEach((p, i) => p.gradView!.forEach((_, j) => (b[i]!.gradView![j] = p.gradView![j] = r())));
      oa.step();
      ob.step();
    }
    a.forEach((p, i) => p.view.forEach((v, j) => expect(Math.abs(v - b[i]!.view[j]!)).toBeLessThan(1e-12)));
  });

  it('1-D params and useMuon: false groups take exactly AdamW (adam* options)', () => {
    const a = params(3, [[4], [3, 3]]),
      b = params(3, [[4], [3, 3]]);
    const muon = new Muon([{ params: [a[0]!] }, { params: [a[1]!], useMuon: false }], {
      adamLr: 0.01,
      adamWeightDecay: 0.1,
    });
    const adam = new AdamW(b, { lr: 0.01, betas: [0.9, 0.95], eps: 1e-10, weightDecay: 0.1 });
    const r = rng(4);
    for (let t = 0; t < 4; t++) {
      a.forEach((p, i) => p.gradView!.forEach((_, j) => (b[i]!.gradView![j] = p.gradView![j] = r())));
      muon.step();
      adam.step();
    }
    a.forEach((p, i) => expect(Array.from(p.view)).toEqual(Array.from(b[i]!.view)));
  });

  it('first step by hand: W − lr·NS5(lerp(g, (1−β)g, β))·sqrt(max(1, rows/cols))', () => {
    const [p] = params(5, [[6, 2]]);
    const w0 = p!.view.slice();
    const g = Float64Array.from(p!.gradView!, (_, i) => Math.sin(i + 1));
    p!.gradView!.set(g);
    new Muon([p!], { lr: 0.1, impl: 'native' }).step();
    const beta = 0.95;
    const buf = g.map((v) => (1 - beta) * v);
    const u = g.map((v, i) => v + (buf[i]! - v) * beta);
    const o = newtonSchulzRef(u, 6, 2, 5);
    w0.forEach((w, i) => expect(p!.view[i]).toBeCloseTo(w - 0.1 * o[i]! * Math.sqrt(3), 12));
  });
});

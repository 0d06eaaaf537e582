// Delta momentum: erase 0 is heavy-ball momentum; one step equals the formula m(αI − λĝᵀĝ) − ηg by hand.
import { describe, expect, it } from 'vitest';
import { DeltaMomentum, paramFromArrays, PreconditionedMomentum, rmsPreconditioner } from '../src/index.js';
import { rng } from './helpers.js';

describe('DeltaMomentum', () => {
  it('erase 0 equals preconditioned momentum with identity P (classic heavy ball)', () => {
    const r = rng(31);
    const x0 = Float64Array.from({ length: 6 }, () => r());
    const a = paramFromArrays(x0.slice(), new Float64Array(6), [2, 3]);
    const b = paramFromArrays(x0.slice(), new Float64Array(6), [2, 3]);
    const oa = new DeltaMomentum([a], { lr: 0.1, momentum: 0.8, erase: 0 });
    const ob = new PreconditionedMomentum([b], { lr: 0.1, momentum: 0.8 });
    for (let t = 0; t < 5; t++) {
      const g = Float64Array.from({ length: 6 }, () => r());
      a.gradView!.set(g);
      b.gradView!.set(g);
      oa.step();
      ob.step();
    }
    a.view.forEach((v, i) => expect(v).toBeCloseTo(b.view[i]!, 14));
  });

  it('two steps match the matrix formula written out with explicit ĝᵀĝ', () => {
    const r = rng(32);
    const rows = 2,
      cols = 3,
      n = 6;
    const x = Float64Array.from({ length: n }, () => r());
    const x0 = x.slice();
    const p = paramFromArrays(x, new Float64Array(n), [rows, cols]);
    const o = { lr: 0.1, momentum: 0.9, erase: 0.7 };
    const opt = new DeltaMomentum([p], o);
    let m = new Float64Array(n);
    const w = x0.slice();
    for (let t = 0; t < 2; t++) {
      const g = Float64Array.from({ length: n }, () => r());
      p.gradView!.set(g);
      opt.step();
      const nrm = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
      const gh = g.map((v) => v / nrm);
      const G = new Float64Array(cols * cols); // ĝᵀĝ [cols, cols]
      for (let a = 0; a < cols; a++)
        for (let b = 0; b < cols; b++)
          for (let i = 0; i < rows; i++)
            G[a * cols + b] = G[a * cols + b]! + gh[i * cols + a]! * gh[i * cols + b]!;
      const next = new Float64Array(n);
      for (let i = 0; i < rows; i++)
        for (let b = 0; b < cols; b++) {
          let acc = o.momentum * m[i * cols + b]!;
          for (let a = 0; a < cols; a++) acc -= o.erase * m[i * cols + a]! * G[a * cols + b]!;
          next[i * cols + b] = acc - o.lr * g[i * cols + b]!;
        }
      m = next;
      m.forEach((v, i) => (w[i] = w[i]! + v));
    }
    x.forEach((v, i) => expect(v).toBeCloseTo(w[i]!, 13));
  });
});

describe('PreconditionedMomentum', () => {
  it('rms preconditioner divides by the bias-corrected RMS of past gradients', () => {
    const p = paramFromArrays(Float64Array.from([0, 0]), Float64Array.from([2, -0.5]), [2]);
    new PreconditionedMomentum([p], {
      lr: 0.1,
      momentum: 0.9,
      preconditioner: rmsPreconditioner(0.99, 0),
    }).step();
    // first step: v̂ = g², so P(g) = sign(g); m = −0.1·sign(g)
    expect(p.view[0]).toBeCloseTo(-0.1, 14);
    expect(p.view[1]).toBeCloseTo(0.1, 14);
  });
});

/**
 * The Titans MLP-memory reference: one token's update equals −θ times the finite-difference gradient
 * of the inner loss ½‖W1 σ(W2 k) + k − v‖²; chunk-aligned pieces equal one call; chunk size matters;
 * and the hand-derived backward matches central finite differences for every input.
 */
import { describe, expect, it } from 'vitest';
import {
  silu,
  titansMlpBackwardReference,
  titansMlpReference,
  type TitansMlpInputs,
} from '../../src/kernels/index.js';
import { assertClose, closeStats, dot, finiteDiff, normalizeRows, randArray, rng } from './helpers.js';

function makeInputs(
  seed: number,
  B: number,
  T: number,
  H: number,
  D: number,
  Dh: number,
): TitansMlpInputs<Float64Array> {
  const r = rng(seed);
  const n = B * T * H;
  return {
    q: randArray(n * D, r),
    k: normalizeRows(randArray(n * D, r), D),
    v: randArray(n * D, r),
    theta: randArray(n, r, (u) => 0.3 * Math.abs(u)),
    eta: randArray(n, r, (u) => 0.5 + 0.4 * Math.abs(u)),
    alpha: randArray(n, r, (u) => 0.1 * Math.abs(u)),
    w1: randArray(B * H * D * Dh, r, (u) => 0.6 * u),
    w2: randArray(B * H * Dh * D, r, (u) => 0.6 * u),
    s1: randArray(B * H * D * Dh, r, (u) => 0.1 * u),
    s2: randArray(B * H * Dh * D, r, (u) => 0.1 * u),
    shape: { batch: B, seqLen: T, heads: H, dk: D, dv: D },
    hidden: Dh,
  };
}

describe('titansMlpReference', () => {
  it('one token with η = α = 0 and zero momentum moves W by −θ ∇(½‖M(k) − v‖²) (finite differences)', () => {
    const D = 3,
      Dh = 4;
    const x = makeInputs(1, 1, 1, 1, D, Dh);
    x.eta.fill(0);
    x.alpha.fill(0);
    x.s1!.fill(0);
    x.s2!.fill(0);
    const inner = () => {
      let s = 0;
      for (let i = 0; i < D; i++) {
        let y = x.k[i];
        for (let j = 0; j < Dh; j++) {
          let pj = 0;
          for (let m = 0; m < D; m++) pj += x.w2[j * D + m] * x.k[m];
          y += x.w1[i * Dh + j] * silu(pj);
        }
        s += 0.5 * (y - x.v[i]) ** 2;
      }
      return s;
    };
    const y = titansMlpReference(x, { chunkSize: 1 });
    const th = x.theta[0];
    const step1 = Float64Array.from(y.w1, (w, i) => (x.w1[i] - w) / th);
    const step2 = Float64Array.from(y.w2, (w, i) => (x.w2[i] - w) / th);
    assertClose('∇W1', step1, finiteDiff(inner, x.w1), { atol: 1e-8, ratio: 1e-9 });
    assertClose('∇W2', step2, finiteDiff(inner, x.w2), { atol: 1e-8, ratio: 1e-9 });
  });

  it('one long call equals chunk-aligned pieces with weights and momenta carried; C matters', () => {
    const x = makeInputs(2, 1, 12, 2, 3, 5);
    const C = 4;
    const whole = titansMlpReference(x, { chunkSize: C });
    const sl = (a: Float64Array, lo: number, hi: number, d: number) => a.slice(lo * 2 * d, hi * 2 * d);
    const part = (
      lo: number,
      hi: number,
      w: { w1: Float64Array; w2: Float64Array; s1: Float64Array; s2: Float64Array },
    ) =>
      titansMlpReference(
        {
          ...x,
          ...w,
          q: sl(x.q, lo, hi, 3),
          k: sl(x.k, lo, hi, 3),
          v: sl(x.v, lo, hi, 3),
          theta: sl(x.theta, lo, hi, 1),
          eta: sl(x.eta, lo, hi, 1),
          alpha: sl(x.alpha, lo, hi, 1),
          shape: { ...x.shape, seqLen: hi - lo },
        },
        { chunkSize: C },
      );
    const a = part(0, 8, { w1: x.w1, w2: x.w2, s1: x.s1!, s2: x.s2! });
    const b = part(8, 12, a);
    assertClose('o', [...a.o, ...b.o], whole.o, { atol: 1e-13, ratio: 0 });
    assertClose('w2', b.w2, whole.w2, { atol: 1e-13, ratio: 0 });
    const other = titansMlpReference(x, { chunkSize: 1 });
    expect(closeStats(other.o, whole.o).relRms).toBeGreaterThan(1e-4);
  });

  it('rejects dk != dv and a bad hidden size', () => {
    const x = makeInputs(3, 1, 2, 1, 3, 2);
    expect(() => titansMlpReference({ ...x, shape: { ...x.shape, dv: 4 } })).toThrow(/needs dk === dv/);
    expect(() => titansMlpReference({ ...x, hidden: 0 })).toThrow(/hidden must be a positive integer/);
  });
});

describe('titansMlpBackwardReference', () => {
  it.each([
    ['C3-T7 read after', 3, 7, true],
    ['C3-T7 read before', 3, 7, false],
    ['C1-T4 read after', 1, 4, true],
    ['C8-T5 (T<C)', 8, 5, true],
  ])('matches central finite differences (%s)', (_id, C, T, after) => {
    const x = makeInputs(10 + T, 1, T, 2, 3, 4);
    const opts = { chunkSize: C, readAfterWrite: after };
    const r = rng(9);
    const wO = randArray(x.q.length, r);
    const w = [
      randArray(x.w1.length, r),
      randArray(x.w2.length, r),
      randArray(x.w1.length, r),
      randArray(x.w2.length, r),
    ];
    const loss = () => {
      const y = titansMlpReference(x, opts);
      return dot(wO, y.o) + dot(w[0], y.w1) + dot(w[1], y.w2) + dot(w[2], y.s1) + dot(w[3], y.s2);
    };
    const g = titansMlpBackwardReference(x, { dO: wO, dW1: w[0], dW2: w[1], dS1: w[2], dS2: w[3] }, opts);
    const tol = { atol: 1e-7, ratio: 1e-8 };
    assertClose('dq', g.dq, finiteDiff(loss, x.q), tol);
    assertClose('dk', g.dk, finiteDiff(loss, x.k), tol);
    assertClose('dv', g.dv, finiteDiff(loss, x.v), tol);
    assertClose('dTheta', g.dTheta, finiteDiff(loss, x.theta), tol);
    assertClose('dEta', g.dEta, finiteDiff(loss, x.eta), tol);
    assertClose('dAlpha', g.dAlpha, finiteDiff(loss, x.alpha), tol);
    assertClose('dW1', g.dW1, finiteDiff(loss, x.w1), tol);
    assertClose('dW2', g.dW2, finiteDiff(loss, x.w2), tol);
    assertClose('dS1', g.dS1, finiteDiff(loss, x.s1!), tol);
    assertClose('dS2', g.dS2, finiteDiff(loss, x.s2!), tol);
  });
});

/**
 * The fused native Titans linear-memory kernels against the token-level reference with the same
 * chunk-start linearization: outputs, final M and S, and every gradient (q, k, v, θ, η, α, M0, S0)
 * over odd T, T < C, T % C != 0, zero/one gates, C in {1, 16, 64}, both read orders, float64
 * (tight) and float32 (looser); pieces with state carried; bad input.
 */
import { describe, expect, it } from 'vitest';
import { native } from '@nl/native';
import {
  titansLinearBackward,
  titansLinearBackwardReference,
  titansLinearForward,
  titansLinearReference,
  type TitansLinearInputs,
} from '../../src/kernels/index.js';
import { assertClose, f32, randArray, rng } from './helpers.js';
import { makeTitansInputs, type TitansGateMode } from './titans-inputs.js';

function toF32(x: TitansLinearInputs<Float64Array>): TitansLinearInputs<Float32Array> {
  return {
    ...x,
    q: f32(x.q),
    k: f32(x.k),
    v: f32(x.v),
    theta: f32(x.theta),
    eta: f32(x.eta),
    alpha: f32(x.alpha),
    m0: f32(x.m0!),
    s0: f32(x.s0!),
  };
}

const TOL64 = { atol: 1e-11, ratio: 1e-12 };
const TOL32 = { atol: 1e-5, ratio: 5e-5 };
const GRADS = ['dq', 'dk', 'dv', 'dTheta', 'dEta', 'dAlpha', 'dM0', 'dS0'] as const;

const cases: [string, number, number, number, number, number, number, boolean, TitansGateMode][] = [
  // id, B, T, H, Dk, Dv, C, readAfterWrite, gates
  ['B2-T37-H3-K8-V6-C16 after', 2, 37, 3, 8, 6, 16, true, 'random'],
  ['B2-T37-H3-K8-V6-C16 before', 2, 37, 3, 8, 6, 16, false, 'random'],
  ['B1-T23-H2-K5-V7-C1 (online GD)', 1, 23, 2, 5, 7, 1, true, 'random'],
  ['B1-T150-H2-K16-V12-C64', 1, 150, 2, 16, 12, 64, true, 'random'],
  ['B1-T5-H2-K7-V5-C16 (T<C)', 1, 5, 2, 7, 5, 16, false, 'random'],
  ['B1-T64-H1-K8-V8-C64 (T=C)', 1, 64, 1, 8, 8, 64, true, 'random'],
  ['alpha=0', 1, 33, 2, 6, 5, 16, true, 'alpha0'],
  ['alpha=1', 1, 33, 2, 6, 5, 16, true, 'alpha1'],
  ['eta=0', 1, 33, 2, 6, 5, 16, false, 'eta0'],
  ['theta=0', 1, 33, 2, 6, 5, 16, true, 'theta0'],
  ['mixed 0/1 gates', 2, 41, 2, 6, 5, 16, true, 'mixed'],
];

describe.each(cases)('titansLinear native vs reference: %s', (_id, B, T, H, dk, dv, C, after, gates) => {
  const x = makeTitansInputs(T * 3 + dv, B, T, H, dk, dv, gates);
  const opts = { chunkSize: C, readAfterWrite: after };
  const r = rng(11);
  const dO = randArray(B * T * H * dv, r);
  const dM = randArray(B * H * dv * dk, r);
  const dS = randArray(B * H * dv * dk, r);
  const ref = titansLinearReference(x, opts);
  const gref = titansLinearBackwardReference(x, { dO, dM, dS }, opts);

  it('float64: outputs, final states and every gradient', () => {
    const y = titansLinearForward(x, opts);
    assertClose('o', y.o, ref.o, TOL64);
    assertClose('m', y.m, ref.m, TOL64);
    assertClose('s', y.s, ref.s, TOL64);
    const g = titansLinearBackward(x, { dO, dM, dS }, opts);
    for (const name of GRADS) assertClose(name, g[name], gref[name], TOL64);
  });

  it('float32: outputs, final states and every gradient', () => {
    const x32 = toF32(x);
    const y = titansLinearForward(x32, opts);
    expect(y.o).toBeInstanceOf(Float32Array);
    assertClose('o', y.o, ref.o, TOL32);
    assertClose('m', y.m, ref.m, TOL32);
    assertClose('s', y.s, ref.s, TOL32);
    const g = titansLinearBackward(x32, { dO: f32(dO), dM: f32(dM), dS: f32(dS) }, opts);
    for (const name of GRADS) assertClose(name, g[name], gref[name], TOL32);
  });
});

describe('titansLinear native: mini-batch semantics', () => {
  it('at D = 64 matches the reference for C = 1, 16, 64 (and the results differ between C)', () => {
    const x = makeTitansInputs(5, 1, 100, 2, 64, 64);
    const outs = [1, 16, 64].map((C) => {
      const y = titansLinearForward(x, { chunkSize: C });
      const ref = titansLinearReference(x, { chunkSize: C });
      assertClose(`o C=${C}`, y.o, ref.o, TOL64);
      assertClose(`m C=${C}`, y.m, ref.m, TOL64);
      return y.o;
    });
    expect(outs[0][outs[0].length - 1]).not.toBeCloseTo(outs[2][outs[2].length - 1], 6);
  });

  it('one long call equals chunk-aligned pieces with M and S carried', () => {
    const x = makeTitansInputs(6, 1, 48, 2, 4, 3);
    const C = 16;
    const whole = titansLinearForward(x, { chunkSize: C });
    const piece = (lo: number, hi: number, m0: Float64Array, s0: Float64Array) => {
      const sl = (a: Float64Array, d: number) => a.slice(lo * 2 * d, hi * 2 * d);
      return titansLinearForward(
        {
          q: sl(x.q, 4),
          k: sl(x.k, 4),
          v: sl(x.v, 3),
          theta: sl(x.theta, 1),
          eta: sl(x.eta, 1),
          alpha: sl(x.alpha, 1),
          m0,
          s0,
          shape: { ...x.shape, seqLen: hi - lo },
        },
        { chunkSize: C },
      );
    };
    const a = piece(0, 16, x.m0!, x.s0!);
    const b = piece(16, 48, a.m, a.s);
    assertClose('o', [...a.o, ...b.o], whole.o, TOL64);
    assertClose('m', b.m, whole.m, TOL64);
    assertClose('s', b.s, whole.s, TOL64);
  });

  it('T = 0 returns the initial states; the backward passes dM and dS through', () => {
    const x = makeTitansInputs(9, 1, 0, 2, 3, 2);
    const y = titansLinearForward(x, { chunkSize: 4 });
    assertClose('m', y.m, x.m0!, { atol: 0, ratio: 0 });
    assertClose('s', y.s, x.s0!, { atol: 0, ratio: 0 });
    const dM = randArray(12, rng(2)),
      dS = randArray(12, rng(3));
    const g = titansLinearBackward(x, { dO: new Float64Array(0), dM, dS }, { chunkSize: 4 });
    assertClose('dM0', g.dM0, dM, { atol: 0, ratio: 0 });
    assertClose('dS0', g.dS0, dS, { atol: 0, ratio: 0 });
  });

  it('without m0/s0 starts from zeros', () => {
    const x = makeTitansInputs(7, 1, 9, 1, 3, 3);
    const zeros = { ...x, m0: new Float64Array(9), s0: new Float64Array(9) };
    const a = titansLinearForward({ ...x, m0: undefined, s0: undefined }, { chunkSize: 4 });
    const b = titansLinearReference(zeros, { chunkSize: 4 });
    assertClose('o', a.o, b.o, TOL64);
  });
});

describe('titansLinear native: bad input', () => {
  const x = makeTitansInputs(8, 1, 6, 2, 4, 3);
  it('names mismatched head dims, non-finite gates and chunk size 0', () => {
    expect(() => titansLinearForward({ ...x, shape: { ...x.shape, dv: 4 } })).toThrow(
      /nl\.titansLinearForward: v must have 48 elements for shape \[1, 6, 2, 4\]/,
    );
    const theta = Float64Array.from(x.theta);
    theta[11] = -Infinity;
    expect(() => titansLinearForward({ ...x, theta })).toThrow(/theta\[0, 5, 1\] is not finite/);
    expect(() => titansLinearForward(x, { chunkSize: 0 })).toThrow(
      /chunkSize must be a positive integer, got 0/,
    );
  });
  it('the addon checks its own arguments too (struct fields, named in every error)', () => {
    const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
    const o = new Float64Array(B * T * H * dv);
    const mOut = new Float64Array(B * H * dv * dk);
    const sOut = new Float64Array(B * H * dv * dk);
    const eta = Float64Array.from(x.eta);
    eta[1] = NaN;
    const arrays = { q: x.q, k: x.k, v: x.v, theta: x.theta, eta: x.eta, alpha: x.alpha, o, mOut, sOut };
    const dims = { batch: B, seqLen: T, heads: H, dk, dv, chunkSize: 4, readAfterWrite: true };
    expect(() => native.titansLinearForward({ ...arrays, eta }, dims)).toThrow(
      /nl\.titansLinearForward: eta\[0, 0, 1\] is not finite/,
    );
    expect(() => native.titansLinearForward(arrays, { ...dims, chunkSize: 0 })).toThrow(
      /dims\.chunkSize must be an integer >= 1, got 0/,
    );
    expect(() => native.titansLinearForward({ ...arrays, m0: new Float64Array(3) }, dims)).toThrow(
      /arrays\.m0 must have 24 elements/,
    );
    const { readAfterWrite: _r, ...noRaw } = dims;
    expect(() => native.titansLinearForward(arrays, noRaw as typeof dims)).toThrow(
      /dims\.readAfterWrite is missing \(expected a boolean\)/,
    );
  });
});

/**
 * The native Titans MLP-memory kernels against the token-level reference: outputs, final weights
 * and momenta, and every gradient, over odd T, T < C, C in {1, 16, 64}, both read orders, float64
 * (tight) and float32 (looser); bad input.
 */
import { describe, expect, it } from 'vitest';
import {
  titansMlpBackward,
  titansMlpBackwardReference,
  titansMlpForward,
  titansMlpReference,
  type TitansMlpInputs,
} from '../../src/kernels/index.js';
import { assertClose, f32, normalizeRows, randArray, rng } from './helpers.js';

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
    w1: randArray(B * H * D * Dh, r, (u) => 0.5 * u),
    w2: randArray(B * H * Dh * D, r, (u) => 0.5 * u),
    s1: randArray(B * H * D * Dh, r, (u) => 0.1 * u),
    s2: randArray(B * H * Dh * D, r, (u) => 0.1 * u),
    shape: { batch: B, seqLen: T, heads: H, dk: D, dv: D },
    hidden: Dh,
  };
}

const TOL64 = { atol: 1e-11, ratio: 1e-12 };
const TOL32 = { atol: 1e-5, ratio: 5e-5 };
const GRADS = ['dq', 'dk', 'dv', 'dTheta', 'dEta', 'dAlpha', 'dW1', 'dW2', 'dS1', 'dS2'] as const;

describe.each([
  ['B2-T37-H2-D6-Dh10-C16 after', 2, 37, 2, 6, 10, 16, true],
  ['B1-T37-H2-D6-Dh10-C16 before', 1, 37, 2, 6, 10, 16, false],
  ['B1-T23-H1-D5-Dh7-C1', 1, 23, 1, 5, 7, 1, true],
  ['B1-T100-H2-D8-Dh16-C64', 1, 100, 2, 8, 16, 64, true],
  ['B1-T5-H2-D4-Dh6-C16 (T<C)', 1, 5, 2, 4, 6, 16, false],
] as [string, number, number, number, number, number, number, boolean][])(
  'titansMlp native vs reference: %s',
  (_id, B, T, H, D, Dh, C, after) => {
    const x = makeInputs(T + D, B, T, H, D, Dh);
    const opts = { chunkSize: C, readAfterWrite: after };
    const r = rng(3);
    const g = {
      dO: randArray(x.q.length, r),
      dW1: randArray(x.w1.length, r),
      dW2: randArray(x.w2.length, r),
      dS1: randArray(x.w1.length, r),
      dS2: randArray(x.w2.length, r),
    };
    const ref = titansMlpReference(x, opts);
    const gref = titansMlpBackwardReference(x, g, opts);
    it('float64: outputs, final states and every gradient', () => {
      const y = titansMlpForward(x, opts);
      for (const name of ['o', 'w1', 'w2', 's1', 's2'] as const) assertClose(name, y[name], ref[name], TOL64);
      const gr = titansMlpBackward(x, g, opts);
      for (const name of GRADS) assertClose(name, gr[name], gref[name], TOL64);
    });
    it('float32: outputs and every gradient', () => {
      const x32: TitansMlpInputs<Float32Array> = {
        ...x,
        q: f32(x.q), k: f32(x.k), v: f32(x.v), theta: f32(x.theta), eta: f32(x.eta), alpha: f32(x.alpha),
        w1: f32(x.w1), w2: f32(x.w2), s1: f32(x.s1!), s2: f32(x.s2!),
      }; // prettier-ignore
      const y = titansMlpForward(x32, opts);
      expect(y.o).toBeInstanceOf(Float32Array);
      assertClose('o', y.o, ref.o, TOL32);
      const g32 = { dO: f32(g.dO), dW1: f32(g.dW1), dW2: f32(g.dW2), dS1: f32(g.dS1), dS2: f32(g.dS2) };
      const gr = titansMlpBackward(x32, g32, opts);
      for (const name of GRADS) assertClose(name, gr[name], gref[name], TOL32);
    });
  },
);

describe('titansMlp native: T = 0', () => {
  it('returns the initial weights and passes the final-state gradients through', () => {
    const x = makeInputs(5, 1, 0, 2, 3, 2);
    const y = titansMlpForward(x);
    assertClose('w1', y.w1, x.w1, { atol: 0, ratio: 0 });
    assertClose('s2', y.s2, x.s2!, { atol: 0, ratio: 0 });
    const dW2 = randArray(x.w2.length, rng(1));
    const g = titansMlpBackward(x, { dO: new Float64Array(0), dW2 });
    assertClose('dW2', g.dW2, dW2, { atol: 0, ratio: 0 });
    assertClose('dW1', g.dW1, new Float64Array(x.w1.length), { atol: 0, ratio: 0 });
  });
});

describe('titansMlp native: bad input', () => {
  const x = makeInputs(4, 1, 3, 1, 3, 2);
  it('names the problem', () => {
    expect(() => titansMlpForward({ ...x, w2: new Float64Array(5) })).toThrow(
      /nl\.titansMlpForward: w2 must have 6 elements for shape \[1, 1, 2, 3\]/,
    );
    const alpha = Float64Array.from(x.alpha);
    alpha[1] = NaN;
    expect(() => titansMlpForward({ ...x, alpha })).toThrow(/alpha\[0, 1, 0\] is not finite/);
    expect(() => titansMlpForward(x, { chunkSize: 0 })).toThrow(
      /chunkSize must be a positive integer, got 0/,
    );
  });
});

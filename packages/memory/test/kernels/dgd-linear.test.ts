/**
 * Linear DGD through the fused delta-rule kernel against the literal DGD recurrence (forward, in
 * float64, chunk sizes 1/16/64) and against central finite differences of it (every gradient).
 */
import { describe, expect, it } from 'vitest';
import {
  dgdLinearBackward,
  dgdLinearForward,
  dgdLinearReference,
  type DgdLinearInputs,
} from '../../src/kernels/index.js';
import { assertClose, dot, f32, finiteDiff, normalizeRows, randArray, rng } from './helpers.js';

function makeInputs(
  seed: number,
  B: number,
  T: number,
  H: number,
  dk: number,
  dv: number,
): DgdLinearInputs<Float64Array> {
  const r = rng(seed);
  const n = B * T * H;
  return {
    q: randArray(n * dk, r),
    k: normalizeRows(randArray(n * dk, r), dk),
    v: randArray(n * dv, r),
    alpha: randArray(n, r, (u) => 0.7 + 0.3 * Math.abs(u)),
    eta: randArray(n, r, (u) => 0.4 * Math.abs(u)),
    w0: randArray(B * H * dv * dk, r, (u) => 0.5 * u),
    shape: { batch: B, seqLen: T, heads: H, dk, dv },
  };
}

describe('dgdLinear', () => {
  it.each([1, 16, 64])('fused (chunk %i) equals the literal DGD recurrence', (C) => {
    const x = makeInputs(C, 2, 45, 2, 6, 5);
    const want = dgdLinearReference(x);
    const got = dgdLinearForward(x, { chunkSize: C });
    assertClose('o', got.o, want.o, { atol: 1e-11, ratio: 1e-12 });
    assertClose('w', got.w, want.w, { atol: 1e-11, ratio: 1e-12 });
    const got32 = dgdLinearForward(
      { ...x, q: f32(x.q), k: f32(x.k), v: f32(x.v), alpha: f32(x.alpha), eta: f32(x.eta), w0: f32(x.w0!) },
      { chunkSize: C },
    );
    assertClose('o f32', got32.o, want.o, { atol: 1e-5, ratio: 5e-5 });
  });

  it('gradients match central finite differences of the literal recurrence', () => {
    const x = makeInputs(3, 1, 9, 2, 3, 4);
    const r = rng(4);
    const wO = randArray(x.v.length, r);
    const wW = randArray(x.w0!.length, r);
    const loss = () => {
      const y = dgdLinearReference(x);
      return dot(wO, y.o) + dot(wW, y.w);
    };
    const g = dgdLinearBackward(x, { dO: wO, dW: wW }, { chunkSize: 4 });
    const tol = { atol: 1e-7, ratio: 1e-8 };
    assertClose('dq', g.dq, finiteDiff(loss, x.q), tol);
    assertClose('dk', g.dk, finiteDiff(loss, x.k), tol);
    assertClose('dv', g.dv, finiteDiff(loss, x.v), tol);
    assertClose('dAlpha', g.dAlpha, finiteDiff(loss, x.alpha), tol);
    assertClose('dEta', g.dEta, finiteDiff(loss, x.eta), tol);
    assertClose('dW0', g.dW0, finiteDiff(loss, x.w0!), tol);
  });

  it('rejects α = 0 (no delta-rule mapping) with a clear error', () => {
    const x = makeInputs(5, 1, 4, 1, 3, 3);
    x.alpha[2] = 0;
    expect(() => dgdLinearForward(x)).toThrow(/nl\.dgdLinearForward: alpha must be non-zero/);
  });
});

describe('dgdLinear with the gradient at the chunk-start memory (Hope, §4.3)', () => {
  it.each([1, 4, 16])('fused (snapshot period %i) equals the literal recurrence', (C) => {
    const x = makeInputs(50 + C, 2, 37, 2, 6, 5);
    const opts = { gradientAt: 'snapshot' as const, chunkSize: C };
    const want = dgdLinearReference(x, opts);
    const got = dgdLinearForward(x, opts);
    assertClose('o', got.o, want.o, { atol: 1e-11, ratio: 1e-12 });
    assertClose('w', got.w, want.w, { atol: 1e-11, ratio: 1e-12 });
  });

  it('C = 1 snapshot is the current-state rule', () => {
    const x = makeInputs(61, 1, 12, 2, 4, 3);
    const a = dgdLinearReference(x, { gradientAt: 'snapshot', chunkSize: 1 });
    const b = dgdLinearReference(x);
    assertClose('o', a.o, b.o, { atol: 1e-13, ratio: 0 });
  });

  it('gradients match central finite differences of the literal recurrence', () => {
    const x = makeInputs(7, 1, 10, 2, 3, 4);
    const opts = { gradientAt: 'snapshot' as const, chunkSize: 4 };
    const r = rng(8);
    const wO = randArray(x.v.length, r);
    const wW = randArray(x.w0!.length, r);
    const loss = () => {
      const y = dgdLinearReference(x, opts);
      return dot(wO, y.o) + dot(wW, y.w);
    };
    const g = dgdLinearBackward(x, { dO: wO, dW: wW }, opts);
    const tol = { atol: 1e-7, ratio: 1e-8 };
    assertClose('dq', g.dq, finiteDiff(loss, x.q), tol);
    assertClose('dk', g.dk, finiteDiff(loss, x.k), tol);
    assertClose('dv', g.dv, finiteDiff(loss, x.v), tol);
    assertClose('dAlpha', g.dAlpha, finiteDiff(loss, x.alpha), tol);
    assertClose('dEta', g.dEta, finiteDiff(loss, x.eta), tol);
    assertClose('dW0', g.dW0, finiteDiff(loss, x.w0!), tol);
  });

  it('rejects an unknown gradientAt', () => {
    const x = makeInputs(9, 1, 3, 1, 2, 2);
    expect(() => dgdLinearForward(x, { gradientAt: 'later' as never })).toThrow(
      /gradientAt must be 'current' or 'snapshot'/,
    );
  });
});

/**
 * The Titans linear-memory reference: chunk size 1 equals plain online GD with momentum (written
 * independently here), larger chunks equal "all chunk gradients at the chunk-start state, then the
 * scan", pieces with state carried equal one call, and the backward matches finite differences.
 */
import { describe, expect, it } from 'vitest';
import {
  titansLinearBackwardReference,
  titansLinearReference,
  type TitansLinearInputs,
} from '../../src/kernels/index.js';
import { assertClose, closeStats, dot, finiteDiff, randArray, rng } from './helpers.js';
import { makeTitansInputs } from './titans-inputs.js';

/**
 * Independent literal version: per chunk, first every u_j = (M_{t'} k_j − v_j) k_jᵀ from the
 * chunk-start memory, then S and M by their recurrences. C = 1 is online GD.
 */
function literal(x: TitansLinearInputs<Float64Array>, C: number, after: boolean) {
  const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
  const o = new Float64Array(B * T * H * dv);
  const mat = (src: Float64Array, off: number) =>
    Array.from({ length: dv }, (_, i) => Array.from({ length: dk }, (_, p) => src[off + i * dk + p]));
  const finals: number[][][] = [];
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      let M = mat(x.m0!, (b * H + h) * dv * dk);
      let S = mat(x.s0!, (b * H + h) * dv * dk);
      for (let t0 = 0; t0 < T; t0 += C) {
        const rowsIn = Array.from({ length: Math.min(C, T - t0) }, (_, j) => (b * T + t0 + j) * H + h);
        const U = rowsIn.map((row) => {
          const kk = Array.from({ length: dk }, (_, p) => x.k[row * dk + p]);
          const err = M.map((Mi, i) => Mi.reduce((s, m, p) => s + m * kk[p], 0) - x.v[row * dv + i]);
          return err.map((ei) => kk.map((kp) => ei * kp));
        });
        rowsIn.forEach((row, j) => {
          const read = (W: number[][]) =>
            W.forEach((Wi, i) => (o[row * dv + i] = Wi.reduce((s, w, p) => s + w * x.q[row * dk + p], 0)));
          if (!after) read(M);
          S = S.map((Si, i) => Si.map((s, p) => x.eta[row] * s - x.theta[row] * U[j][i][p]));
          M = M.map((Mi, i) => Mi.map((m, p) => (1 - x.alpha[row]) * m + S[i][p]));
          if (after) read(M);
        });
      }
      finals.push(M, S);
    }
  return {
    o,
    m: finals.filter((_, i) => i % 2 === 0).flat(2),
    s: finals.filter((_, i) => i % 2 === 1).flat(2),
  };
}

const TOL = { atol: 1e-12, ratio: 1e-13 };

describe('titansLinearReference', () => {
  it.each([
    [1, true],
    [1, false],
    [4, true],
    [5, false],
    [64, true],
  ])(
    'chunk %i, readAfterWrite %s: equals the literal mini-batch definition (C = 1: online GD)',
    (C, after) => {
      const x = makeTitansInputs(C, 2, 13, 2, 4, 3);
      const got = titansLinearReference(x, { chunkSize: C, readAfterWrite: after });
      const want = literal(x, C, after);
      assertClose('o', got.o, want.o, TOL);
      assertClose('m', got.m, want.m, TOL);
      assertClose('s', got.s, want.s, TOL);
    },
  );

  it('chunk size is a hyperparameter: C = 1 and C = 4 give different outputs', () => {
    const x = makeTitansInputs(3, 1, 12, 1, 4, 4);
    const a = titansLinearReference(x, { chunkSize: 1 });
    const b = titansLinearReference(x, { chunkSize: 4 });
    expect(closeStats(a.o, b.o).relRms).toBeGreaterThan(1e-3);
  });

  it('one long call equals the sequence fed in chunk-aligned pieces with state carried', () => {
    const x = makeTitansInputs(4, 1, 20, 2, 3, 3);
    const C = 4;
    const whole = titansLinearReference(x, { chunkSize: C });
    const piece = (lo: number, hi: number, m0: Float64Array, s0: Float64Array) => {
      const sl = (a: Float64Array, d: number) => a.slice(lo * 2 * d, hi * 2 * d);
      return titansLinearReference(
        {
          q: sl(x.q, 3),
          k: sl(x.k, 3),
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
    const p1 = piece(0, 8, x.m0!, x.s0!);
    const p2 = piece(8, 20, p1.m, p1.s);
    assertClose('o', [...p1.o, ...p2.o], whole.o, TOL);
    assertClose('m', p2.m, whole.m, TOL);
    assertClose('s', p2.s, whole.s, TOL);
  });

  it('rejects bad input', () => {
    const x = makeTitansInputs(5, 1, 4, 1, 3, 2);
    expect(() => titansLinearReference(x, { chunkSize: 0 })).toThrow(
      /nl\.titansLinear: chunkSize must be a positive integer, got 0/,
    );
    expect(() => titansLinearReference({ ...x, m0: new Float64Array(7) })).toThrow(
      /m0 must have 6 elements for shape \[1, 1, 2, 3\]/,
    );
    const eta = Float64Array.from(x.eta);
    eta[2] = NaN;
    expect(() => titansLinearReference({ ...x, eta })).toThrow(/eta\[0, 2, 0\] is not finite/);
  });
});

describe('titansLinearBackwardReference', () => {
  it.each([
    ['C3-T7 read after', 3, 7, true],
    ['C3-T7 read before', 3, 7, false],
    ['C1-T5 read after', 1, 5, true],
    ['C8-T5 (T<C) read before', 8, 5, false],
  ])('matches central finite differences (%s)', (_id, C, T, after) => {
    const x = makeTitansInputs(20 + T, 2, T, 2, 3, 2);
    const r = rng(7);
    const wO = randArray(x.v.length, r);
    const wM = randArray(x.m0!.length, r);
    const wS = randArray(x.s0!.length, r);
    const opts = { chunkSize: C, readAfterWrite: after };
    const loss = () => {
      const y = titansLinearReference(x, opts);
      return dot(wO, y.o) + dot(wM, y.m) + dot(wS, y.s);
    };
    const g = titansLinearBackwardReference(x, { dO: wO, dM: wM, dS: wS }, opts);
    const tol = { atol: 1e-7, ratio: 1e-8 };
    assertClose('dq', g.dq, finiteDiff(loss, x.q), tol);
    assertClose('dk', g.dk, finiteDiff(loss, x.k), tol);
    assertClose('dv', g.dv, finiteDiff(loss, x.v), tol);
    assertClose('dTheta', g.dTheta, finiteDiff(loss, x.theta), tol);
    assertClose('dEta', g.dEta, finiteDiff(loss, x.eta), tol);
    assertClose('dAlpha', g.dAlpha, finiteDiff(loss, x.alpha), tol);
    assertClose('dM0', g.dM0, finiteDiff(loss, x.m0!), tol);
    assertClose('dS0', g.dS0, finiteDiff(loss, x.s0!), tol);
  });
});

/**
 * The gated-delta-rule reference against an independent matrix-form recurrence, and its
 * hand-derived backward against central finite differences of the forward (float64).
 */
import { describe, expect, it } from 'vitest';
import {
  deltaRuleBackwardReference,
  deltaRuleReference,
  type DeltaRuleInputs,
} from '../../src/kernels/index.js';
import { assertClose, dot, finiteDiff, normalizeRows, randArray, rng } from './helpers.js';

function makeInputs(
  seed: number,
  B: number,
  T: number,
  H: number,
  dk: number,
  dv: number,
): DeltaRuleInputs<Float64Array> {
  const r = rng(seed);
  const n = B * T * H;
  return {
    q: randArray(n * dk, r),
    k: normalizeRows(randArray(n * dk, r), dk),
    v: randArray(n * dv, r),
    alpha: randArray(n, r, (x) => 0.6 + 0.4 * Math.abs(x)),
    beta: randArray(n, r, (x) => Math.abs(x)),
    s0: randArray(B * H * dk * dv, r, (x) => 0.5 * x),
    shape: { batch: B, seqLen: T, heads: H, dk, dv },
  };
}

/** S_t = α (I − β k kᵀ) S + β k vᵀ with the matrices written out literally. */
function matrixForm(x: DeltaRuleInputs<Float64Array>): { o: Float64Array; state: Float64Array } {
  const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
  const o = new Float64Array(B * T * H * dv);
  const state = new Float64Array(B * H * dk * dv);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      let S = Array.from({ length: dk }, (_, i) =>
        Array.from({ length: dv }, (_, j) => x.s0![((b * H + h) * dk + i) * dv + j]),
      );
      for (let t = 0; t < T; t++) {
        const row = (b * T + t) * H + h;
        const kv = (i: number) => x.k[row * dk + i];
        const P = Array.from({ length: dk }, (_, i) =>
          Array.from(
            { length: dk },
            (_, j) => x.alpha[row] * ((i === j ? 1 : 0) - x.beta[row] * kv(i) * kv(j)),
          ),
        );
        S = P.map((Prow, i) =>
          Array.from(
            { length: dv },
            (_, j) => Prow.reduce((s, p, m) => s + p * S[m][j], 0) + x.beta[row] * kv(i) * x.v[row * dv + j],
          ),
        );
        for (let j = 0; j < dv; j++)
          o[row * dv + j] = S.reduce((s, Si, i) => s + Si[j] * x.q[row * dk + i], 0);
      }
      S.forEach((Si, i) => Si.forEach((sij, j) => (state[((b * H + h) * dk + i) * dv + j] = sij)));
    }
  return { o, state };
}

describe('deltaRuleReference', () => {
  it('matches the literal matrix recurrence', () => {
    const x = makeInputs(1, 2, 7, 3, 4, 5);
    const got = deltaRuleReference(x);
    const want = matrixForm(x);
    assertClose('o', got.o, want.o, { atol: 1e-13, ratio: 0 });
    assertClose('state', got.state, want.state, { atol: 1e-13, ratio: 0 });
  });

  it('with α = 1, β = 1 and unit keys writes v exactly (S k = v after the write)', () => {
    const x = makeInputs(2, 1, 1, 1, 4, 3);
    x.alpha.fill(1);
    x.beta.fill(1);
    const { state } = deltaRuleReference(x);
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let i = 0; i < 4; i++) s += state[i * 3 + j] * x.k[i];
      expect(s).toBeCloseTo(x.v[j], 12);
    }
  });

  it('rejects bad input with a clear error', () => {
    const x = makeInputs(3, 1, 4, 2, 3, 3);
    expect(() => deltaRuleReference({ ...x, k: new Float64Array(5) })).toThrow(
      /nl\.deltaRule: k must have 24 elements/,
    );
    const bad = Float64Array.from(x.alpha);
    bad[3] = NaN;
    expect(() => deltaRuleReference({ ...x, alpha: bad })).toThrow(/alpha\[0, 1, 1\] is not finite/);
    expect(() => deltaRuleReference({ ...x, shape: { ...x.shape, dk: 0 } })).toThrow(
      /shape\.dk must be a positive/,
    );
  });
});

describe('deltaRuleBackwardReference', () => {
  it.each([
    ['B2-T5-H2-K3-V4', 2, 5, 2, 3, 4],
    ['B1-T1-H1-K2-V2', 1, 1, 1, 2, 2],
  ])('matches central finite differences (%s)', (_id, B, T, H, dk, dv) => {
    const x = makeInputs(10 + T, B, T, H, dk, dv);
    const r = rng(99);
    const wO = randArray(B * T * H * dv, r);
    const wS = randArray(B * H * dk * dv, r);
    const loss = () => {
      const y = deltaRuleReference(x);
      return dot(wO, y.o) + dot(wS, y.state);
    };
    const g = deltaRuleBackwardReference(x, { dO: wO, dState: wS });
    const tol = { atol: 1e-7, ratio: 1e-8 };
    assertClose('dq', g.dq, finiteDiff(loss, x.q), tol);
    assertClose('dk', g.dk, finiteDiff(loss, x.k), tol);
    assertClose('dv', g.dv, finiteDiff(loss, x.v), tol);
    assertClose('dAlpha', g.dAlpha, finiteDiff(loss, x.alpha), tol);
    assertClose('dBeta', g.dBeta, finiteDiff(loss, x.beta), tol);
    assertClose('dS0', g.dS0, finiteDiff(loss, x.s0!), tol);
  });
});

describe('deltaRule reference with the snapshot correction', () => {
  it('C = 1 equals the plain rule with v − α S_{t−1}ᵀ k written literally', () => {
    const x = makeInputs(31, 1, 6, 2, 3, 4);
    const got = deltaRuleReference(x, { snapshot: true, chunkSize: 1 });
    // literal: with the snapshot at every token, δ = β(v − α a − α a) = β(v − 2α a)
    const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
    const S = Float64Array.from(x.s0!.subarray(0, dk * dv));
    const o: number[] = [];
    for (let t = 0; t < T; t++) {
      const row = t * H; // head 0
      const a = new Float64Array(dv);
      for (let i = 0; i < dk; i++) for (let j = 0; j < dv; j++) a[j] += S[i * dv + j] * x.k[row * dk + i];
      for (let i = 0; i < dk; i++)
        for (let j = 0; j < dv; j++) {
          const d = x.beta[row] * (x.v[row * dv + j] - 2 * x.alpha[row] * a[j]);
          S[i * dv + j] = x.alpha[row] * S[i * dv + j] + x.k[row * dk + i] * d;
        }
      for (let j = 0; j < dv; j++) {
        let s = 0;
        for (let i = 0; i < dk; i++) s += S[i * dv + j] * x.q[row * dk + i];
        o.push(s);
      }
    }
    const got0: number[] = [];
    for (let t = 0; t < T; t++) for (let j = 0; j < dv; j++) got0.push(got.o[t * H * dv + j]);
    assertClose('o head 0', got0, o, { atol: 1e-13, ratio: 0 });
    expect(B).toBe(1);
  });

  it.each([
    ['C3-T7', 3, 7],
    ['C1-T4', 1, 4],
    ['C8-T5', 8, 5],
  ])('backward matches central finite differences (%s)', (_id, C, T) => {
    const x = makeInputs(40 + T, 2, T, 2, 3, 4);
    const opts = { snapshot: true, chunkSize: C };
    const r = rng(98);
    const wO = randArray(x.v.length, r);
    const wS = randArray(x.s0!.length, r);
    const loss = () => {
      const y = deltaRuleReference(x, opts);
      return dot(wO, y.o) + dot(wS, y.state);
    };
    const g = deltaRuleBackwardReference(x, { dO: wO, dState: wS }, opts);
    const tol = { atol: 1e-7, ratio: 1e-8 };
    assertClose('dq', g.dq, finiteDiff(loss, x.q), tol);
    assertClose('dk', g.dk, finiteDiff(loss, x.k), tol);
    assertClose('dv', g.dv, finiteDiff(loss, x.v), tol);
    assertClose('dAlpha', g.dAlpha, finiteDiff(loss, x.alpha), tol);
    assertClose('dBeta', g.dBeta, finiteDiff(loss, x.beta), tol);
    assertClose('dS0', g.dS0, finiteDiff(loss, x.s0!), tol);
  });
});

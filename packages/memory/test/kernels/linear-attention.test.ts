/**
 * The delta-rule kernels without the erase term (`erase: false`): gated linear attention
 * S_t = α_t S_{t−1} + β_t k_t v_tᵀ. Reference vs a literal Hebbian memory (α = β = 1 is
 * M_t = M_{t−1} + v_t k_tᵀ, o_t = M_t q_t), reference backward vs finite differences, native vs
 * reference (outputs, state, every gradient) and chunk-size invariance.
 */
import { describe, expect, it } from 'vitest';
import {
  deltaRuleBackward,
  deltaRuleBackwardReference,
  deltaRuleForward,
  deltaRuleReference,
  type DeltaRuleInputs,
} from '../../src/kernels/index.js';
import { assertClose, dot, f32, finiteDiff, normalizeRows, randArray, rng } from './helpers.js';

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
    alpha: randArray(n, r, (u) => 0.8 + 0.2 * Math.abs(u)),
    beta: randArray(n, r, (u) => Math.abs(u)),
    s0: randArray(B * H * dk * dv, r, (u) => 0.5 * u),
    shape: { batch: B, seqLen: T, heads: H, dk, dv },
  };
}

const LA = { erase: false };
const TOL64 = { atol: 1e-11, ratio: 1e-12 };
const TOL32 = { atol: 1e-5, ratio: 5e-5 };
const GRADS = ['dq', 'dk', 'dv', 'dAlpha', 'dBeta', 'dS0'] as const;

describe('linear attention reference (erase: false)', () => {
  it('with α = β = 1 is the Hebbian memory M_t = M_{t−1} + v kᵀ, o = M q', () => {
    const x = makeInputs(1, 1, 9, 1, 3, 2);
    x.alpha.fill(1);
    x.beta.fill(1);
    const { o, state } = deltaRuleReference(x, LA);
    const M = Array.from({ length: 2 }, (_, i) => Array.from({ length: 3 }, (_, p) => x.s0![p * 2 + i])); // M = S0ᵀ
    const want: number[] = [];
    for (let t = 0; t < 9; t++) {
      for (let i = 0; i < 2; i++) for (let p = 0; p < 3; p++) M[i][p] += x.v[t * 2 + i] * x.k[t * 3 + p];
      for (let i = 0; i < 2; i++) want.push(M[i].reduce((s, m, p) => s + m * x.q[t * 3 + p], 0));
    }
    assertClose('o', o, want, { atol: 1e-13, ratio: 0 });
    assertClose(
      'state',
      state,
      [0, 1, 2].flatMap((p) => [M[0][p], M[1][p]]),
      { atol: 1e-13, ratio: 0 },
    );
  });

  it.each([
    ['plain', {}],
    ['with the snapshot correction, C = 3', { snapshot: true, chunkSize: 3 }],
  ])('backward matches central finite differences (%s)', (_id, extra) => {
    const x = makeInputs(2, 2, 7, 2, 3, 4);
    const opts = { ...LA, ...extra };
    const r = rng(3);
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

describe.each([
  ['B2-T37-H3-K8-V6-C16', 2, 37, 3, 8, 6, 16, false],
  ['B1-T23-H2-K5-V7-C1', 1, 23, 2, 5, 7, 1, false],
  ['B1-T150-H2-K16-V12-C64', 1, 150, 2, 16, 12, 64, false],
  ['B1-T5-H2-K7-V5-C16 (T<C)', 1, 5, 2, 7, 5, 16, false],
  ['alpha=0 C16', 1, 33, 2, 6, 5, 16, true],
] as [string, number, number, number, number, number, number, boolean][])(
  'linear attention native vs reference: %s',
  (_id, B, T, H, dk, dv, C, zeroAlpha) => {
    const x = makeInputs(T + dk, B, T, H, dk, dv);
    if (zeroAlpha) x.alpha.fill(0);
    const opts = { ...LA, chunkSize: C };
    const r = rng(4);
    const dO = randArray(B * T * H * dv, r);
    const dState = randArray(B * H * dk * dv, r);
    const ref = deltaRuleReference(x, opts);
    const gref = deltaRuleBackwardReference(x, { dO, dState }, opts);
    it('float64 and float32: outputs, final state and every gradient', () => {
      const y = deltaRuleForward(x, opts);
      assertClose('o', y.o, ref.o, TOL64);
      assertClose('state', y.state, ref.state, TOL64);
      const g = deltaRuleBackward(x, { dO, dState }, opts);
      for (const name of GRADS) assertClose(name, g[name], gref[name], TOL64);
      const x32 = {
        ...x,
        q: f32(x.q),
        k: f32(x.k),
        v: f32(x.v),
        alpha: f32(x.alpha),
        beta: f32(x.beta),
        s0: f32(x.s0!),
      };
      assertClose('o f32', deltaRuleForward(x32, opts).o, ref.o, TOL32);
      const g32 = deltaRuleBackward(x32, { dO: f32(dO), dState: f32(dState) }, opts);
      for (const name of GRADS) assertClose(`${name} f32`, g32[name], gref[name], TOL32);
    });
  },
);

describe('linear attention native: exact tiling', () => {
  it('does not depend on the chunk size, and differs from the delta rule', () => {
    const x = makeInputs(9, 1, 77, 2, 16, 16);
    const base = deltaRuleForward(x, { ...LA, chunkSize: 1 });
    for (const C of [16, 64])
      assertClose(`o C=${C}`, deltaRuleForward(x, { ...LA, chunkSize: C }).o, base.o, TOL64);
    const dr = deltaRuleForward(x, { chunkSize: 16 });
    expect(Math.abs(dr.o[dr.o.length - 1] - base.o[base.o.length - 1])).toBeGreaterThan(1e-6);
  });
});
